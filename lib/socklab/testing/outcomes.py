"""Checks on what the student's function raised: by type (isinstance), never by message text.

>>> def parse(text):
...     return int(text)
>>> type(raised(parse, "eighty")).__name__
'ValueError'
>>> raised(parse, "80") is None
True
>>> expect_raises(ValueError, parse, "80", ko="숫자가 아니면 ValueError", en="ValueError for non-numbers")
Traceback (most recent call last):
...
socklab.testing.messages.ExerciseFailed: ✗ 숫자가 아니면 ValueError
  ValueError for non-numbers
  parse('80') returned 80 instead of raising ValueError
"""
from __future__ import annotations

from typing import Any, Callable

from socklab.testing.limits import call_with_timeout
from socklab.testing.messages import ExerciseFailed, TimeLimit, _short, describe_exception, fail

__all__ = ["raised", "expect_raises"]

_NOTHING = object()


def _call(fn: Callable, args: tuple, timeout: float, kwargs: dict) -> tuple[Any, BaseException | None]:
    try:
        return call_with_timeout(fn, *args, timeout=timeout, **kwargs), None
    except TimeLimit:
        raise
    except ExerciseFailed as exc:
        if exc.student_error is None or type(exc.student_error) is NotImplementedError:
            raise
        return _NOTHING, exc.student_error


def raised(fn: Callable, *args: Any, timeout: float = 5.0, **kwargs: Any) -> BaseException | None:
    """Call ``fn(*args)`` with a time limit; return the exception it raised, or None if it returned."""
    return _call(fn, args, timeout, kwargs)[1]


def expect_raises(exc_type: type | tuple, fn: Callable, *args: Any, ko: str, en: str, timeout: float = 5.0,
                  hint_ko: str | None = None, hint_en: str | None = None) -> BaseException:
    """Fail with `ko` / `en` unless ``fn(*args)`` raises an instance of `exc_type` (a subclass counts)."""
    value, error = _call(fn, args, timeout, {})
    name = getattr(fn, "__name__", "fn")
    shown = ", ".join(_short.repr(a) for a in args)
    wanted = exc_type.__name__ if isinstance(exc_type, type) else " or ".join(t.__name__ for t in exc_type)
    if error is None:
        fail(ko, en, detail=f"{name}({shown}) returned {_short.repr(value)} instead of raising {wanted}",
             hint_ko=hint_ko, hint_en=hint_en)
    if not isinstance(error, exc_type):
        fail(ko, en, detail=f"{name}({shown}) raised {describe_exception(error)}, not {wanted}",
             hint_ko=hint_ko, hint_en=hint_en)
    return error

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

__all__ = ["raised", "expect_raises", "expect_call", "checked_call"]

_NOTHING = object()


def _call(fn: Callable, args: tuple, timeout: float, kwargs: dict,
          label: tuple[str, str, str | None, str | None] | None = None) -> tuple[Any, BaseException | None]:
    try:
        return call_with_timeout(fn, *args, timeout=timeout, **kwargs), None
    except TimeLimit as limit:
        if label is not None:   # say which check timed out, with its own hint (not a generic one)
            ko, en, hint_ko, hint_en = label
            raise TimeLimit(f"{ko}: {limit.ko}", f"{en}: {limit.en}", detail=limit.detail,
                            hint_ko=hint_ko, hint_en=hint_en) from None
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
    value, error = _call(fn, args, timeout, {}, (ko, en, hint_ko, hint_en))
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


def checked_call(fn: Callable, *args: Any, ko: str, en: str, timeout: float = 5.0, hint_ko: str | None = None,
                 hint_en: str | None = None) -> Any:
    """``fn(*args)`` with a time limit; an exception or running out of time fails naming this check
    (`ko` / `en`) with its hint. Returns what fn returned.

    >>> checked_call(len, "abc", ko="길이", en="length")
    3
    """
    value, error = _call(fn, args, timeout, {}, (ko, en, hint_ko, hint_en))
    if error is not None:
        name = getattr(fn, "__name__", "fn")
        failure = ExerciseFailed(f"{ko}: {name}()에서 예외가 발생했습니다", f"{en}: {name}() raised an exception",
                                 detail=describe_exception(error), hint_ko=hint_ko, hint_en=hint_en)
        failure.student_error = error
        raise failure
    return value


def expect_call(fn: Callable, *args: Any, want: Any, ko: str, en: str, timeout: float = 5.0,
                hint_ko: str | None = None, hint_en: str | None = None) -> Any:
    """Call ``fn(*args)`` with a time limit and fail unless it returns `want`. Every way of failing
    (a wrong value, an exception, running out of time) names this check (`ko` / `en`) and its hint.

    >>> expect_call(sorted, [3, 1, 2], want=[1, 2, 3], ko="정렬", en="sorting")
    [1, 2, 3]
    """
    value = checked_call(fn, *args, ko=ko, en=en, timeout=timeout, hint_ko=hint_ko, hint_en=hint_en)
    if value != want:
        detail = f"받은 값 / got:      {_short.repr(value)}\n기대한 값 / expected: {_short.repr(want)}"
        fail(ko, en, detail=detail, hint_ko=hint_ko, hint_en=hint_en)
    return value

"""Failure messages for grade cells: short, in Korean and English, with a hint, never the test source."""
from __future__ import annotations

import linecache
import os
import reprlib
import sysconfig
import time
import traceback
from types import FrameType, TracebackType
from typing import NoReturn

__all__ = ["ExerciseFailed", "TimeLimit", "fail", "check", "expect_equal", "strict_equal", "describe_exception",
           "student_frame", "where"]

_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = _short.maxtuple = _short.maxdict = 8


class ExerciseFailed(AssertionError):
    """An exercise check failed. ``str()`` is the whole message a student sees:

    >>> print(ExerciseFailed("응답이 비었습니다", "the reply was empty", hint_ko="sendall()을 불렀나요?",
    ...                      hint_en="did you call sendall()?"))
    ✗ 응답이 비었습니다
      the reply was empty
      힌트: sendall()을 불렀나요?
      hint: did you call sendall()?
    """

    def __init__(self, ko: str, en: str, *, hint_ko: str | None = None, hint_en: str | None = None,
                 detail: str | None = None) -> None:
        self.ko, self.en, self.hint_ko, self.hint_en, self.detail = ko, en, hint_ko, hint_en, detail
        #: the student's own exception when this failure wraps one (``isinstance(e.student_error, ValueError)``)
        self.student_error: BaseException | None = None
        self.at = time.monotonic()  # what the student's threads did after this is a consequence, not a cause
        super().__init__(self._text())

    @property
    def hint(self) -> str | None:
        parts = [h for h in (self.hint_ko, self.hint_en) if h]
        return " / ".join(parts) or None

    def _text(self) -> str:
        lines = [f"✗ {self.ko}", f"  {self.en}"]
        if self.detail:
            lines += [f"  {line}" for line in self.detail.splitlines()]
        if self.hint_ko:
            lines.append(f"  힌트: {self.hint_ko}")
        if self.hint_en:
            lines.append(f"  hint: {self.hint_en}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text()


#: how many checks ran since the last reset (the ✓ line of a passing test cell counts them)
progress = {"checks": 0}


def count_check() -> None:
    progress["checks"] += 1


class TimeLimit(ExerciseFailed):
    """The student's code did not finish in time (it was stopped, and its sockets closed)."""


def fail(ko: str, en: str, *, hint_ko: str | None = None, hint_en: str | None = None,
         detail: str | None = None) -> NoReturn:
    """Stop the check with a Korean + English message (and an optional hint)."""
    raise ExerciseFailed(ko, en, hint_ko=hint_ko, hint_en=hint_en, detail=detail)


def check(condition: object, ko: str, en: str, **hints: str | None) -> None:
    """Like ``assert condition``, but the failure says `ko` / `en` (plus ``hint_ko=``/``hint_en=``).

    Only plain values count as true (``True``, a non-empty str/list/…): an object that merely
    claims to be true, such as what a doctored ``__eq__`` returns, fails.

    >>> check(1 + 1 == 2, "덧셈이 틀렸습니다", "addition is wrong")
    """
    count_check()
    if not _plainly_true(condition):
        fail(ko, en, **hints)


def _plainly_true(value: object) -> bool:
    if type(value) is bool:
        return value
    if type(value) in _PLAIN:
        return bool(value)   # len() or != 0 of a builtin type: nothing the student can override
    return False


_PLAIN = (type(None), bool, int, float, str, bytes, list, tuple, dict)


def _canon(value: object, depth: int = 0) -> object:
    """A comparable form of plain data built only from builtin values, so comparing two of them
    never runs a method the student wrote. Non-plain values compare only to themselves."""
    t = type(value)
    if depth > 64:
        raise ValueError("data nested too deeply")
    if t is list or t is tuple:
        return (t.__name__, tuple(_canon(v, depth + 1) for v in value))
    if t is dict:
        return ("dict", frozenset((_canon(k, depth + 1), _canon(v, depth + 1)) for k, v in value.items()))
    if t in _PLAIN:
        return (t.__name__, value)
    return ("object", id(value))


def strict_equal(actual: object, expected: object) -> bool:
    """Equal values of exactly the same plain types, all the way down.

    >>> strict_equal({"port": 80, "ok": True}, {"ok": True, "port": 80})
    True
    >>> strict_equal(1, True), strict_equal(80.0, 80), strict_equal([1], (1,))
    (False, False, False)
    """
    if type(expected) not in _PLAIN:   # the test's own object (e.g. a scapy packet): its equality
        return type(actual) is type(expected) and expected == actual
    try:
        return _canon(actual) == _canon(expected)
    except (ValueError, TypeError, RecursionError):
        return False


def _shown(value: object) -> str:
    try:
        text = _short.repr(value)
    except Exception:  # noqa: BLE001 - a repr that raises still gets a line
        text = f"<{type(value).__name__}>"
    return text


def expect_equal(actual: object, expected: object, ko: str, en: str, **hints: str | None) -> None:
    """Fail with `ko` / `en` unless `actual` equals `expected`, with the same types (``True`` is
    not ``1``, a tuple is not a list, a ``str`` subclass is not a ``str``); shows both values.

    >>> expect_equal(b"hi", b"hi!", "응답이 다릅니다", "wrong reply")
    Traceback (most recent call last):
    ...
    socklab.testing.messages.ExerciseFailed: ✗ 응답이 다릅니다
      wrong reply
      받은 값 / got:      b'hi'
      기대한 값 / expected: b'hi!'
    """
    count_check()
    if not strict_equal(actual, expected):
        got, want = _shown(actual), _shown(expected)
        if got == want or type(actual) is not type(expected):
            got, want = f"{got} ({type(actual).__name__})", f"{want} ({type(expected).__name__})"
        detail = f"받은 값 / got:      {got}\n기대한 값 / expected: {want}"
        fail(ko, en, detail=detail, **hints)


_LIBRARY_DIRS = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {os.path.dirname(os.path.dirname(__file__)),
              *(sysconfig.get_paths().get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib"))}
    if p
)


def _is_student_file(filename: str) -> bool:
    if filename.startswith("<frozen") or filename.startswith("<string"):
        return False
    real = os.path.normcase(os.path.realpath(filename)) if not filename.startswith("<") else filename
    return not real.startswith(_LIBRARY_DIRS)


def student_frame(frames: list[tuple[str, int, str]]) -> tuple[str, int, str] | None:
    """The innermost (filename, line, function) that is not socklab, stdlib or site-packages."""
    for filename, lineno, func in reversed(frames):
        if _is_student_file(filename):
            return filename, lineno, func
    return None


def where(filename: str, lineno: int, func: str) -> str:
    """'줄 7 in serve: conn.recv(1024) / line 7 in serve' style location text."""
    code = linecache.getline(filename, lineno).strip()
    code = f": {code}" if code else ""
    return f"{func}() 줄/line {lineno}{code}"


def traceback_frames(tb: TracebackType | None) -> list[tuple[str, int, str]]:
    return [(f.filename, f.lineno or 0, f.name) for f in traceback.extract_tb(tb)]


def stack_frames(frame: FrameType | None) -> list[tuple[str, int, str]]:
    return [(f.filename, f.lineno or 0, f.name) for f in traceback.extract_stack(frame)]


def describe_exception(exc: BaseException) -> str:
    """One line: exception type, message and the student's line that raised it.

    >>> def student():
    ...     return int("eighty")
    >>> try:
    ...     student()
    ... except ValueError as e:
    ...     print(describe_exception(e))  # doctest: +ELLIPSIS
    ValueError: invalid literal for int() with base 10: 'eighty' (student() 줄/line 2...)
    """
    message = str(exc).splitlines()[0] if str(exc) else ""
    head = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    found = student_frame(traceback_frames(exc.__traceback__))
    # An exception raised in the student's process and rebuilt by the verifier carries its line.
    remote = getattr(exc, "__socklab_where__", None)
    if found:
        return f"{head} ({where(*found)})"
    return f"{head} ({remote})" if isinstance(remote, str) and remote else head

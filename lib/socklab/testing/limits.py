"""Time limits that work even when student code is blocked inside C (accept(), recv(), connect()).

A Python thread stuck in a system call cannot be interrupted, but the socket it waits on can be
shut down from outside. So we run the student's function in a daemon thread, remember every socket
created while it runs, and at the deadline shut those sockets down: the blocked call returns, the
thread ends, and the grade cell reports a clear failure instead of hanging the kernel.
"""
from __future__ import annotations

import ctypes
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from socklab.testing import cleanup
from socklab.testing.messages import (ExerciseFailed, TimeLimit, count_check, describe_exception, stack_frames,
                                      student_frame, where)

__all__ = ["call_with_timeout", "Run", "SocketTracker", "expect_raises"]

_lock = threading.Lock()
_active: list["SocketTracker"] = []
_local = threading.local()
_TRUE_INIT = socket.socket.__init__
while getattr(_TRUE_INIT, "__wrapped__", None) is not None:  # if another tool already wrapped it
    _TRUE_INIT = _TRUE_INIT.__wrapped__
_wrapped_init: Callable[..., None] = _TRUE_INIT
#: Set by the grading verifier: thread ident -> the student's line a call across the channel is at.
remote_where: Callable[[int], str | None] | None = None


def _tracking_init(self: socket.socket, *args: Any, **kwargs: Any) -> None:
    if getattr(_local, "inside", False):
        # Another wrapper (e.g. socklab.trace) called back into us: finish with the real __init__.
        _TRUE_INIT(self, *args, **kwargs)
        return
    _local.inside = True
    try:
        _wrapped_init(self, *args, **kwargs)
    finally:
        _local.inside = False
    if _active and not _is_socklab_thread():
        for tracker in list(_active):
            tracker.sockets.add(self)
    if cleanup.is_student_thread():
        cleanup.adopt(self)  # held until the cell's sweep: a socket never closed stays visible (and bound)


def _is_socklab_thread() -> bool:
    # socklab's own servers and reference clients manage their sockets; the student's thread and
    # any thread it starts do not, and those are the ones to clean up.
    name = threading.current_thread().name
    return name.startswith("socklab-") and not name.startswith("socklab-student")


_tracking_init.__wrapped__ = _TRUE_INIT  # type: ignore[attr-defined]


def _install_hook() -> None:
    # A no-op while nothing is tracked, so it can stay installed. Tools that wrap socket.__init__
    # themselves (socklab.trace) save and restore it; if one replaced it since, wrap that one
    # (the re-entrancy guard above keeps chains of wrappers finite).
    global _wrapped_init
    current = socket.socket.__init__
    if current is not _tracking_init:
        _wrapped_init = current
        socket.socket.__init__ = _tracking_init  # type: ignore[method-assign]


_install_hook()


class SocketTracker:
    """Collects every ``socket.socket`` created (in any thread, incl. accept()) while active."""

    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def __enter__(self) -> "SocketTracker":
        with _lock:
            _install_hook()
            _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            if self in _active:
                _active.remove(self)

    def open_sockets(self) -> list[socket.socket]:
        return [s for s in list(self.sockets) if s.fileno() != -1]


def _shutdown(sockets: Iterable[socket.socket]) -> None:
    # shutdown() (not close()) is what wakes a thread blocked in accept()/recv() on Linux.
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _close(sockets: Iterable[socket.socket]) -> None:
    for sock in sockets:
        try:
            sock.close()
        except OSError:
            pass


def _raise_in_thread(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    # Stops pure-Python busy loops (`while True: pass`) too; harmless if the thread already ended.
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))


def _display_name(fn: Any) -> str:
    """The name students know: for ``lambda host, port: fetch(host, port, "/")`` that is 'fetch'."""
    name = getattr(fn, "__name__", None) or type(fn).__name__
    if name == "<lambda>":
        code = getattr(fn, "__code__", None)
        names = (*code.co_names, *code.co_freevars) if code else ()
        return names[0] if names else "lambda"
    return name


_Stopped = cleanup.Stopped  # injected into a student thread that overran its time limit


class Run:
    """The student's function running in a daemon thread, with its sockets tracked.

    ``start()`` returns immediately; ``result(timeout)`` waits, returns the function's value or
    raises ExerciseFailed; ``stop()`` shuts down and closes its sockets (idempotent).
    """

    def __init__(self, fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, *,
                 sockets: Iterable[socket.socket] = (), name: str | None = None) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs or {}
        self.name = name or _display_name(fn)
        self.extra_sockets = list(sockets)
        self.tracker = SocketTracker()
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.on_done: Callable[[], None] | None = None
        self.started_at = 0.0
        self.thread = threading.Thread(target=self._main, name=f"socklab-student-{self.name}", daemon=True)

    def _main(self) -> None:
        try:
            self.value = self.fn(*self.args, **self.kwargs)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - everything the student raises is reported
            self.error = exc
        finally:
            self.tracker.__exit__()
            self.done.set()
            if self.on_done is not None:
                self.on_done()

    def start(self) -> "Run":
        if not callable(self.fn):
            raise ExerciseFailed(f"{self.fn!r}은(는) 함수가 아닙니다", f"{self.fn!r} is not a function",
                                 hint_ko="def로 정의한 함수 이름을 넘기세요 (괄호 없이)",
                                 hint_en="pass the function itself, without calling it (no parentheses)")
        count_check()
        cleanup.install_excepthook()
        self.tracker.__enter__()
        self.started_at = time.monotonic()
        self.thread.start()
        return self

    def stuck_at(self) -> str | None:
        """Where the student's thread is right now (its innermost line of student code)."""
        frame = sys._current_frames().get(self.thread.ident or -1)
        found = student_frame(stack_frames(frame)) if frame is not None else None
        if found is None and remote_where is not None and self.thread.ident is not None:
            return remote_where(self.thread.ident)   # the student's code runs in another process
        return where(*found) if found else None

    def stop(self, grace: float = 0.25, keep: object = None) -> None:
        """Unblock and end the thread: shut down its sockets, wait briefly, then close them
        (all but `keep`, e.g. a socket the function returned)."""
        sockets = [s for s in self.tracker.open_sockets() + self.extra_sockets if s is not keep]
        if not self.done.is_set():
            _shutdown(sockets)
            if not sockets or not self.done.wait(grace):
                _raise_in_thread(self.thread, _Stopped)
                self.done.wait(grace)
        if self.thread.ident is not None:
            self.thread.join(grace)  # done is set just before the thread ends: let it end
        self.tracker.__exit__()
        _close(sockets + [s for s in self.tracker.open_sockets() if s is not keep])

    def failure(self) -> ExerciseFailed:
        """The student's exception, as a one-line ExerciseFailed."""
        assert self.error is not None
        if isinstance(self.error, ExerciseFailed):
            return self.error
        if type(self.error) is NotImplementedError:
            # The untouched `raise NotImplementedError()` stub: say "not answered yet", not "crashed".
            failure = ExerciseFailed(f"{self.name}()를 아직 작성하지 않았습니다", f"{self.name}() is not written yet",
                                     detail=describe_exception(self.error),
                                     hint_ko="# YOUR CODE HERE 아래의 raise NotImplementedError()를 지우고 답을 쓰세요",
                                     hint_en="replace raise NotImplementedError() under # YOUR CODE HERE with your answer")
        else:
            failure = ExerciseFailed(f"{self.name}() 실행 중 예외가 발생했습니다", f"{self.name}() raised an exception",
                                     detail=describe_exception(self.error))
        failure.student_error = self.error
        return cleanup.fold_thread_errors(failure, since=self.started_at)

    def timed_out(self, timeout: float, **text: str | None) -> TimeLimit:
        here = self.stuck_at()
        limit = TimeLimit(text.get("ko") or f"{self.name}()이(가) {timeout:g}초 안에 끝나지 않았습니다",
                         text.get("en") or f"{self.name}() did not finish within {timeout:g} s",
                         detail=f"멈춘 곳 / stuck at: {here}" if here else None,
                         hint_ko=text.get("hint_ko") or "accept()/recv()에서 멈췄나요? 필요한 만큼만 accept()하고, "
                                 "recv()가 b''를 돌려주면(상대가 닫음) 읽기를 멈추세요",
                         hint_en=text.get("hint_en") or "stuck in accept()/recv()? accept only the clients you "
                                 "were asked for, and stop reading when recv() returns b'' (the peer closed)")
        return cleanup.fold_thread_errors(limit, since=self.started_at)

    def result(self, timeout: float, **text: str | None) -> Any:
        """Wait up to `timeout` s more; return fn's value or raise ExerciseFailed / TimeLimit.

        `text` may replace the time-limit message: ko=, en=, hint_ko=, hint_en=.
        """
        if not self.done.wait(timeout):
            failure = self.timed_out(timeout, **text)
            self.stop()
            raise failure
        if self.error is not None:
            self.stop()
            raise self.failure()
        self.tracker.__exit__()
        return self.value


def call_with_timeout(fn: Callable[..., Any], *args: Any, timeout: float = 5.0,
                      sockets: Iterable[socket.socket] = (), **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` but give up after `timeout` seconds with a clear message.

    Works on code blocked in accept()/recv(): sockets created by `fn` (plus `sockets`) are shut
    down at the deadline so the call returns. Exceptions from `fn` become ExerciseFailed with a
    one-line summary and the line of your code that raised them.

    >>> call_with_timeout(sum, [1, 2, 3], timeout=1)
    6
    """
    return Run(fn, args, kwargs, sockets=sockets).start().result(timeout)


def expect_raises(exc_type: type[BaseException] | tuple[type[BaseException], ...], fn: Callable[..., Any],
                  *args: Any, ko: str, en: str, timeout: float = 5.0, **kwargs: Any) -> BaseException:
    """Call ``fn(*args, **kwargs)`` and check that it raises `exc_type` (or a subclass: compared
    with isinstance, never by message text). Returns the student's exception.

    >>> expect_raises(ValueError, int, "eighty", ko="숫자가 아님", en="not a number")
    ValueError("invalid literal for int() with base 10: 'eighty'")
    """
    names = " or ".join(t.__name__ for t in (exc_type if isinstance(exc_type, tuple) else (exc_type,)))
    try:
        value = call_with_timeout(fn, *args, timeout=timeout, **kwargs)
    except TimeLimit:
        raise
    except ExerciseFailed as failure:
        error = failure.student_error
        if isinstance(error, exc_type):
            return error
        if error is None or type(error) is NotImplementedError:
            raise  # our own failure, or the untouched stub ("not written yet")
        raise ExerciseFailed(ko, en, detail=f"{names}를 기대했지만 / expected {names}, got: {describe_exception(error)}",
                             hint_ko=f"raise {names.split(' or ')[0]}(...)로 알리세요",
                             hint_en=f"signal it with raise {names.split(' or ')[0]}(...)") from None
    raise ExerciseFailed(ko, en, detail=f"예외 없이 {value!r}를 돌려줬습니다 / returned {value!r} instead of raising {names}",
                         hint_ko=f"이 경우에는 값을 돌려주지 말고 {names}를 일으키세요",
                         hint_en=f"in this case raise {names} instead of returning a value")

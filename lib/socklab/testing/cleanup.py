"""What the student's code leaves behind: threads it started, sockets it did not close, threads that died.

While a student function runs under :class:`socklab.testing.Run`, every thread it starts (and
every thread those start) is remembered, and so is every socket those threads create. Then:

* a thread that dies with an exception does not print the raw "Exception in thread" wall: the
  error is kept (``thread_errors()``) and folded into the ✗ message of the test cell;
* at the end of a test cell (or on ``sweep()``) threads still running are stopped and sockets
  still open are closed, and the cell says so: nothing keeps burning a core afterwards;
* a grade cell whose prompt forbids leftovers calls ``check_nothing_left()``, which fails.
"""
from __future__ import annotations

import ctypes
import socket
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field

from socklab.testing.messages import ExerciseFailed, describe_exception, stack_frames, student_frame, where

__all__ = ["ThreadError", "Leftovers", "thread_errors", "sweep", "check_nothing_left"]

_lock = threading.Lock()
_student_threads: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()
_started: list[threading.Thread] = []        # threads the student's code started, until swept
_held: list[socket.socket] = []               # sockets the student's code created, until swept
_errors: list["ThreadError"] = []
_MAX_HELD = 256                               # outside notebooks nobody sweeps: keep a bound


class Stopped(BaseException):
    """Injected into a student thread that has to stop (never shown to students)."""


@dataclass(frozen=True)
class ThreadError:
    """A student thread that ended with an exception: its name, the exception, one-line summary."""
    thread: str
    error: BaseException
    summary: str
    at: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        return f"스레드 {self.thread} 가 예외로 끝남 / thread {self.thread} died: {self.summary}"


@dataclass
class Leftovers:
    """What a sweep found still running or open (and stopped or closed)."""
    threads: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.threads or self.sockets)

    def text(self) -> str:
        parts = []
        if self.threads:
            parts.append(f"멈춘 스레드 / stopped threads: {', '.join(self.threads[:4])}")
        if self.sockets:
            parts.append(f"닫은 소켓 / closed sockets: {', '.join(self.sockets[:4])}")
        return "\n".join(parts)


def is_student_thread(thread: threading.Thread | None = None) -> bool:
    """Is `thread` (default: this one) running the student's code, or started by it?"""
    thread = thread or threading.current_thread()
    return thread.name.startswith("socklab-student") or thread in _student_threads


def adopt(sock: socket.socket) -> None:
    """Hold `sock` (created by student code) until the next sweep, so an unclosed one stays visible."""
    with _lock:
        _held.append(sock)
        if len(_held) > _MAX_HELD:
            old = _held.pop(0)
            _close(old)


# -- Thread.start and threading.excepthook -------------------------------------------------------
_TRUE_START = threading.Thread.start


_names: "weakref.WeakKeyDictionary[threading.Thread, str]" = weakref.WeakKeyDictionary()


def _tracking_start(self: threading.Thread) -> None:
    if is_student_thread():
        name = getattr(getattr(self, "_target", None), "__name__", None)
        with _lock:
            _student_threads.add(self)
            _started.append(self)
            _names[self] = f"{name}()" if name else self.name  # Thread.run deletes _target when it ends
    _TRUE_START(self)


_tracking_start.__wrapped__ = _TRUE_START  # type: ignore[attr-defined]
threading.Thread.start = _tracking_start  # type: ignore[method-assign]


def _excepthook(args: "threading.ExceptHookArgs") -> None:
    thread = args.thread
    if args.exc_type is Stopped:
        return  # we stopped it on purpose
    if thread is not None and is_student_thread(thread) and args.exc_value is not None:
        with _lock:
            if len(_errors) < 20:
                _errors.append(ThreadError(_display(thread), args.exc_value, describe_exception(args.exc_value)))
        return
    _next_hook(args)


def _display(thread: threading.Thread) -> str:
    return _names.get(thread) or thread.name


_next_hook = threading.excepthook


def install_excepthook() -> None:
    """Route uncaught exceptions of student threads to thread_errors() (others go on as before).

    Called whenever student code starts: tools such as pytest swap threading.excepthook per test.
    """
    global _next_hook
    if threading.excepthook is not _excepthook:
        _next_hook = threading.excepthook
        threading.excepthook = _excepthook


def thread_errors(*, since: float = 0.0, until: float | None = None, clear: bool = False) -> list[ThreadError]:
    """Exceptions that ended student threads (oldest first), optionally only those between two
    ``time.monotonic()`` instants; ``clear=True`` forgets all of them afterwards."""
    with _lock:
        found = [e for e in _errors if since <= e.at and (until is None or e.at <= until)]
        if clear:
            _errors.clear()
    return found


def fold_thread_errors(failure: ExerciseFailed, *, since: float = 0.0) -> ExerciseFailed:
    """Add the student threads' exceptions (from `since` until the failure) to `failure`'s detail,
    each once, instead of the raw "Exception in thread" traceback."""
    until = getattr(failure, "at", None)
    lines = [e.line() for e in thread_errors(since=since, until=until) if e.summary not in (failure.detail or "")]
    if lines:
        failure.detail = "\n".join(([failure.detail] if failure.detail else []) + lines[:3])
        if failure.hint_ko is None and failure.hint_en is None:
            failure.hint_ko = "스레드 안의 예외는 조용히 스레드만 끝냅니다: 그 함수를 따로 불러 확인해 보세요"
            failure.hint_en = "an exception inside a thread silently ends that thread: call its function directly to see it"
    return failure


# -- stopping what is left -----------------------------------------------------------------------
def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def _where(thread: threading.Thread) -> str:
    frame = sys._current_frames().get(thread.ident or -1)
    found = student_frame(stack_frames(frame)) if frame is not None else None
    return f"{_display(thread)} ({where(*found)})" if found else _display(thread)


def _sock_name(sock: socket.socket) -> str:
    try:
        host, port = sock.getsockname()[:2]
        return f"{host}:{port}"
    except OSError:
        return "socket"


def _raise_in(thread: threading.Thread) -> None:
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(Stopped))


def leftovers(grace: float = 0.0) -> Leftovers:
    """Student threads still running after `grace` s, and student sockets still open (nothing stopped)."""
    deadline = time.monotonic() + grace
    with _lock:
        threads, sockets = list(_started), list(_held)
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return Leftovers([_where(t) for t in threads if t.is_alive()],
                     [_sock_name(s) for s in sockets if s.fileno() != -1])


def sweep(grace: float = 0.2) -> Leftovers:
    """Stop the student's threads still running and close its sockets still open; say which.

    Threads get `grace` s to end on their own (a server thread whose listener was just closed);
    then sockets are shut down (that wakes a thread blocked in accept()/recv()), and a thread still
    running gets an exception injected (that stops a pure-Python busy loop).
    """
    found = leftovers(grace)
    with _lock:
        threads, sockets = list(_started), list(_held)
        _started.clear()
        _held.clear()
    open_ = [s for s in sockets if s.fileno() != -1]
    alive = [t for t in threads if t.is_alive()]
    if alive:
        for s in open_:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        for t in alive:
            t.join(max(0.0, deadline - time.monotonic()))
        for t in alive:
            _raise_in(t)
        deadline = time.monotonic() + grace
        for t in alive:
            t.join(max(0.0, deadline - time.monotonic()))
    for s in open_:
        _close(s)
    return found


def check_nothing_left(*, threads: bool = True, sockets: bool = True, grace: float = 0.5,
                       ko: str | None = None, en: str | None = None, hint_ko: str | None = None,
                       hint_en: str | None = None) -> None:
    """Fail (after stopping them) if the student's threads still run or its sockets are still open.

    For prompts that forbid leftovers ("join() your threads", "close the socket").
    """
    found = leftovers(grace)
    bad = Leftovers(found.threads if threads else [], found.sockets if sockets else [])
    if bad:
        sweep()
        raise ExerciseFailed(ko or "함수가 돌아온 뒤에도 남은 것이 있습니다",
                             en or "something of yours was still running or open after your function returned",
                             detail=bad.text(),
                             hint_ko=hint_ko or ("돌아오기 전에 시작한 스레드를 join()하고 만든 소켓을 close()하세요"),
                             hint_en=hint_en or "join() the threads you started and close() the sockets you made "
                                                "before returning")

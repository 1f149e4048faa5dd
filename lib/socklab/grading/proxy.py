"""In the verifier: the student's names as proxies that cross the data-only channel.

Calling a :class:`StudentFunction` sends its plain-data arguments (sockets as file descriptors) to
the agent in the student's kernel and waits for plain data back. A call that overruns its time
(or is stopped by :func:`socklab.testing.call_with_timeout`) kills the student's process, so a
hung answer costs that test; the verifier restarts the process before the next one.
"""
from __future__ import annotations

import builtins
import itertools
import os
import queue
import socket
import threading
import time
import weakref

from socklab.grading.wire import Channel, WireError, sockets_in
from socklab.testing.messages import ExerciseFailed, TimeLimit

__all__ = ["Student", "StudentFunction", "StudentGone", "RemoteError", "in_flight"]

#: thread ident -> (Student, call id) for calls waiting on the student right now
in_flight: dict[int, tuple["Student", int]] = {}


class StudentGone(ExerciseFailed):
    """The student's process ended (crash, os._exit, a limit) or was stopped after a time limit."""


class RemoteError(Exception):
    """An exception the student's code raised whose class is not a builtin one."""


#: Exception classes outside builtins that student code raises and tests catch by class.
_SOCKET_ERRORS = {"gaierror": socket.gaierror, "herror": socket.herror}


def _rebuild(info: dict) -> BaseException:
    """The student's exception as a fresh object of a class the verifier already has (builtins and
    socket's own errors), with errno/strerror for an OSError; any other class becomes a
    :class:`RemoteError` subclass of the same name."""
    name, message = str(info.get("type", "Exception")), str(info.get("message", ""))
    cls = None
    if info.get("builtin"):
        cls = _SOCKET_ERRORS.get(name) if info.get("module") == "socket" else getattr(builtins, name, None)
    exc = None
    if isinstance(cls, type) and issubclass(cls, Exception):
        code, text, filename = info.get("errno"), info.get("strerror"), info.get("filename")
        try:
            if issubclass(cls, OSError) and type(code) is int:
                text = text if type(text) is str else os.strerror(code)
                exc = cls(code, text, filename) if type(filename) is str else cls(code, text)
            else:
                exc = cls(message) if message else cls()
        except TypeError:
            exc = None
    if exc is None:
        exc = type(name, (RemoteError,), {"__module__": "student"})(message)
    exc.__socklab_where__ = info.get("where")
    return exc


#: verifier socket -> (Student, inode) while the student's process holds a copy of it
_holders: "weakref.WeakKeyDictionary[socket.socket, tuple[Student, int]]" = weakref.WeakKeyDictionary()
#: verifier socket -> inode, kept after close (accept() counts are asked for after the server closed)
_inodes: "weakref.WeakKeyDictionary[socket.socket, int]" = weakref.WeakKeyDictionary()
_shared_classes: "weakref.WeakKeyDictionary[type, type]" = weakref.WeakKeyDictionary()


def _shared_class(cls: type) -> type:
    """`cls` whose close() first has the student's process close its copy (see :meth:`Student.share`)."""
    if getattr(cls, "_socklab_shared", False):
        return cls
    made = _shared_classes.get(cls)
    if made is None:
        def close(self):
            entry = _holders.pop(self, None)
            if entry is not None and self.fileno() >= 0:
                entry[0].drop(entry[1])
            cls.close(self)

        made = type(cls.__name__, (cls,), {"__slots__": (), "close": close, "_socklab_shared": True,
                                           "__module__": cls.__module__, "__qualname__": cls.__qualname__})
        _shared_classes[cls] = made
    return made


class Student:
    """The verifier's end of the channel to one student kernel."""

    def __init__(self, sock: socket.socket, *, kill, call_timeout: float = 30.0):
        self.chan = Channel(sock)
        self.kill_process = kill
        self.call_timeout = call_timeout
        self.alive = True
        self.reason = ""
        self._ids = itertools.count(1)
        self._waiting: dict[int, queue.Queue] = {}
        self._shared: dict[int, weakref.WeakSet] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True, name="socklab-verifier-reader").start()

    def _read(self) -> None:
        while True:
            try:
                msg = self.chan.recv()
            except (EOFError, OSError, WireError) as exc:
                self._gone(f"the channel closed ({type(exc).__name__})")
                return
            if isinstance(msg, dict) and type(msg.get("closed")) is int:
                self._closed_there(msg["closed"])
            elif isinstance(msg, dict) and type(msg.get("id")) is int:
                with self._lock:
                    box = self._waiting.get(msg["id"])
                if box is not None:
                    box.put(msg)

    # -- sockets both processes hold ------------------------------------------------------
    def share(self, value) -> None:
        """The sockets in `value` now have a copy in the student's process. Make them act as one
        object in one process: whichever side closes first, the other side's copy closes too, so
        the student's close() (or the test's) is the last close and the peer sees the FIN."""
        for sock in sockets_in(value):
            try:
                inode = os.fstat(sock.fileno()).st_ino
                sock.__class__ = _shared_class(type(sock))
            except (OSError, TypeError):
                continue
            _holders[sock], _inodes[sock] = (self, inode), inode
            with self._lock:
                self._shared.setdefault(inode, weakref.WeakSet()).add(sock)

    def drop(self, inode: int) -> None:
        """Our copy is closing: have the student's process close its copy first."""
        with self._lock:
            self._shared.pop(inode, None)
        if self.alive and threading.current_thread().name != "socklab-verifier-reader":
            self.request("drop", inode=inode, timeout=2, kill_on_timeout=False)

    def _closed_there(self, inode: int) -> None:
        """The student's code closed its copy: close ours (only sockets we gave or were given)."""
        with self._lock:
            mine = list(self._shared.pop(inode, ()))
        for sock in mine:
            if _holders.pop(sock, None) is not None:
                with_base_close(sock)

    def _gone(self, reason: str) -> None:
        with self._lock:
            if self.alive:
                self.alive, self.reason = False, reason
            boxes = list(self._waiting.values())
        for box in boxes:
            box.put(None)

    def kill(self, reason: str) -> None:
        """Stop the student's process (and every call in flight)."""
        self._gone(reason)
        try:
            self.kill_process()
        finally:
            self.chan.close()

    def request(self, op: str, *, timeout: float | None = None, kill_on_timeout: bool = True, **fields):
        """Send one request and wait for its reply dict (None if the student is gone)."""
        rid = next(self._ids)
        box: queue.Queue = queue.Queue()
        with self._lock:
            if not self.alive:
                return None
            self._waiting[rid] = box
        me = threading.get_ident()
        if op == "call":
            in_flight[me] = (self, rid)
        try:
            self.chan.send({"op": op, "id": rid, **fields})
            deadline = time.monotonic() + (self.call_timeout if timeout is None else timeout)
            while True:
                # Short waits, so an exception injected into this thread (call_with_timeout's
                # deadline) lands here, and we stop the student on the way out.
                try:
                    return box.get(timeout=0.05)
                except queue.Empty:
                    if time.monotonic() > deadline:
                        if kill_on_timeout:
                            self.kill(f"{op} ran over its time limit")
                        return "timeout"
        except WireError:
            raise
        except OSError:
            self._gone("the channel closed")
            return None
        except BaseException:
            self.kill("the test stopped waiting for the student's code")
            raise
        finally:
            with self._lock:
                self._waiting.pop(rid, None)
            if op == "call":
                in_flight.pop(me, None)

    def names(self, wanted: list[str]) -> dict[str, str]:
        reply = self.request("names", names=list(wanted), timeout=10)
        found = reply.get("ok") if isinstance(reply, dict) else None
        if not isinstance(found, dict):
            return {}
        return {k: v for k, v in found.items() if type(k) is str and v in ("callable", "value")}

    def value(self, name: str):
        """The student's variable `name` as plain data (raises like the name lookup would)."""
        return self._outcome(name, self.request("get", name=name, timeout=10), value=True)

    def call(self, name: str, args: tuple, kwargs: dict, timeout: float | None = None):
        self.share([args, kwargs])
        reply = self.request("call", name=name, args=list(args), kwargs=kwargs, timeout=timeout)
        if isinstance(reply, dict) and "ok" in reply:
            self.share(reply["ok"])
        return self._outcome(name, reply, value=False)

    def where(self, call_id: int) -> str | None:
        reply = self.request("where", call=call_id, timeout=2, kill_on_timeout=False)
        ok = reply.get("ok") if isinstance(reply, dict) else None
        return ok if type(ok) is str else None

    def accepts(self, sock: socket.socket) -> int:
        try:
            inode = os.fstat(sock.fileno()).st_ino
        except OSError:
            inode = _inodes.get(sock)   # closed since (the student's server closed it on its way out)
            if inode is None:
                return 0
        reply = self.request("accepts", inode=inode, timeout=2, kill_on_timeout=False)
        ok = reply.get("ok") if isinstance(reply, dict) else None
        return ok if type(ok) is int and ok >= 0 else 0

    def release(self) -> None:
        """The test cell ended: the student's process closes every socket it was given."""
        with self._lock:
            held, self._shared = self._shared, {}
        for socks in held.values():
            for sock in list(socks):
                _holders.pop(sock, None)
        if self.alive:
            self.request("release", timeout=5)

    def _outcome(self, name: str, reply, *, value: bool):
        what = f"{name}()" if not value else name
        if reply == "timeout":
            raise TimeLimit(f"{what}이(가) {self.call_timeout:g}초 안에 끝나지 않아 학생 프로세스를 멈췄습니다",
                            f"{what} did not finish within {self.call_timeout:g} s; the student's process was stopped",
                            hint_ko="accept()/recv()에서 멈췄나요?", hint_en="stuck in accept()/recv()?")
        if not isinstance(reply, dict):
            raise StudentGone(f"{what} 실행 중 학생의 프로세스가 끝났습니다",
                              f"the student's process ended during {what} ({self.reason})",
                              hint_ko="os._exit(), 무한 재귀, 메모리 초과가 있나요?",
                              hint_en="os._exit(), endless recursion or too much memory?")
        if "ok" in reply:
            return reply["ok"]
        if "unplain" in reply:
            raise ExerciseFailed(f"{what}가 돌려준 값은 일반 데이터가 아닙니다",
                                 f"{what} returned something that is not plain data",
                                 detail=str(reply["unplain"])[:300],
                                 hint_ko="None/bool/int/float/str/bytes/list/tuple/dict만 돌려주세요",
                                 hint_en="return only None/bool/int/float/str/bytes/list/tuple/dict")
        info = reply.get("raised")
        raise _rebuild(info if isinstance(info, dict) else {})


class StudentFunction:
    """A function the student's cells defined, called across the channel."""

    def __init__(self, student: Student, name: str):
        self._student, self.__name__, self.__qualname__ = student, name, name

    def __call__(self, *args, **kwargs):
        return self._student.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


def with_base_close(sock: socket.socket) -> None:
    """Close `sock` without telling the student's process (it closed its copy already)."""
    try:
        socket.socket.close(sock)
    except OSError:
        pass


def where_for_thread(ident: int) -> str | None:
    """The student's line the proxy call made from thread `ident` is at (for time-limit messages)."""
    entry = in_flight.get(ident)
    return entry[0].where(entry[1]) if entry else None


def accepts_on(sock: socket.socket) -> int:
    """accept() calls the student's process made on (its copy of) `sock`."""
    return sum(s.accepts(sock) for s in list(_students) if s.alive)


_students: list[Student] = []

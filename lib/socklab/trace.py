"""See which socket calls your code makes: socket(), bind(), listen(), accept(), connect(), send(), recv(), close().

Wrap any code (a server, a client, both) in ``with trace() as t:``; afterwards ``print(t)`` shows
every call in order and ``t.figure()`` draws them as a sequence diagram with a Server lane and a
Client lane. Calls from every thread are recorded; only Internet sockets (IPv4/IPv6) count.

>>> from socklab.servers import echo_server
>>> from socklab.clients import round_trip
>>> with echo_server(name="doc-trace") as srv, trace() as t:
...     round_trip(srv.address, b"hi")
b'hi'
>>> t.ops("client")
['socket', 'connect', 'sendall', 'shutdown', 'recv', 'recv', 'close']
>>> t.ops("server")[:2]
['accept', 'recv']
"""
from __future__ import annotations

import socket
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

__all__ = ["trace", "Trace", "Call", "TraceError"]

_INET = (socket.AF_INET, socket.AF_INET6)
_WILDCARD = ("0.0.0.0", "::", "")
_state_lock = threading.Lock()
_active: "Trace | None" = None

# method name on socket.socket -> op name shown to students
_PATCHED = {"__init__": "socket", "bind": "bind", "listen": "listen", "accept": "accept", "connect": "connect",
            "connect_ex": "connect", "send": "send", "sendall": "sendall", "sendto": "sendto", "recv": "recv",
            "recv_into": "recv", "recvfrom": "recvfrom", "recvfrom_into": "recvfrom", "shutdown": "shutdown",
            "close": "close"}
_SENDS = ("send", "sendall", "sendto")
_RECVS = ("recv", "recvfrom")


class TraceError(RuntimeError):
    """trace() was used in a way it does not support (e.g. nested)."""


@dataclass(frozen=True)
class Call:
    """One recorded socket call.

    t: seconds since the trace began; thread: thread name; sock_id: stable number of the socket
    (#1, #2, ...); role: 'server', 'client' or '?'; op: the call; local / peer: (host, port) of
    the two ends when known; nbytes: bytes sent or received; result: short outcome.
    """

    t: float
    thread: str
    sock_id: int
    role: str
    op: str
    local: tuple | None
    peer: tuple | None
    nbytes: int | None
    result: str

    def row(self) -> str:
        def fmt(a):
            return f"{a[0]}:{a[1]}" if a else "-"
        nbytes = "" if self.nbytes is None else str(self.nbytes)
        return (f"{self.t * 1000:8.1f}  {self.thread[:14]:<14}  #{self.sock_id:<3} {self.role:<6}  {self.op:<8}  "
                f"{fmt(self.local):<21}  {fmt(self.peer):<21}  {nbytes:>6}  {self.result}")


def _addr(get) -> tuple | None:
    try:
        a = get()
    except OSError:
        return None
    return tuple(a[:2]) if isinstance(a, tuple) else None


class Trace:
    """The calls recorded by :func:`trace`: ``.calls``, ``.text()``, ``.ops(role)``, ``.figure()``, ``.show()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._raw: list[tuple] = []
        self._ids: "weakref.WeakKeyDictionary[socket.socket, int]" = weakref.WeakKeyDictionary()
        self._info: dict[int, dict[str, Any]] = {}
        self._saved: dict[str, Any] = {}
        self._start = 0.0
        self._recording = False

    # -- recording --------------------------------------------------------------------------
    def _sid(self, sock: socket.socket) -> int:
        with self._lock:
            sid = self._ids.get(sock)
            if sid is None:
                sid = self._ids[sock] = len(self._info) + 1
                self._info[sid] = {"type": sock.type, "ops": set()}
            return sid

    def _open(self, sock, op) -> list:
        """Reserve this call's place in the order now; its outcome is filled in later.

        Calls that start something (connect, send, close, ...) take their place when they begin,
        calls that wait (accept, recv) when they return: so a send always comes before the recv
        that got its bytes, whichever thread the scheduler ran first.
        """
        sid = self._sid(sock)
        row = [time.monotonic() - self._start, threading.current_thread().name, sid, op, None, None, None, "…"]
        with self._lock:
            self._info[sid]["ops"].add(op)
            if op in _SENDS or op in _RECVS:
                self._info[sid].setdefault("first_io", op)
            self._raw.append(row)
        return row

    def _fill(self, row: list, local, peer, nbytes, result) -> None:
        info = self._info[row[2]]
        with self._lock:
            if row[3] != "accept":  # accept's peer belongs to the new socket, not the listener
                # After the peer has gone the kernel forgets the addresses: show the last ones we knew.
                local = info["local"] = local or info.get("local")
                peer = info["peer"] = peer or info.get("peer")
            row[4:8] = [local, peer, nbytes, result]

    def _wrap(self, name: str, op: str, original):
        tracer = self
        early = name not in ("__init__", "accept") and op not in _RECVS

        def traced(sock, *args, **kwargs):
            if not tracer._recording or name != "__init__" and (sock.family not in _INET or sock.fileno() == -1):
                return original(sock, *args, **kwargs)
            before = (None, None) if name == "__init__" else (_addr(sock.getsockname), _addr(sock.getpeername))
            row = tracer._open(sock, op) if early else None
            try:
                out = original(sock, *args, **kwargs)
            except (BlockingIOError, InterruptedError):
                if row is not None:
                    row[7] = None  # a non-blocking "not yet" is not an event worth showing
                raise
            except Exception as exc:
                if name != "__init__":
                    result = "timeout" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
                    tracer._fill(row or tracer._open(sock, op), *before, None, result)
                raise
            tracer._after(sock, name, op, args, kwargs, out, before, row)
            return out

        traced.__name__ = name
        traced.__doc__ = getattr(original, "__doc__", None)
        traced.__wrapped__ = original  # lets other wrappers (socklab.testing) find the real method
        return traced

    def _after(self, sock, name, op, args, kwargs, out, before, row) -> None:
        if row is None and not self._recording:
            return  # a call that was still waiting when the block ended: it happened afterwards
        local, peer, nbytes, result = _addr(sock.getsockname), _addr(sock.getpeername), None, "ok"
        if name == "__init__":
            if kwargs.get("fileno") is not None or len(args) >= 4 and args[3] is not None or \
                    sock.family not in _INET:
                return  # a socket object wrapping an existing one (accept(), socketpair()) is not new
            result, local, peer = f"{'TCP' if sock.type == socket.SOCK_STREAM else 'UDP'} socket", None, None
        elif name == "accept":
            conn, addr = out
            self._sid(sock)  # number the listener before the socket it made
            cid = self._sid(conn)
            with self._lock:
                self._info[cid]["accepted"] = True
            peer, result = tuple(addr[:2]), f"new socket #{cid}"
        elif name in ("connect", "connect_ex"):
            if name == "connect_ex" and out:
                result = f"error {out}"
        elif op in _SENDS:
            nbytes = len(args[0]) if name == "sendall" else out
            if name == "sendto":
                peer = tuple(args[-1][:2])
        elif op in _RECVS:
            data = out[0] if name in ("recvfrom", "recvfrom_into") else out
            nbytes = data if isinstance(data, int) else len(data)
            if name in ("recvfrom", "recvfrom_into") and out[1]:
                peer = tuple(out[1][:2])
            result = "EOF" if nbytes == 0 and sock.type == socket.SOCK_STREAM else "ok"
        elif name in ("close", "shutdown"):
            local, peer = before
            if name == "shutdown":
                result = {socket.SHUT_RD: "SHUT_RD", socket.SHUT_WR: "SHUT_WR",
                          socket.SHUT_RDWR: "SHUT_RDWR"}.get(args[0] if args else kwargs.get("how"), "ok")
        self._fill(row or self._open(sock, op), local, peer, nbytes, result)

    def __enter__(self) -> "Trace":
        global _active
        with _state_lock:
            if _active is not None:
                raise TraceError("trace()는 한 번에 하나만 쓸 수 있습니다: 바깥 with 블록을 먼저 끝내세요.\n"
                                 "trace() is already recording: nested or simultaneous trace() blocks are not "
                                 "supported; finish the outer `with trace()` block first.")
            _active = self
            cls = socket.socket
            for name, op in _PATCHED.items():
                self._saved[name] = cls.__dict__.get(name)
                setattr(cls, name, self._wrap(name, op, getattr(cls, name)))
            self._start = time.monotonic()
            self._recording = True
        return self

    def __exit__(self, *exc) -> None:
        global _active
        with _state_lock:
            self._recording = False
            cls = socket.socket
            for name, saved in self._saved.items():
                if saved is None:
                    delattr(cls, name)  # it was inherited from _socket.socket: uncover it again
                else:
                    setattr(cls, name, saved)
            self._saved.clear()
            _active = None

    # -- reading ----------------------------------------------------------------------------
    def _role(self, sid: int) -> str:
        info = self._info[sid]
        ops = info["ops"]
        if info.get("accepted") or "listen" in ops or "accept" in ops:
            return "server"
        if "connect" in ops:
            return "client"
        if info["type"] == socket.SOCK_DGRAM:
            # UDP has no listen(): the side that bound, or that waited for the first datagram, serves
            first = info.get("first_io")
            return "server" if "bind" in ops or first in _RECVS else "client" if first in _SENDS else "?"
        return "?"

    @property
    def calls(self) -> list[Call]:
        """Every recorded call, in the order they happened."""
        with self._lock:
            raw = [tuple(r) for r in self._raw]
        return [Call(t, th, sid, self._role(sid), op, local, peer, n, res) for t, th, sid, op, local, peer, n, res
                in raw if res is not None]

    def ops(self, role: str | None = None) -> list[str]:
        """Op names in order, only for ``role`` ('server' / 'client') if given."""
        return [c.op for c in self.calls if role is None or c.role == role]

    def text(self) -> str:
        """The calls as a plain-text table."""
        head = (f"{'t (ms)':>8}  {'thread':<14}  {'sock':<4} {'role':<6}  {'call':<8}  {'local':<21}  "
                f"{'peer':<21}  {'bytes':>6}  result")
        return "\n".join([head, "-" * len(head)] + [c.row() for c in self.calls])

    __str__ = text

    def __repr__(self) -> str:
        return f"<Trace {len(self._raw)} call(s) on {len(self._info)} socket(s)>"

    def _repr_html_(self) -> str:
        import html
        return f"<pre>{html.escape(self.text())}</pre>"

    def figure(self, *, max_calls: int = 60, title: str | None = None):
        """A matplotlib Figure: Server and Client lanes, arrows for connect→accept, data and EOF.

        Labels are Korean and English when a Hangul font (fonts-nanum) is installed; `title`
        replaces the default title.
        """
        from socklab._figures import register_figure_display
        from socklab._trace_figure import draw
        register_figure_display()  # so a cell that ends in t.figure() shows the picture
        return draw(self.calls, max_calls=max_calls, title=title)

    def show(self, *, title: str | None = None) -> None:
        """Display the sequence diagram in a notebook (prints the text table elsewhere)."""
        from socklab._figures import show_figure
        show_figure(self.figure(title=title), self.text())


def trace() -> Trace:
    """Record the socket calls made inside a ``with`` block (all threads), e.g.::

        with trace() as t:
            my_client(host, port)
        print(t)            # table of calls
        t.show()            # sequence diagram

    Only one trace can record at a time.
    """
    return Trace()

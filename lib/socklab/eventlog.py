"""What a socklab server saw: one Event per listen/accept/recv/send/close/error/timeout.

A server's ``.log`` is an :class:`EventLog`. Show it in a notebook cell (it renders as a
table) or print ``log.text()``. The servers hand each handler a real socket whose recv/send
also write to the log (``_LoggedConn``), so any handler's traffic shows up without extra code.

>>> log = EventLog()
>>> log.add("accept", peer=("127.0.0.1", 50000))
>>> log.add("recv", peer=("127.0.0.1", 50000), nbytes=5, detail="b'hello'")
>>> log.connections, log.bytes_in, log.bytes_out
(1, 5, 0)
>>> [e.kind for e in log.events]
['accept', 'recv']
"""
from __future__ import annotations

import html
import socket
import threading
import time
from typing import Callable, NamedTuple

__all__ = ["Event", "EventLog", "KINDS"]

KINDS = ("listen", "accept", "recv", "send", "close", "error", "timeout")

# A chatty connection must not eat the kernel's memory; counters stay exact beyond this.
MAX_EVENTS = 20_000
PREVIEW = 40  # bytes of data kept per event
_EOF = "EOF: client finished sending"
# id(conn) -> (log, peer) for the connections a server is serving right now.
_conn_info: dict[int, tuple["EventLog", tuple]] = {}


class Event(NamedTuple):
    """One thing a server saw.

    t: seconds since the server started; kind: one of KINDS; peer: (host, port) of the client
    or None; nbytes: bytes moved (recv/send), else 0; detail: short human-readable note.
    """

    t: float
    kind: str
    peer: tuple | None
    nbytes: int
    detail: str

    def row(self) -> str:
        peer = f"{self.peer[0]}:{self.peer[1]}" if self.peer else "-"
        nbytes = str(self.nbytes) if self.kind in ("recv", "send") else ""
        return f"{self.t * 1000:9.1f}  {self.kind:<7}  {peer:<21}  {nbytes:>6}  {self.detail}"


def _detail(detail, nbytes: int) -> str:
    if isinstance(detail, str):
        return detail
    return repr(detail) + ("…" if nbytes > len(detail) else "")  # a bytes preview, formatted on demand


class EventLog:
    """Thread-safe, append-only list of :class:`Event` with running totals.

    ``events`` is a snapshot list; ``bytes_in`` / ``bytes_out`` count what clients sent to the
    server and what it sent back; ``connections`` counts accepted connections.
    """

    def __init__(self) -> None:
        self._start = time.monotonic()
        # Raw tuples, appended without a lock (list.append is atomic): logging sits on the server's
        # reply path, so it must cost well under a microsecond. Events and totals are built on read.
        self._raw: list[tuple] = []
        self._cond = threading.Condition()
        self._waiting = 0
        self._overflow: dict[str, list[int]] = {}  # kind -> [events, bytes] beyond MAX_EVENTS

    def add(self, kind: str, *, peer: tuple | None = None, nbytes: int = 0, detail: str = "") -> None:
        """Append one event (called by the server threads)."""
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; use one of {KINDS}")
        self._append(kind, peer, nbytes, detail)

    def _append(self, kind: str, peer, nbytes: int, detail) -> None:
        """Fast path for the servers; ``detail`` may be bytes (a preview of the data)."""
        if len(self._raw) < MAX_EVENTS:
            self._raw.append((time.monotonic() - self._start, kind, peer, nbytes, detail))
        else:
            with self._cond:
                counts = self._overflow.setdefault(kind, [0, 0])
                counts[0] += 1
                counts[1] += nbytes
        if self._waiting:
            with self._cond:
                self._cond.notify_all()

    def touch(self) -> None:
        """Wake up wait_for() callers without adding an event (the server's state changed)."""
        if self._waiting:
            with self._cond:
                self._cond.notify_all()

    def _count(self, kind: str, peer_only: bool = False) -> int:
        return (sum(1 for r in self._raw[:] if r[1] == kind and (r[2] or not peer_only))
                + self._overflow.get(kind, (0, 0))[0])

    def _bytes(self, kind: str) -> int:
        return sum(r[3] for r in self._raw[:] if r[1] == kind) + self._overflow.get(kind, (0, 0))[1]

    @property
    def bytes_in(self) -> int:
        """Bytes the server received from clients."""
        return self._bytes("recv")

    @property
    def bytes_out(self) -> int:
        """Bytes the server sent to clients."""
        return self._bytes("send")

    @property
    def connections(self) -> int:
        """Connections the server accepted."""
        return self._count("accept")

    @property
    def closed(self) -> int:
        """Client connections that are finished (closed by the server)."""
        return self._count("close", peer_only=True)

    @property
    def dropped(self) -> int:
        return sum(c[0] for c in self._overflow.values())

    @property
    def events(self) -> list[Event]:
        """A copy of the events so far, oldest first."""
        return [Event(t, kind, tuple(peer[:2]) if peer else None, n, _detail(d, n))
                for t, kind, peer, n, d in self._raw[:]]

    def of(self, kind: str) -> list[Event]:
        """Only the events of one kind, e.g. ``log.of("timeout")``."""
        return [e for e in self.events if e.kind == kind]

    def wait_for(self, predicate: Callable[["EventLog"], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` is true or ``timeout`` seconds pass; return the last answer."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiting += 1
            try:
                while True:
                    if predicate(self):
                        return True
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
            finally:
                self._waiting -= 1

    def __len__(self) -> int:
        return len(self._raw)

    def summary(self) -> str:
        return (f"{self.connections} connection(s), {self.bytes_in} B in, {self.bytes_out} B out, "
                f"{len(self.of('error'))} error(s), {len(self.of('timeout'))} timeout(s)")

    def text(self) -> str:
        """The log as a plain-text table (what ``print(server.log)`` shows)."""
        head = f"{'t (ms)':>9}  {'event':<7}  {'peer':<21}  {'bytes':>6}  detail"
        lines = [head, "-" * len(head)] + [e.row() for e in self.events]
        if self.dropped:
            lines.append(f"... {self.dropped} more event(s) not kept")
        lines.append(self.summary())
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return f"<EventLog {self.summary()}>"

    def _repr_html_(self) -> str:
        cells = []
        for e in self.events:
            peer = f"{e.peer[0]}:{e.peer[1]}" if e.peer else ""
            nbytes = str(e.nbytes) if e.kind in ("recv", "send") else ""
            cells.append(
                f"<tr class='socklab-{e.kind}'><td style='text-align:right'>{e.t * 1000:.1f}</td>"
                f"<td>{e.kind}</td><td>{html.escape(peer)}</td><td style='text-align:right'>{nbytes}</td>"
                f"<td style='text-align:left'><code>{html.escape(e.detail)}</code></td></tr>")
        return ("<table class='socklab-log'><thead><tr><th>t (ms)</th><th>event</th><th>peer</th>"
                "<th>bytes</th><th>detail</th></tr></thead><tbody>" + "".join(cells) +
                f"</tbody></table><p>{html.escape(self.summary())}</p>")


class _LoggedConn(socket.socket):
    """A real socket whose recv/send calls also land in the server's event log."""

    __slots__ = ()

    def _note(self, kind: str, nbytes: int, detail) -> None:
        info = _conn_info.get(id(self))
        if info:
            info[0]._append(kind, info[1], nbytes, detail)

    def _timed_out(self, op: str, exc: TimeoutError) -> None:
        exc._socklab_logged = True
        self._note("timeout", 0, f"{op}() waited {self.gettimeout()} s for the client")

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        try:
            data = super().recv(bufsize, flags)
        except TimeoutError as exc:
            self._timed_out("recv", exc)
            raise
        self._note("recv", len(data), data[:PREVIEW] if data else _EOF)
        return data

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        try:
            n = super().recv_into(buffer, nbytes, flags)
        except TimeoutError as exc:
            self._timed_out("recv_into", exc)
            raise
        self._note("recv", n, bytes(memoryview(buffer)[:min(n, PREVIEW)]) if n else _EOF)
        return n

    def send(self, data, flags: int = 0) -> int:
        try:
            n = super().send(data, flags)
        except TimeoutError as exc:
            self._timed_out("send", exc)
            raise
        self._note("send", n, bytes(data[:min(n, PREVIEW)]))
        return n

    def sendall(self, data, flags: int = 0) -> None:
        try:
            super().sendall(data, flags)
        except TimeoutError as exc:
            self._timed_out("sendall", exc)
            raise
        self._note("send", len(data), bytes(data[:PREVIEW]))

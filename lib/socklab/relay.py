"""A TCP relay that re-chunks the byte stream by a seeded schedule, so framing bugs fail every time.

Put it between a reference client and a server: every byte arrives, in order, but cut into the
pieces the schedule says (1-byte pieces, merged messages), with pauses that last until the receiver
has read the piece (the kernel's queue is watched: an event, not a guess about time)::

    with relay.Relay(server.address, seed=7) as r:
        clients.round_trip(r.address, b"hello")   # the server sees b"h", b"el", b"lo", ...
    print(r.text()); r.figure()

The same seed gives the same cuts: ``Schedule(7).sizes(5)`` is always the same list.

>>> Schedule(1, mode="bytes").sizes(4)
[1, 1, 1, 1]
>>> Schedule(3).sizes(6) == Schedule(3).sizes(6)
True
"""
from __future__ import annotations

import random
import socket
import threading
import time
from typing import NamedTuple

from socklab import tcpstate

__all__ = ["Schedule", "Relay", "RelayEvent", "MODES"]

#: "bytes": every byte alone; "merge": everything that is there, in one write; "mixed": both, by seed
MODES = ("bytes", "merge", "mixed")
_MERGE = 1 << 20


class Schedule:
    """The pieces a relay cuts a stream into: ``next()`` -> (size, pause). Pure function of the seed."""

    def __init__(self, seed: int, *, mode: str = "mixed") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.seed, self.mode = seed, mode
        self._rng = random.Random(f"socklab-relay-{seed}-{mode}")

    def next(self) -> tuple[int, bool]:
        """The next piece: its size in bytes and whether to pause after it (until the receiver read it)."""
        if self.mode == "bytes":
            return 1, True
        if self.mode == "merge":
            return _MERGE, False
        roll = self._rng.random()
        if roll < 0.45:
            return self._rng.choice((1, 2, 3)), True        # tiny pieces: a header cut in two
        if roll < 0.75:
            return self._rng.randint(4, 64), True
        return self._rng.choice((200, 4096, _MERGE)), False  # merged: several messages in one write

    def sizes(self, n: int) -> list[int]:
        """The first `n` piece sizes of a fresh schedule with this seed (for tests and pictures)."""
        fresh = Schedule(self.seed, mode=self.mode)
        return [fresh.next()[0] for _ in range(n)]


class RelayEvent(NamedTuple):
    """t: seconds since the relay started; conn: connection number; direction: 'up' (client -> server)
    or 'down'; kind: 'in' (read from the sender), 'out' (written to the receiver), 'eof', 'pause';
    offset: byte position in that direction's stream; nbytes; preview: the first bytes."""

    t: float
    conn: int
    direction: str
    kind: str
    offset: int
    nbytes: int
    preview: bytes


class Relay:
    """Listens on 127.0.0.1 (a free port); each client connection is relayed to `target`.

    `seed` and `mode` choose the schedule for the client -> server direction (connection i uses
    seed + i); replies go back unchanged unless ``both=True``. A piece larger than what has arrived
    waits for more bytes, for end of stream, or for `idle` s of silence (then what is there goes).
    """

    def __init__(self, target: tuple[str, int], *, seed: int = 0, mode: str = "mixed", both: bool = False,
                 idle: float = 0.05, pause_limit: float = 0.5, timeout: float = 5.0, name: str = "relay") -> None:
        Schedule(seed, mode=mode)  # validates mode now, in the caller's thread
        self.target = tuple(target[:2])
        self.seed, self.mode, self.both = seed, mode, both
        self.idle, self.pause_limit, self.timeout, self.name = idle, pause_limit, timeout, name
        self.events: list[RelayEvent] = []
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._stopping = threading.Event()
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._n = 0
        self.errors: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self._listener.settimeout(0.2)
        self.address = self._listener.getsockname()[:2]
        self._start(self._accept_loop, "accept")

    def _start(self, fn, what: str, *args) -> None:
        t = threading.Thread(target=fn, args=args, name=f"socklab-{self.name}-{what}", daemon=True)
        self._threads.append(t)
        t.start()

    def _note(self, conn: int, direction: str, kind: str, offset: int, nbytes: int, data: bytes = b"") -> None:
        with self._lock:
            self.events.append(RelayEvent(time.monotonic() - self._t0, conn, direction, kind, offset, nbytes,
                                          bytes(data[:16])))

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn = self._n
            self._n += 1
            try:
                server = socket.create_connection(self.target, timeout=self.timeout)
            except OSError as exc:
                self.errors.append(f"connect to {self.target}: {exc}")
                client.close()
                continue
            for s in (client, server):
                s.settimeout(self.timeout)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a piece is a segment
            self._socks += [client, server]
            up = Schedule(self.seed + conn, mode=self.mode)
            down = Schedule(self.seed + conn + 1000, mode=self.mode) if self.both else None
            self._start(self._pump, f"{conn}-up", conn, "up", client, server, up)
            self._start(self._pump, f"{conn}-down", conn, "down", server, client, down)

    def _pump(self, conn: int, direction: str, src: socket.socket, dst: socket.socket,
              schedule: Schedule | None) -> None:
        buf = bytearray()
        offset = received = 0
        size, pause = schedule.next() if schedule else (_MERGE, False)
        eof = False
        try:
            while schedule is None and not self._stopping.is_set():   # pass through, unchanged
                data = src.recv(65536)
                self._note(conn, direction, "in" if data else "eof", offset, len(data), data)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
                self._note(conn, direction, "out", offset, len(data), data)
                offset += len(data)
            while not self._stopping.is_set():
                if not eof and len(buf) < size:
                    src.settimeout(self.idle if buf else self.timeout)
                    try:
                        data = src.recv(65536)
                    except TimeoutError:
                        if not buf:
                            continue
                        data = None   # quiet sender: send what is there
                    if data == b"":
                        eof = True
                        self._note(conn, direction, "eof", received, 0)
                    elif data:
                        self._note(conn, direction, "in", received, len(data), data)
                        received += len(data)
                        buf += data
                        continue
                if buf:
                    piece = bytes(buf[:size])
                    del buf[:len(piece)]
                    dst.sendall(piece)
                    self._note(conn, direction, "out", offset, len(piece), piece)
                    offset += len(piece)
                    if pause and (buf or not eof):
                        self._note(conn, direction, "pause", offset, 0)
                        tcpstate.wait_drained(dst, self.pause_limit)
                    size, pause = schedule.next() if schedule else (_MERGE, False)
                if eof and not buf:
                    dst.shutdown(socket.SHUT_WR)
                    return
        except OSError as exc:
            if not self._stopping.is_set():
                self.errors.append(f"conn {conn} {direction}: {type(exc).__name__}: {exc}")
                for s in (src, dst):   # pass the failure on: the other side sees the connection drop
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    # -- what happened ---------------------------------------------------------------------------
    def pieces(self, direction: str = "up", conn: int = 0, kind: str = "out") -> list[RelayEvent]:
        """The events of each piece written (kind='out') or read (kind='in') in that direction."""
        with self._lock:
            return [e for e in self.events if e.conn == conn and e.direction == direction and e.kind == kind]

    def text(self) -> str:
        """The event log: one line per read, write, pause and end of stream."""
        lines = [f"relay {self.address[0]}:{self.address[1]} -> {self.target[0]}:{self.target[1]}  "
                 f"seed={self.seed} mode={self.mode}",
                 f"{'t (ms)':>8}  conn  dir   event  offset  bytes  data"]
        with self._lock:
            events = list(self.events)
        for e in events:
            data = repr(e.preview) if e.kind in ("in", "out") else ""
            lines.append(f"{e.t * 1000:8.2f}  {e.conn:>4}  {e.direction:<4}  {e.kind:<5}  {e.offset:>6}  "
                         f"{e.nbytes:>5}  {data}")
        return "\n".join(lines)

    __str__ = text

    def figure(self, conn: int = 0, *, boundaries: list[int] = (), max_bytes: int = 120):
        """A timeline of connection `conn`: what the sender wrote (top) and the pieces the relay
        delivered (bottom), by byte position; `boundaries` marks where messages begin."""
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle

        from socklab._figures import register_figure_display

        rows = [("up", "in", "client sent"), ("up", "out", "server got (pieces)")]
        if self.both:
            rows += [("down", "in", "server replied"), ("down", "out", "client got")]
        fig = Figure(figsize=(10, 1.5 + 0.8 * len(rows)))
        ax = fig.add_subplot()
        end = 1
        colours = ("#4c78a8", "#f58518", "#54a24b", "#e45756")
        for y, (direction, kind, label) in enumerate(rows):
            for i, e in enumerate(self.pieces(direction, conn, kind)):
                if e.offset >= max_bytes:
                    break
                width = min(e.nbytes, max_bytes - e.offset)
                end = max(end, e.offset + width)
                ax.add_patch(Rectangle((e.offset, -y - 0.35), width, 0.7, fc=colours[i % 4], ec="white", lw=1))
                if width >= 3:
                    ax.text(e.offset + width / 2, -y, str(e.nbytes), ha="center", va="center", fontsize=7, color="white")
            ax.text(-1, -y, label, ha="right", va="center", fontsize=9)
        for b in boundaries:
            if b < max_bytes:
                ax.axvline(b, color="black", ls="--", lw=0.8)
        ax.set_xlim(0, end + 1)
        ax.set_ylim(-len(rows) + 0.4, 0.6)
        ax.set_yticks([])
        ax.set_xlabel("byte position in the stream (dashed: message boundaries)")
        ax.set_title(f"how the relay re-chunked connection {conn} (seed={self.seed}, mode={self.mode})", fontsize=10)
        fig.subplots_adjust(left=0.2)
        register_figure_display()
        return fig

    # -- lifetime ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Close the listener and every relayed connection (safe to call twice)."""
        self._stopping.set()
        for s in [self._listener] + self._socks:   # shutdown() wakes threads blocked in accept()/recv()
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(1.0)
        for s in [self._listener] + self._socks:
            s.close()

    def __enter__(self) -> "Relay":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

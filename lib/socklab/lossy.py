"""A lossy UDP channel on loopback: drops, duplicates, reorders, corrupts and delays datagrams on purpose.

The channel sits between a client and a UDP server. The client sends to ``channel.address``; the
channel forwards each datagram to the server from a socket of its own (one per client, so the
server still tells clients apart by address) and forwards the replies back. What happens to each
datagram is decided by a seeded :class:`Schedule` from its direction (``"up"`` client → server,
``"down"`` server → client) and its index in that direction only, never by timing: the same seed
gives every datagram the same fate, run after run.

>>> from socklab import servers
>>> schedule = Schedule(seed=1, script={"up": {0: "drop"}})
>>> with servers.udp_echo_server(name="doc-lossy-echo") as srv, channel(srv.address, schedule) as ch:
...     s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
...     _ = s.sendto(b"lost", ch.address)
...     try:
...         s.recvfrom(100)
...     except TimeoutError:
...         print("no reply: datagram 0 was dropped")
...     _ = s.sendto(b"second", ch.address); print(s.recvfrom(100)[0]); s.close()
no reply: datagram 0 was dropped
b'second'
>>> [d.fate.actions for d in ch.datagrams("up")]
[('drop',), ()]
"""
from __future__ import annotations

import heapq
import itertools
import random
import selectors
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from socklab.packets.guard import ensure_loopback

__all__ = ["Schedule", "Fate", "Datagram", "Channel", "channel", "rtt_histogram", "ACTIONS"]

ACTIONS = ("drop", "duplicate", "reorder", "corrupt", "delay")
DIRECTIONS = ("up", "down")
HOLD = 0.03       # a reordered datagram waits at most this long for the next one to overtake it
DUP_GAP = 0.001   # the second copy of a duplicated datagram follows this much later


@dataclass(frozen=True)
class Fate:
    """What the channel does to one datagram. ``corrupt_at`` is a fraction of the length (which byte
    to flip) or an exact byte index when scripted; ``delay`` is in seconds."""
    direction: str
    index: int
    drop: bool = False
    duplicate: bool = False
    reorder: bool = False
    corrupt: bool = False
    corrupt_at: float | int = 0.0
    mask: int = 0x5A
    delay: float = 0.0

    @property
    def actions(self) -> tuple[str, ...]:
        """The names of what happens, e.g. ``('duplicate', 'corrupt')``; ``()`` for a clean pass."""
        if self.drop:
            return ("drop",)
        return tuple(a for a in ("duplicate", "reorder", "corrupt") if getattr(self, a))

    def damage(self, data: bytes) -> bytes:
        """`data` with one byte flipped if this fate corrupts it (an empty datagram stays empty)."""
        if not self.corrupt or not data:
            return data
        at = self.corrupt_at if isinstance(self.corrupt_at, int) else int(self.corrupt_at * len(data))
        at = min(max(at, 0), len(data) - 1)
        return data[:at] + bytes([data[at] ^ self.mask]) + data[at + 1:]


def _parse_script_entry(text: str) -> dict:
    out: dict = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, arg = part.partition("@") if "@" in part else part.partition("=")
        if name not in ACTIONS:
            raise ValueError(f"unknown action {name!r} in script entry {text!r}; use {', '.join(ACTIONS)}"
                             " (e.g. 'drop', 'corrupt@4', 'corrupt@4^1', 'delay=0.02', 'duplicate,reorder')")
        if name == "corrupt":   # corrupt, corrupt@4 (byte 4), corrupt@4^1 (byte 4 XOR 0x01)
            out["corrupt"] = True
            at, _, mask = arg.partition("^")
            if at:
                out["corrupt_at"] = int(at)
            if mask:
                out["mask"] = int(mask, 0)
                if not 0 < out["mask"] < 256:
                    raise ValueError(f"mask in {text!r} must be 1–255, e.g. 'corrupt@4^1'")
        elif name == "delay":
            out["delay"] = float(arg or 0.0)
        else:
            out[name] = True
    return out


@dataclass(frozen=True)
class Schedule:
    """Seeded fates: each datagram is dropped / duplicated / reordered / corrupted with the given
    probabilities and delayed by a time drawn from ``delay=(low, high)`` seconds.

    ``script`` fixes chosen datagrams exactly: ``{"up": {0: "drop", 3: "corrupt@4"}, "down": {1:
    "duplicate,reorder"}}`` (a scripted index gets only what the script says, plus the seeded delay).

    >>> s = Schedule(seed=7, drop=0.3)
    >>> [s.fate("up", i).drop for i in range(8)] == [Schedule(seed=7, drop=0.3).fate("up", i).drop for i in range(8)]
    True
    >>> Schedule(seed=0, script={"down": {2: "corrupt@1^1"}}).fate("down", 2).damage(b"abc")
    b'acc'
    """
    seed: int | str = 0
    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    corrupt: float = 0.0
    delay: tuple[float, float] = (0.0, 0.0)
    script: Mapping[str, Mapping[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder", "corrupt"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}={p!r}: a probability must be between 0 and 1, e.g. {name}=0.1")
        low, high = self.delay
        if not 0.0 <= low <= high:
            raise ValueError(f"delay={self.delay!r}: give (low, high) seconds with 0 <= low <= high, e.g. (0.005, 0.02)")
        for direction, entries in self.script.items():
            if direction not in DIRECTIONS:
                raise ValueError(f"script direction {direction!r}: use 'up' (client → server) or 'down'")
            for entry in entries.values():
                _parse_script_entry(entry)

    def fate(self, direction: str, index: int) -> Fate:
        """The fate of datagram `index` (0, 1, …) travelling `direction` ('up' or 'down')."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction {direction!r}: use 'up' (client → server) or 'down' (server → client)")
        # A string seed goes through SHA-512 in random.seed: the same on every run and machine.
        rng = random.Random(f"socklab-lossy:{self.seed}:{direction}:{index}")
        draws = [rng.random() for _ in range(6)]
        delay = self.delay[0] + (self.delay[1] - self.delay[0]) * draws[4]
        scripted = self.script.get(direction, {}).get(index)
        if scripted is not None:
            fields = {"delay": delay, "corrupt_at": draws[5], **_parse_script_entry(scripted)}
            return Fate(direction, index, **fields)
        drop = draws[0] < self.drop
        return Fate(direction, index, drop=drop, duplicate=not drop and draws[1] < self.duplicate,
                    reorder=not drop and draws[2] < self.reorder, corrupt=not drop and draws[3] < self.corrupt,
                    corrupt_at=draws[5], delay=delay)

    def fates(self, direction: str, count: int) -> list[Fate]:
        """The first `count` fates in `direction`."""
        return [self.fate(direction, i) for i in range(count)]


@dataclass
class Datagram:
    """One datagram that reached the channel: what came in, its fate, and when copies went out."""
    direction: str
    index: int
    flow: int                    # which client (0 = the first one the channel saw)
    t_in: float                  # seconds since the channel started
    data: bytes
    fate: Fate
    out: list[float] = field(default_factory=list)   # times copies were delivered
    sent_data: bytes = b""                           # what was delivered (after corruption)
    retransmission: bool = False                      # same bytes as an earlier datagram of this flow

    @property
    def settled(self) -> bool:
        """Has the channel finished with it (dropped, or every copy delivered)?"""
        return self.fate.drop or len(self.out) >= (2 if self.fate.duplicate else 1)


class Channel:
    """A running lossy channel. Create it with :func:`channel`; ``.address`` is where clients send."""

    def __init__(self, server: tuple[str, int], schedule: Schedule, name: str, hold: float = HOLD) -> None:
        self.server = (ensure_loopback(server[0]), int(server[1]))
        self.schedule, self.name, self.hold = schedule, name, hold
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._front.bind(("127.0.0.1", 0))
        self._front.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        # flush(): a marker datagram queued behind everything clients sent so far (see wait_settled)
        self._marker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._marker.bind(("127.0.0.1", 0))
        self._token = b"socklab-lossy-flush:%d" % id(self)
        self._flushes = 0
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._front, selectors.EVENT_READ, None)
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._flows: dict[tuple, int] = {}
        self._backs: list[tuple[socket.socket, tuple]] = []   # flow -> (socket to the server, client)
        self._counts = {d: 0 for d in DIRECTIONS}
        self._seen: dict[tuple, set] = {}
        self._queue: list = []                                  # (due, n, datagram, data, copy)
        self._tick = itertools.count()
        self._held: dict[str, tuple | None] = {d: None for d in DIRECTIONS}
        self._records: list[Datagram] = []
        self._lock = threading.RLock()   # wait_for's predicate may call datagrams()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name=f"socklab-lossy-{name}", daemon=True)
        self._thread.start()

    # -- public --------------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        """Send here instead of to the server."""
        return self._front.getsockname()[:2]

    def datagrams(self, direction: str | None = None) -> list[Datagram]:
        """Every datagram seen so far (both directions, in arrival order), or one direction's."""
        with self._lock:
            return [d for d in self._records if direction in (None, d.direction)]

    def wait_for(self, predicate: Callable[["Channel"], bool], timeout: float) -> bool:
        """Wait until ``predicate(channel)`` holds (checked on every datagram); False at the deadline."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def flush(self, timeout: float = 1.0) -> bool:
        """Wait until the channel has read every datagram sent to it before this call (a marker
        datagram queued behind them comes back through the same socket: no sleep, no guess)."""
        with self._lock:
            seen = self._flushes
        self._marker.sendto(self._token, self.address)
        return self.wait_for(lambda ch: ch._flushes > seen, timeout)

    def wait_settled(self, timeout: float = 1.0) -> bool:
        """Wait until every datagram sent so far is dropped or delivered (all its copies)."""
        deadline = time.monotonic() + timeout
        return self.flush(timeout) and self.wait_for(lambda ch: all(d.settled for d in ch.datagrams()),
                                                     max(0.0, deadline - time.monotonic()))

    def text(self, describe: Callable[[bytes], str] | None = None) -> str:
        """One line per datagram: time, direction, index, fate, copies delivered, what it was."""
        from socklab._lossy_figure import table
        return table(self.datagrams(), describe)

    def figure(self, describe: Callable[[bytes], str] | None = None, *, title: str | None = None):
        """A per-datagram timeline (matplotlib Figure): when each arrived, what happened, when it left."""
        from socklab._lossy_figure import timeline
        return timeline(self.datagrams(), describe=describe, title=title or f"lossy channel (seed {self.schedule.seed})")

    def show(self, describe: Callable[[bytes], str] | None = None) -> None:
        """Display the timeline figure in a notebook (text elsewhere)."""
        from socklab._figures import show_figure
        show_figure(self.figure(describe), self.text(describe))

    def stop(self) -> None:
        """Stop forwarding and close the channel's sockets (idempotent)."""
        if not self._stop.is_set():
            self._stop.set()
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass
        self._thread.join(1.0)

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"<lossy channel {self.address[0]}:{self.address[1]} → {self.server[0]}:{self.server[1]}, "
                f"{len(self._records)} datagrams>")

    # -- machinery -----------------------------------------------------------------------------
    def _now(self) -> float:  # seconds since the channel started
        return time.monotonic() - self._start

    def _arrive(self, direction: str, flow: int, data: bytes) -> None:
        with self._lock:
            index = self._counts[direction]
            self._counts[direction] += 1
            fate = self.schedule.fate(direction, index)
            seen = self._seen.setdefault((direction, flow), set())
            record = Datagram(direction, index, flow, self._now(), data, fate, retransmission=data in seen)
            seen.add(data)
            self._records.append(record)
            self._changed.notify_all()
        if fate.drop:
            return
        damaged = fate.damage(data)
        record.sent_data = damaged
        due = time.monotonic() + fate.delay
        self._push(due, record, damaged)
        if fate.duplicate:
            self._push(due + DUP_GAP, record, damaged)

    def _push(self, due: float, record: Datagram, data: bytes) -> None:
        heapq.heappush(self._queue, (due, next(self._tick), record, data))

    def _deliver(self, record: Datagram, data: bytes) -> None:
        back, client = self._backs[record.flow]
        try:
            if record.direction == "up":
                back.sendto(data, self.server)
            else:
                self._front.sendto(data, client)
        except OSError:
            pass  # e.g. the server is gone (ICMP port unreachable): like a lost datagram on a real network
        with self._lock:
            record.out.append(self._now())
            self._changed.notify_all()

    def _release_due(self) -> None:
        now = time.monotonic()
        while self._queue and self._queue[0][0] <= now:
            _, _, record, data = heapq.heappop(self._queue)
            held = self._held[record.direction]
            if record.fate.reorder and held is None and len(record.out) == 0:
                self._held[record.direction] = (now + self.hold, record, data)   # let the next one overtake
                continue
            self._deliver(record, data)
            if held is not None and held[1] is not record:
                self._held[record.direction] = None
                self._deliver(held[1], held[2])
        for direction, held in self._held.items():
            if held is not None and held[0] <= now:
                self._held[direction] = None
                self._deliver(held[1], held[2])

    def _next_wait(self) -> float | None:
        dues = [q[0] for q in self._queue[:1]] + [h[0] for h in self._held.values() if h is not None]
        return max(0.0, min(dues) - time.monotonic()) if dues else None

    def _flow_of(self, client: tuple) -> int:
        flow = self._flows.get(client)
        if flow is None:
            back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            back.bind(("127.0.0.1", 0))
            back.setblocking(False)
            flow = self._flows[client] = len(self._backs)
            self._backs.append((back, client))
            self._sel.register(back, selectors.EVENT_READ, flow)
        return flow

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                for key, _ in self._sel.select(self._next_wait()):
                    if key.data == "wake":
                        return
                    sock = key.fileobj
                    while True:
                        try:
                            data, peer = sock.recvfrom(65535)
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError:
                            break   # ECONNREFUSED from an earlier send to a closed port: nothing to forward
                        if key.data is None and data == self._token and peer[:2] == self._marker.getsockname():
                            with self._lock:
                                self._flushes += 1
                                self._changed.notify_all()
                        elif key.data is None:
                            self._arrive("up", self._flow_of(peer[:2]), data)
                        elif peer[:2] == self.server:
                            self._arrive("down", key.data, data)
                self._release_due()
        finally:
            self._sel.close()
            for sock in [self._front, self._wake_r, self._wake_w, self._marker] + [b for b, _ in self._backs]:
                sock.close()


def channel(server: tuple[str, int], schedule: Schedule | None = None, *, name: str = "channel", hold: float = HOLD,
            **chances) -> Channel:
    """Start a lossy channel to the UDP `server` (host, port) on 127.0.0.1 (a free port).

    Give a :class:`Schedule`, or its fields directly: ``channel(addr, seed=3, drop=0.2, delay=(0.005, 0.02))``.
    A reordered datagram waits up to `hold` seconds for the next one to overtake it. Returns once the
    channel is ready; stop it with ``.stop()`` or a ``with`` block.
    """
    if schedule is None:
        schedule = Schedule(**chances)
    elif chances:
        raise TypeError("give either a Schedule or its fields (seed=, drop=, ...), not both")
    if hold < 0:
        raise ValueError(f"hold={hold!r}: give the seconds a reordered datagram may wait, e.g. hold=0.03")
    return Channel(tuple(server), schedule, name, hold)


def rtt_histogram(rtts, *, title: str = "RTT"):
    """A histogram (matplotlib Figure) of round-trip times in seconds; None counts as lost."""
    from socklab._lossy_figure import rtt_histogram as draw
    return draw(list(rtts), title=title)

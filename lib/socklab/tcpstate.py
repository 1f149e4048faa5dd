"""The TCP states of your own sockets, read live from the kernel's socket table (/proc/net/tcp, tcp6).

Give the sockets (or the port numbers) you care about; only those rows are shown, never the rest
of the machine::

    listener = socket.create_server(("127.0.0.1", 0))
    print(tcpstate.snapshot(listener).text())       # one row: LISTEN
    tcpstate.snapshot(listener).figure()            # the state diagram, LISTEN highlighted

A closed socket has no file any more, so its TIME_WAIT row is found by port: ``snapshot(ports=[p])``.

>>> STATES["0A"], STATES["06"]
('LISTEN', 'TIME_WAIT')
>>> _address("0100007F:1F90")
('127.0.0.1', 8080)
"""
from __future__ import annotations

import os
import socket
import struct
import time
from typing import Iterable, NamedTuple

__all__ = ["STATES", "SocketState", "Snapshot", "table", "snapshot", "states", "peer_row", "wait_state",
           "wait_drained", "diagram", "live_view", "TcpStateError"]

_FILES = ("/proc/net/tcp", "/proc/net/tcp6")

#: the kernel's state numbers (include/net/tcp_states.h) -> the names RFC 793 uses
STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
          "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
          "0B": "CLOSING", "0C": "SYN_RECV"}


class TcpStateError(RuntimeError):
    """The kernel's socket table cannot be read here, or the request names no socket."""


class SocketState(NamedTuple):
    """One row of the kernel's TCP table: the two ends, the state, and the bytes waiting in each queue.

    ``rx_queue``: bytes received but not read yet by the program (for LISTEN: connections waiting for
    accept()); ``tx_queue``: bytes sent but not acknowledged yet. ``inode`` is 0 once the socket is closed.
    """

    local: tuple[str, int]
    remote: tuple[str, int]
    state: str
    tx_queue: int
    rx_queue: int
    inode: int

    def row(self) -> str:
        def fmt(a):
            return f"[{a[0]}]:{a[1]}" if ":" in a[0] else f"{a[0]}:{a[1]}"
        return f"{fmt(self.local):<26} {fmt(self.remote):<26} {self.state:<12} {self.rx_queue:>7} {self.tx_queue:>7}"


def _address(text: str) -> tuple[str, int]:
    # The kernel prints the address as it lies in memory: 32-bit words in host byte order.
    hexip, hexport = text.split(":")
    raw = bytes.fromhex(hexip)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)) if _little_endian() else raw
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    host = socket.inet_ntop(family, raw)
    return host, int(hexport, 16)


def _little_endian() -> bool:
    import sys
    return sys.byteorder == "little"


def table() -> list[SocketState]:
    """Every TCP socket of this network namespace (IPv4 and IPv6). Prefer :func:`states`, which filters."""
    rows: list[SocketState] = []
    found = False
    for path in _FILES:
        try:
            with open(path, encoding="ascii") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        found = True
        for line in lines:
            parts = line.split()
            if len(parts) < 10:
                continue
            tx, rx = (int(x, 16) for x in parts[4].split(":"))
            rows.append(SocketState(_address(parts[1]), _address(parts[2]), STATES.get(parts[3].upper(), parts[3]),
                                    tx, rx, int(parts[9])))
    if not found:
        raise TcpStateError("이 시스템에는 /proc/net/tcp가 없습니다 (리눅스에서만 됩니다) / "
                            "no /proc/net/tcp here: socket states can be read on Linux only")
    return rows


def _inode(sock: socket.socket) -> int | None:
    try:
        return os.fstat(sock.fileno()).st_ino if sock.fileno() != -1 else None
    except OSError:
        return None


def states(*socks: socket.socket, ports: Iterable[int] = ()) -> list[SocketState]:
    """Rows for the given sockets (matched by inode) and for connections using any of `ports`
    (local or remote end; that also finds TIME_WAIT rows of sockets already closed)."""
    ports = {int(p) for p in ports}
    inodes = {i for i in map(_inode, socks) if i}
    if not ports and not inodes and not socks:
        raise TcpStateError("어떤 소켓을 볼지 알려 주세요: states(sock) 또는 states(ports=[8080]) / "
                            "say which sockets to show: states(sock) or states(ports=[8080])")
    return [r for r in table() if (r.inode and r.inode in inodes) or r.local[1] in ports
            or (r.remote[1] in ports and r.state != "LISTEN")]


_NETLINK_SOCK_DIAG, _SOCK_DIAG_BY_FAMILY = 4, 20
_STATE_NUMBERS = {int(k, 16): v for k, v in STATES.items()}


def _diag(local: tuple, remote: tuple, family: int) -> SocketState | None:
    """Ask the kernel (netlink sock_diag) for the one TCP socket with these two ends: microseconds,
    where reading the whole /proc table costs milliseconds on a busy machine."""
    def packed(host: str) -> bytes:
        raw = socket.inet_pton(family, host)
        return raw + bytes(16 - len(raw))
    sockid = (struct.pack("!HH16s16s", local[1], remote[1], packed(local[0]), packed(remote[0]))
              + struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF))        # any interface, no cookie
    request = struct.pack("=BBBxI", family, socket.IPPROTO_TCP, 0, 0xFFFFFFFF) + sockid
    message = struct.pack("=LHHLL", 16 + len(request), _SOCK_DIAG_BY_FAMILY, 1, 1, 0) + request
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(1)
        nl.send(message)
        data = nl.recv(8192)
    if len(data) < 16 + 72 or struct.unpack_from("=H", data, 4)[0] != _SOCK_DIAG_BY_FAMILY:
        return None   # NLMSG_ERROR: no such socket
    state = data[17]
    rqueue, wqueue, _uid, inode = struct.unpack_from("=IIII", data, 16 + 4 + 48 + 4)
    return SocketState(tuple(local), tuple(remote), _STATE_NUMBERS.get(state, str(state)), wqueue, rqueue, inode)


def peer_row(sock: socket.socket) -> SocketState | None:
    """The row of the *other* end of `sock`'s connection, when that end lives on this machine."""
    try:
        local, remote = sock.getsockname()[:2], sock.getpeername()[:2]
    except OSError:
        return None
    try:
        return _diag(remote, local, sock.family)
    except OSError:
        pass   # no netlink here (not Linux, or filtered): read the table instead
    for r in states(ports=[remote[1]]):
        if r.local == tuple(remote) and r.remote == tuple(local):
            return r
    return None


def _poll(predicate, timeout: float) -> bool:
    # Bounded polling with a deadline: the kernel tells no one when a row changes.
    deadline = time.monotonic() + timeout
    pause = 0.0002
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.005)


def wait_drained(sock: socket.socket, timeout: float = 0.5) -> bool:
    """Wait until the program at the other end of `sock` has read everything `sock` sent.

    True when its receive queue is empty (or the peer is gone), False after `timeout` s.
    Only works when both ends are on this machine (loopback).
    """
    def drained() -> bool:
        row = peer_row(sock)
        # A received FIN counts one in the queue of a CLOSE_WAIT socket.
        return row is None or row.rx_queue == 0 or (row.state != "ESTABLISHED" and row.rx_queue <= 1)
    return _poll(drained, timeout)


def wait_state(port: int, state: str, timeout: float = 2.0) -> bool:
    """Wait until some connection on `port` is in `state` (e.g. 'TIME_WAIT'); True if seen in time."""
    if state not in STATES.values():
        raise ValueError(f"unknown TCP state {state!r}; one of {sorted(set(STATES.values()))}")
    return _poll(lambda: any(r.state == state for r in states(ports=[port])), timeout)


class Snapshot:
    """The rows of your sockets at one moment: ``.text()``, ``.figure()``, ``.counts``; shows as text."""

    def __init__(self, rows: list[SocketState], labels: dict[int, str] | None = None) -> None:
        self.rows = rows
        self.labels = labels or {}
        self.taken = time.time()

    @property
    def counts(self) -> dict[str, int]:
        """How many of the rows are in each state, e.g. ``{'LISTEN': 1, 'ESTABLISHED': 2}``."""
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.state] = out.get(r.state, 0) + 1
        return out

    def text(self) -> str:
        head = f"{'local':<26} {'remote':<26} {'state':<12} {'rx_queue':>7} {'tx_queue':>7}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            label = self.labels.get(r.inode, "")
            lines.append(r.row() + (f"   <- {label}" if label else ""))
        if not self.rows:
            lines.append("(해당 소켓 없음 / no such sockets)")
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return f"<Snapshot {self.counts}>"

    def figure(self):
        """The TCP state diagram with the states of these sockets highlighted."""
        return diagram(self.counts, title=", ".join(f"{k} ×{v}" for k, v in self.counts.items()) or "no sockets")

    def show(self) -> None:
        """Print the table and draw the diagram (in a notebook)."""
        from socklab._figures import show_figure
        print(self.text())
        show_figure(self.figure())


def snapshot(*socks: socket.socket, ports: Iterable[int] = (), labels: dict | None = None) -> Snapshot:
    """A :class:`Snapshot` of the given sockets and ports. ``labels={sock: "server"}`` names rows."""
    names = {}
    for key, value in (labels or {}).items():
        inode = _inode(key) if isinstance(key, socket.socket) else None
        if inode:
            names[inode] = value
    return Snapshot(states(*socks, ports=ports), names)


# -- the state diagram ---------------------------------------------------------------------------
_BOX = {"CLOSED": (0.5, 9.0), "LISTEN": (0.5, 7.5), "SYN_SENT": (0.85, 6.2), "SYN_RECV": (0.15, 6.2),
        "ESTABLISHED": (0.5, 5.0), "FIN_WAIT1": (0.2, 3.6), "CLOSE_WAIT": (0.8, 3.6), "FIN_WAIT2": (0.2, 2.2),
        "CLOSING": (0.5, 2.2), "LAST_ACK": (0.8, 2.2), "TIME_WAIT": (0.2, 0.8)}
_EDGES = [("CLOSED", "LISTEN", "listen()"), ("CLOSED", "SYN_SENT", "connect() / SYN"),
          ("LISTEN", "SYN_RECV", "SYN / SYN+ACK"), ("SYN_RECV", "ESTABLISHED", "ACK"),
          ("SYN_SENT", "ESTABLISHED", "SYN+ACK / ACK"), ("ESTABLISHED", "FIN_WAIT1", "close() / FIN"),
          ("ESTABLISHED", "CLOSE_WAIT", "FIN / ACK"), ("FIN_WAIT1", "FIN_WAIT2", "ACK"),
          ("FIN_WAIT1", "CLOSING", "FIN / ACK"), ("FIN_WAIT2", "TIME_WAIT", "FIN / ACK"),
          ("CLOSING", "TIME_WAIT", "ACK"), ("CLOSE_WAIT", "LAST_ACK", "close() / FIN"),
          ("LAST_ACK", "CLOSED", "ACK"), ("TIME_WAIT", "CLOSED", "2·MSL")]
# Which side usually takes the path (for colour): the one that closes first is the active closer.
_SIDE = {"SYN_SENT": "client", "FIN_WAIT1": "active close", "FIN_WAIT2": "active close", "TIME_WAIT": "active close",
         "CLOSING": "active close", "SYN_RECV": "server", "LISTEN": "server", "CLOSE_WAIT": "passive close",
         "LAST_ACK": "passive close"}


def diagram(highlight: dict[str, int] | Iterable[str] = (), *, title: str = ""):
    """The TCP state diagram (RFC 793, simplified) as a matplotlib Figure; states in `highlight`
    (a set, or a dict state -> number of sockets) are filled in orange with their count."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    from socklab._figures import blank_axes, register_figure_display

    counts = dict(highlight) if isinstance(highlight, dict) else {s: 1 for s in highlight}
    counts = {("CLOSED" if k == "CLOSE" else k): v for k, v in counts.items()}
    fig = Figure(figsize=(8.5, 7.2))
    ax = fig.add_subplot()
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(0.1, 9.7)
    blank_axes(ax)
    w, h = 0.24, 0.55
    around = {("TIME_WAIT", "CLOSED"): (-1, 180), ("LAST_ACK", "CLOSED"): (1, 0)}   # routed along the sides
    for a, b, label in _EDGES:
        (xa, ya), (xb, yb) = _BOX[a], _BOX[b]
        if (a, b) in around:
            side, angle = around[(a, b)]
            ax.annotate("", xy=(xb + side * (w / 2 + 0.01), yb), xytext=(xa + side * w / 2, ya),
                        arrowprops=dict(arrowstyle="->", color="0.45",
                                        connectionstyle=f"arc,angleA={angle},angleB={angle},armA=30,armB={abs(30 + 400 * (xb - xa) * side)},rad=8"))
            x_text = min(xa, xb) - w / 2 - 0.1 if side < 0 else max(xa, xb) + w / 2 + 0.1
            ax.text(x_text, (ya + yb) / 2, label, fontsize=7.5, color="0.3", rotation=90, va="center", ha="center")
            continue
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya),
                    arrowprops=dict(arrowstyle="->", color="0.45", shrinkA=14, shrinkB=14))
        mx, my = (xa + xb) / 2, (ya + yb) / 2
        if (a, b) == ("CLOSED", "SYN_SENT"):
            mx, my = mx + 0.12, my + 0.25
        ax.text(mx, my, label, fontsize=7.5, color="0.25", ha="center", va="center",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    for state, (x, y) in _BOX.items():
        n = counts.get(state, 0)
        face = "#ff9f1c" if n else "#f4f4f4"
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02", fc=face,
                                    ec="#333333" if n else "#999999", lw=2 if n else 1))
        text = state + (f"  ×{n}" if n else "")
        ax.text(x, y + 0.07, text, ha="center", va="center", fontsize=9.5, weight="bold" if n else "normal")
        ax.text(x, y - 0.17, _SIDE.get(state, ""), ha="center", va="center", fontsize=7, color="0.4")
    others = [k for k in counts if k not in _BOX]
    if others:
        ax.text(0.5, 0.25, "also: " + ", ".join(others), ha="center", fontsize=8)
    ax.set_title(("TCP states — " + title) if title else "TCP state diagram", fontsize=11)
    register_figure_display()
    return fig


def _png(fig) -> bytes:
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=70, bbox_inches="tight")
    return buf.getvalue()


def live_view(*socks: socket.socket, ports: Iterable[int] = (), interval: float = 0.5, rounds: int = 240):
    """A widget with the live table of these sockets (re-read every `interval` s, `rounds` times, or
    until ``.stop()``) and a button that draws the state diagram of the moment (drawing costs CPU, so
    only on demand). None under nbgrader (no widget while grading)."""
    from socklab import env
    if env.under_nbgrader():
        return None
    import html
    import threading

    import ipywidgets as w

    ports = list(ports)
    table_box, picture = w.HTML(), w.Image(format="png")
    button = w.Button(description="상태 전이도 / diagram", icon="refresh")
    box = w.VBox([w.HTML("<b>TCP 상태 (live) / TCP states, live</b>"), table_box, button, picture])
    stop = threading.Event()
    last: list = [None]

    def refresh() -> None:
        snap = snapshot(*socks, ports=ports)
        key = [(r.local, r.remote, r.state, r.rx_queue) for r in snap.rows]
        if key != last[0]:
            last[0] = key
            table_box.value = f"<pre>{html.escape(snap.text())}</pre>"

    def draw(_=None) -> None:
        picture.value = _png(snapshot(*socks, ports=ports).figure())

    def follow() -> None:
        for _ in range(rounds):
            if stop.wait(interval):
                return
            try:
                refresh()
            except Exception:   # sockets closed under us: keep the last table
                return
    refresh()
    button.on_click(draw)
    threading.Thread(target=follow, name="socklab-tcpstate-view", daemon=True).start()
    box.stop = stop.set
    box.draw = draw
    return box

"""A TCP exchange as a timeline: SYN, SYN-ACK, ACK, data (PSH), FIN/ACK with ports and seq/ack.

Sequence numbers are shown relative to each connection's own first (SYN) numbers, as Wireshark does, so
a handshake reads ``seq=0``, ``seq=0 ack=1``, ``seq=1 ack=1``. pair_with_trace() puts the
socket calls from socklab.trace next to the packets they caused (connect() -> SYN, ...).
"""
from __future__ import annotations

import struct
from typing import NamedTuple

from socklab._figures import blank_axes, register_figure_display

from .offline import strip_link

__all__ = ["Segment", "tcp_segments", "ports_of", "flag_names", "timeline_text", "timeline_figure",
           "pair_with_trace", "connections"]

_FLAG_ORDER = "FSRPAUEC"  # the order scapy prints them in: "SA", "PA", "FA"
_FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}
_NAMES = {"S": "SYN", "SA": "SYN-ACK", "A": "ACK", "PA": "PSH,ACK", "FA": "FIN,ACK", "FPA": "FIN,PSH,ACK",
          "R": "RST", "RA": "RST,ACK", "F": "FIN"}


class Segment(NamedTuple):
    """One TCP segment with absolute and relative sequence numbers.

    ``stream`` numbers the connection (0, 1, ... in order of appearance), like Wireshark's
    ``tcp.stream``; relative numbers count from that connection's own first (SYN) numbers.
    """

    t: float
    src: str
    sport: int
    dst: str
    dport: int
    flags: str
    seq: int
    ack: int
    rel_seq: int
    rel_ack: int
    length: int
    payload: bytes
    stream: int = 0


def flag_names(flags: str) -> str:
    """'SA' -> 'SYN-ACK'.

    >>> flag_names("SA"), flag_names("PA")
    ('SYN-ACK', 'PSH,ACK')
    """
    return _NAMES.get(flags, flags)


def _ip_parts(raw: bytes):
    ip = strip_link(raw)
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0] or len(ip)
    src = ".".join(map(str, ip[12:16]))
    dst = ".".join(map(str, ip[16:20]))
    return ip[9], src, dst, ip[ihl:total]


def ports_of(raw: bytes) -> tuple[int, ...]:
    """(source port, destination port) of a TCP/UDP frame; () for anything else."""
    parts = _ip_parts(raw)
    if parts is None or parts[0] not in (6, 17) or len(parts[3]) < 4:
        return ()
    return struct.unpack("!HH", parts[3][:4])


def tcp_segments(records, *, port: int | None = None) -> list[Segment]:
    """TCP segments of captured records in order; seq/ack also relative to each connection's first numbers.

    A connection is its pair of endpoints, and a new SYN on a pair whose earlier connection
    used another initial sequence number starts a new one (a port reused), as in Wireshark.
    """
    streams: dict[frozenset, int] = {}   # endpoint pair -> its current stream number
    base: dict[tuple, int] = {}          # (stream, (ip, port)) -> first seq that side sent
    syn_seq: dict[int, int] = {}         # stream -> the client's SYN seq (to spot a reused port)
    out, count = [], 0
    for rec in records:
        t, raw = rec[0], rec[1]
        parts = _ip_parts(raw)
        if parts is None or parts[0] != 6 or len(parts[3]) < 20:
            continue
        _, src, dst, tcp = parts
        sport, dport, seq, ack, off_flags = struct.unpack("!HHIIH", tcp[:14])
        bits = off_flags & 0xFF
        flags = "".join(f for f in _FLAG_ORDER if bits & _FLAG_BITS[f])
        payload = tcp[(off_flags >> 12) * 4:]
        pair = frozenset(((src, sport), (dst, dport)))
        stream = streams.get(pair)
        if stream is None or (flags == "S" and syn_seq.get(stream, seq) != seq):
            stream = streams[pair] = count
            count += 1
        if flags == "S":
            syn_seq.setdefault(stream, seq)
        me, peer = base.setdefault((stream, (src, sport)), seq), base.get((stream, (dst, dport)))
        if port is not None and port not in (sport, dport):
            continue
        rel_seq = (seq - me) & 0xFFFFFFFF
        rel_ack = (ack - peer) & 0xFFFFFFFF if "A" in flags and peer is not None else 0
        out.append(Segment(t, src, sport, dst, dport, flags, seq, ack, rel_seq, rel_ack, len(payload), payload,
                           stream))
    return out


def connections(records) -> list[tuple[int, int]]:
    """(client port, server port) of every connection whose SYN was captured, in order."""
    return [(s.sport, s.dport) for s in tcp_segments(records) if s.flags == "S"]


def _label(s: Segment) -> str:
    text = f"{flag_names(s.flags)} seq={s.rel_seq}"
    if "A" in s.flags:
        text += f" ack={s.rel_ack}"
    if s.length:
        shown = s.payload[:16].decode("ascii", "replace").encode("unicode_escape").decode()
        text += f" len={s.length} '{shown}{'…' if s.length > 16 else ''}'"
    return text


def _other_line(t: float, raw: bytes) -> str | None:
    parts = _ip_parts(raw)
    if parts is None:
        return f"{t * 1000:9.3f} ms  (non-IPv4 frame, {len(raw)} bytes)"
    proto, src, dst, body = parts
    if proto == 1 and len(body) >= 8:
        kind, _c, _s, ident, seq = struct.unpack("!BBHHH", body[:8])
        what = {8: "echo-request", 0: "echo-reply"}.get(kind, f"type {kind}")
        return f"{t * 1000:9.3f} ms  {src} → {dst}  ICMP {what} id={ident} seq={seq} len={len(body) - 8}"
    if proto == 17 and len(body) >= 8:
        sport, dport = struct.unpack("!HH", body[:4])
        return f"{t * 1000:9.3f} ms  {src}:{sport} → {dst}:{dport}  UDP len={len(body) - 8}"
    return None


def timeline_text(records, *, port: int | None = None) -> str:
    """One line per packet: time (ms), endpoints, flags, relative seq/ack, payload."""
    lines = []
    segs = iter(tcp_segments(records, port=port))
    for rec in records:
        t, raw = rec[0], rec[1]
        parts = _ip_parts(raw)
        if parts is not None and parts[0] == 6 and len(parts[3]) >= 20:
            ports = ports_of(raw)
            if port is not None and port not in ports:
                continue
            s = next(segs)
            lines.append(f"{s.t * 1000:9.3f} ms  {s.src}:{s.sport} → {s.dst}:{s.dport}  [{s.flags}] {_label(s)}")
        elif port is None:
            line = _other_line(t, raw)
            if line:
                lines.append(line)
    return "\n".join(lines) if lines else "(no packets)"


def _get(call, name, default=None):
    return call.get(name, default) if isinstance(call, dict) else getattr(call, name, default)


def _port(addr):
    return addr[1] if isinstance(addr, tuple) and len(addr) >= 2 and isinstance(addr[1], int) else None


def _between(s: Segment, sender, receiver) -> bool:
    """Whether `s` went from port `sender` to port `receiver` (an unknown end matches anything)."""
    return (sender is None or s.sport == sender) and (receiver is None or s.dport == receiver)


def pair_with_trace(segments: list[Segment], calls) -> list[tuple[object, int]]:
    """Pair socket calls with the segment each caused: (call, index into segments).

    connect() -> the client's SYN; accept() -> the ACK that completes the handshake;
    send/sendall -> the next data segment from that socket; shutdown/close -> its FIN.
    Both ends of a call must match, so with many clients each call lands in its own connection.
    """
    pairs, used = [], set()
    for call in calls:
        op = _get(call, "op")
        local, peer = _port(_get(call, "local")), _port(_get(call, "peer"))
        if local is None and peer is None:
            continue
        for i, s in enumerate(segments):
            if i in used and op != "accept":
                continue
            if op == "connect":
                hit = s.flags == "S" and _between(s, local, peer)
            elif op == "accept":  # the listener's call: its peer is the client that sent the last ACK
                hit = (s.flags == "A" and s.rel_seq == 1 and s.rel_ack == 1 and s.length == 0
                       and _between(s, peer, local))
            elif op in ("send", "sendall", "sendto"):
                hit = local is not None and s.length > 0 and _between(s, local, peer)
            elif op in ("shutdown", "close"):
                hit = local is not None and "F" in s.flags and _between(s, local, peer)
            else:
                hit = False
            if hit:
                pairs.append((call, i))
                if op != "accept":
                    used.add(i)
                break
    return pairs


def timeline_figure(records, *, port: int | None = None, calls=()):
    """A matplotlib Figure of one TCP connection (the first, or the one on `port`).

    Client lane on the left, server lane on the right, one arrow per segment, top to bottom.
    """
    from matplotlib.figure import Figure

    segs = tcp_segments(records, port=port)
    if not segs:
        raise ValueError("no TCP segments to draw / 그릴 TCP 세그먼트가 없습니다")
    syns = [s for s in segs if s.flags == "S"]
    stream = syns[0].stream if syns else segs[0].stream
    segs = [s for s in segs if s.stream == stream]  # one connection per picture
    opener = syns[0] if syns else segs[0]  # the side that sent the SYN is the client
    client, server = (opener.src, opener.sport), (opener.dst, opener.dport)
    n = len(segs)
    fig = Figure(figsize=(9, 1.2 + 0.45 * n))
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(n + 0.5, -1.2)
    blank_axes(ax)
    for x, (host, p), role in ((0, client, "client"), (1, server, "server")):
        ax.plot([x, x], [-0.3, n + 0.3], color="0.6", lw=1)
        ax.text(x, -0.8, f"{role}\n{host}:{p}", ha="center", va="center", fontsize=9, weight="bold")
    colors = {"S": "tab:green", "F": "tab:red", "R": "black", "P": "tab:blue"}
    for i, s in enumerate(segs):
        forward = (s.src, s.sport) == client
        x0, x1 = (0, 1) if forward else (1, 0)
        color = next((c for f, c in colors.items() if f in s.flags), "0.35")
        ax.annotate("", xy=(x1, i + 0.35), xytext=(x0, i), arrowprops=dict(arrowstyle="->", color=color, lw=1.4))
        ax.text(0.5, i + 0.17, _label(s), ha="center", va="center", fontsize=8, color=color,
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none"))
        ax.text(-0.58, i + 0.18, f"{(s.t - segs[0].t) * 1000:.3f} ms", fontsize=7, color="0.4", va="center")
    for call, i in pair_with_trace(segs, calls):
        local = _port(_get(call, "local"))
        on_client = local == client[1] if _get(call, "op") != "accept" else False
        x = -0.08 if on_client else 1.08
        ax.text(x, i + 0.18, f"{_get(call, 'op')}()", ha="right" if on_client else "left", va="center",
                fontsize=8, family="monospace",
                bbox=dict(boxstyle="round,pad=0.2", fc="lightyellow", ec="0.5"))
    ax.set_title("TCP timeline (relative seq/ack)", fontsize=10)
    register_figure_display()
    return fig

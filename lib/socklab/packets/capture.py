"""Capture the packets a piece of socket code sends over loopback, each packet exactly once.

A packet socket on ``lo`` sees every frame twice (once leaving, once arriving); we keep only
the arriving copy by dropping ``PACKET_OUTGOING``, so no libpcap is needed. To know when the
code's last packet has been seen, we send ourselves a small UDP marker afterwards and stop
when it arrives (loopback delivers in order), instead of sleeping.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import NamedTuple

from .guard import ensure_loopback_iface
from .pcapfile import read_pcap, save_pcap

__all__ = ["Record", "Capture", "capture", "load_pcap", "save_pcap", "read_pcap", "DATA_DIR"]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
_ETH_P_ALL, _PACKET_OUTGOING = 0x0003, 4


class Record(NamedTuple):
    """One captured frame: seconds since the capture started, and its bytes (Ethernet header first)."""

    t: float
    raw: bytes


class _Sniffer:
    """Read every arriving frame on lo in a thread until our end marker shows up."""

    def __init__(self, iface: str = "lo"):
        ensure_loopback_iface(iface)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
        try:
            try:  # a busy loopback must not overflow the buffer while fn runs; root may exceed rmem_max
                self.sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
            except OSError:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            self.sock.bind((iface, _ETH_P_ALL))
            self.sock.settimeout(0.2)
        except BaseException:
            self.sock.close()
            raise
        self.marker = b"socklab-end-" + os.urandom(8).hex().encode()
        self.records: list[Record] = []
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.t0 = time.time()
        self.thread = threading.Thread(target=self._run, name="socklab-sniffer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.done.is_set():
                try:
                    raw, addr = self.sock.recvfrom(262144)
                except socket.timeout:
                    continue
                if addr[2] == _PACKET_OUTGOING:
                    continue  # the same frame arrives again as incoming: keep that copy only
                if self.marker in raw:
                    self.done.set()
                    break
                self.records.append(Record(time.time() - self.t0, raw))
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
            self.done.set()

    def stop(self, timeout: float = 5.0) -> list[Record]:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
                rx.bind(("127.0.0.1", 0))
                tx.sendto(self.marker, rx.getsockname())
                self.done.wait(timeout)
        finally:
            self.done.set()
            self.thread.join(timeout)
            self.sock.close()
        if self.error is not None:
            raise self.error
        return list(self.records)


def _run_traced(fn, args, kwargs):
    """fn's result and the socket calls socklab.trace saw (empty when trace is unavailable)."""
    try:
        from socklab.trace import trace
    except ImportError:
        return fn(*args, **kwargs), []
    with trace() as t:
        result = fn(*args, **kwargs)
    return result, list(t.calls)


def _capture_here(fn, args=(), kwargs=None, timeout: float = 5.0):
    """(records, result, calls) for fn run in this process while sniffing lo."""
    sniffer = _Sniffer()
    try:
        result, calls = _run_traced(fn, args, kwargs or {})
    finally:
        records = sniffer.stop(timeout)
    return records, result, calls


def _capture_encoded(call: bytes, timeout: float):
    """Namespace child side: decode the call, capture it, return plain picklable data."""
    from .namespace import decode_call
    fn, args, kwargs = decode_call(call)
    records, result, calls = _capture_here(fn, args, kwargs, timeout)
    try:
        import pickle
        pickle.dumps((result, calls))
    except Exception:
        result, calls = repr(result), [repr(c) for c in calls]
    return [tuple(r) for r in records], result, calls


def _own_ports(calls) -> set[int]:
    """Local ports of the sockets the experiment used (from socklab.trace's calls)."""
    ports = set()
    for call in calls:
        local = call.get("local") if isinstance(call, dict) else getattr(call, "local", None)
        if isinstance(local, tuple) and len(local) >= 2 and isinstance(local[1], int) and local[1]:
            ports.add(local[1])
    return ports


def _own_traffic(records, calls) -> list[Record]:
    """Keep only the experiment's own TCP connections and UDP datagrams on the shared loopback.

    With the sockets' ports known (trace), a TCP/UDP packet stays when one of its ports is one
    of them; other programs' connections, even ones opened during the capture, go. Without
    them, connections opened before the capture (e.g. Jupyter's own) are dropped. Other
    protocols (ICMP) are kept.
    """
    from .timeline import _ip_parts, ports_of
    own = _own_ports(calls)
    new_flows, keep = set(), []
    for r in records:
        parts = _ip_parts(r.raw)
        if parts is None or parts[0] not in (6, 17) or len(parts[3]) < 14:
            keep.append(r)
            continue
        sport, dport = ports_of(r.raw)
        if own:
            if sport in own or dport in own:
                keep.append(r)
            continue
        if parts[0] == 17:
            keep.append(r)
            continue
        if parts[3][13] & 0x02:  # SYN: a connection that starts inside the capture
            new_flows.add(frozenset(((parts[1], sport), (parts[2], dport))))
        if frozenset(((parts[1], sport), (parts[2], dport))) in new_flows:
            keep.append(r)
    return keep


def capture(fn, *args, timeout: float = 5.0, tier: str | None = None, **kwargs) -> "Capture":
    """Run ``fn(*args, **kwargs)`` while sniffing loopback; return a Capture of its packets.

    `fn` may also be a scenario name such as ``"tcp-echo"`` (see socklab.packets.scenarios).
    In the namespace tier fn runs in a child process with its own private loopback, so it must
    be a module-level function (or a function from a notebook cell that uses only its arguments
    and imports inside it). In the root tier the host's loopback is shared, so only the TCP
    connections and UDP datagrams of the sockets fn used are kept (other programs' are left out,
    and so is the traffic of a program fn starts, such as curl: capture it in the namespace tier).
    """
    from .tiers import resolve
    chosen = resolve(tier, needs=("namespace", "root"))
    if chosen == "root":
        if isinstance(fn, str):
            from .scenarios import get_scenario
            fn = get_scenario(fn)
        records, result, calls = _capture_here(fn, args, kwargs, timeout)
        records = _own_traffic(records, calls)
    else:
        from .namespace import encode_call, run_in_namespace
        raw_records, result, calls = run_in_namespace(
            _capture_encoded, encode_call(fn, args, kwargs), timeout, timeout=timeout)
        records = [Record(*r) for r in raw_records]
    t0 = records[0].t if records else 0.0  # times from the first packet, as Wireshark shows them
    return Capture([Record(r.t - t0, r.raw) for r in records], tier=chosen, result=result, calls=calls)


def load_pcap(name_or_path) -> "Capture":
    """Load a shipped capture by name ('tcp-echo', 'ping') or any .pcap/.pcapng path as a Capture.

    >>> load_pcap("tcp-echo").flags()[:3]
    ['S', 'SA', 'A']
    """
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = DATA_DIR / f"{name_or_path}.pcap"
    if not path.exists():
        shipped = ", ".join(sorted(p.stem for p in DATA_DIR.glob("*.pcap")))
        raise FileNotFoundError(f"no capture {name_or_path!r}; shipped captures: {shipped}")
    return Capture(read_pcap(path), tier="offline")


class Capture:
    """Packets captured on loopback: ``.records`` (time, bytes), ``.packets`` (scapy), text, timeline."""

    def __init__(self, records, *, tier: str = "offline", result=None, calls=()):
        self.records = [Record(*r) for r in records]
        self.tier, self.result, self.calls = tier, result, list(calls)
        self._packets = None

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"<Capture {len(self.records)} packets, tier={self.tier}>"

    def _repr_html_(self) -> str:
        import html
        return (f"<div><b>{len(self.records)} packets</b> (tier {html.escape(self.tier)})"
                f"<pre>{html.escape(self.text())}</pre></div>")

    @property
    def packets(self) -> list:
        """The frames as scapy packets (Ether/IP/TCP...), dissected on first use."""
        if self._packets is None:
            from scapy.layers.l2 import Ether
            self._packets = [Ether(r.raw) for r in self.records]
        return self._packets

    def segments(self, port: int | None = None) -> list:
        """TCP segments (see socklab.packets.timeline.Segment), optionally only those to/from `port`."""
        from .timeline import tcp_segments
        return tcp_segments(self.records, port=port)

    def flags(self, port: int | None = None) -> list[str]:
        """TCP flags of each segment in order, e.g. ['S', 'SA', 'A', 'PA', ...]."""
        return [s.flags for s in self.segments(port)]

    def only(self, port: int) -> "Capture":
        """A Capture of just the packets to or from `port` (TCP/UDP)."""
        from .timeline import ports_of
        keep = [r for r in self.records if port in ports_of(r.raw)]
        return Capture(keep, tier=self.tier, result=self.result, calls=self.calls)

    def save(self, path) -> Path:
        """Write the capture as a .pcap file."""
        return save_pcap(self.records, path)

    def text(self, port: int | None = None) -> str:
        """One line per packet: time, addresses, flags, relative seq/ack, payload length."""
        from .timeline import timeline_text
        return timeline_text(self.records, port=port)

    def timeline(self, port: int | None = None, *, calls=None):
        """A matplotlib Figure: the TCP exchange as a sequence diagram (with socket calls if traced)."""
        from .timeline import timeline_figure
        return timeline_figure(self.records, port=port, calls=self.calls if calls is None else calls)

"""ping a loopback address over ICMP echo, with the best tier this computer allows.

- ``ping-socket``: ``socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)``, no privilege needed where
  net.ipv4.ping_group_range admits your group. The kernel picks the echo id (our "port").
- ``namespace``: a raw ICMP socket inside a private ``unshare -rn`` namespace (its own 127.0.0.1).
- ``root``: a raw ICMP socket on this machine's loopback.
"""
from __future__ import annotations

import os
import random
import socket
import struct
import time
from typing import NamedTuple

from .guard import ensure_loopback
from .offline import icmp_echo_bytes

__all__ = ["Reply", "ping"]

_IP_RECVTTL, _IP_TTL = getattr(socket, "IP_RECVTTL", 12), getattr(socket, "IP_TTL", 2)


class Reply(NamedTuple):
    """One echo reply: sequence number, echo id, TTL, round-trip time (ms), ICMP bytes, tier used."""

    seq: int
    id: int
    ttl: int
    rtt_ms: float
    bytes: int
    tier: str

    def __str__(self) -> str:
        return f"{self.bytes} bytes: icmp_seq={self.seq} id={self.id} ttl={self.ttl} time={self.rtt_ms:.3f} ms ({self.tier})"


def _timeout_error(host: str, seq: int, timeout: float) -> TimeoutError:
    return TimeoutError(f"{host}에서 {timeout:g}초 안에 응답(seq={seq})이 없습니다. / "
                        f"no echo reply from {host} (seq={seq}) within {timeout:g} s")


def _echo_loop(s: socket.socket, host: str, count: int, timeout: float, send, parse) -> list[Reply]:
    """For seq 1..count: send(seq), then read until parse(packet, seq, rtt_ms) gives a Reply or
    `timeout` runs out. Shared by the ping-socket and raw paths, which differ only in framing."""
    replies = []
    for seq in range(1, count + 1):
        start = time.perf_counter()
        send(seq)
        deadline = start + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise _timeout_error(host, seq, timeout)
            s.settimeout(left)
            try:
                packet = s.recvmsg(65535, socket.CMSG_SPACE(4))
            except socket.timeout:
                raise _timeout_error(host, seq, timeout) from None
            reply = parse(packet, seq, (time.perf_counter() - start) * 1000)
            if reply is not None:
                replies.append(reply)
                break
    return replies


def _ping_dgram(host: str, count: int, timeout: float, payload: bytes, label: str = "ping-socket") -> list[Reply]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP) as s:
        try:
            s.setsockopt(socket.IPPROTO_IP, _IP_RECVTTL, 1)
        except OSError:
            pass  # no TTL in the reply then (reported as -1)
        s.connect((host, 0))  # the kernel assigns the echo id, like a UDP port
        ident = s.getsockname()[1]

        def parse(packet, seq, rtt):
            data, anc, _flags, _addr = packet
            ttl = next((struct.unpack("i", d[:4])[0] for lvl, typ, d in anc
                        if lvl == socket.IPPROTO_IP and typ == _IP_TTL), -1)
            if len(data) >= 28 and data[0] >> 4 == 4:  # macOS hands us the IP header too
                ttl, data = data[8], data[(data[0] & 0x0F) * 4:]
            kind, _code, _csum, rid, rseq = struct.unpack("!BBHHH", data[:8])
            return Reply(seq, rid, ttl, rtt, len(data), label) if kind == 0 and rseq == seq else None

        return _echo_loop(s, host, count, timeout, lambda seq: s.send(icmp_echo_bytes(ident, seq, payload)), parse)


def _ping_raw(host: str, count: int, timeout: float, payload: bytes, label: str = "root") -> list[Reply]:
    ensure_loopback(host)  # again: this also runs inside the namespace child
    ident = (os.getpid() ^ random.getrandbits(16)) & 0xFFFF
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:

        def parse(packet, seq, rtt):
            data = packet[0]
            ihl = (data[0] & 0x0F) * 4
            kind, _code, _csum, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            # A raw socket sees every ICMP message on the host, our own request included.
            if kind == 0 and rid == ident and rseq == seq:
                return Reply(seq, rid, data[8], rtt, len(data) - ihl, label)
            return None

        return _echo_loop(s, host, count, timeout,
                          lambda seq: s.sendto(icmp_echo_bytes(ident, seq, payload), (host, 0)), parse)


def ping(host: str = "127.0.0.1", *, count: int = 1, timeout: float = 2.0,
         payload: bytes = b"socklab", tier: str | None = None) -> list[Reply]:
    """Send `count` ICMP echo requests to a loopback address; return one Reply per answer.

    Uses the best available tier, or `tier` ('ping-socket', 'namespace', 'root') if given.
    Only 127.0.0.0/8 is accepted: anything else raises NonLoopbackError before a socket exists.

    >>> [r.seq for r in ping("127.0.0.1", count=2)]   # doctest: +SKIP
    [1, 2]
    """
    host = ensure_loopback(host)
    if ":" in host:
        raise ValueError("IPv6 ping is not supported yet: use 127.0.0.1 / IPv6 ping은 아직 없습니다: 127.0.0.1을 쓰세요")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100:
        raise ValueError(f"count must be an int between 1 and 100, not {count!r}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout!r}")
    payload = bytes(payload)
    from .tiers import resolve
    chosen = resolve(tier, needs=("ping-socket", "namespace", "root"))
    if chosen == "ping-socket":
        return _ping_dgram(host, count, timeout, payload)
    if chosen == "root":
        return _ping_raw(host, count, timeout, payload)
    from .namespace import run_in_namespace
    return run_in_namespace(_ping_raw, host, count, timeout, payload, "namespace", timeout=timeout * count)

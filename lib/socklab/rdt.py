"""Reliable data transfer over UDP: a tiny file-transfer protocol, its reference receivers and sender.

Every packet is a 10-byte header packed with ``struct`` (network byte order) and a payload::

    +---------+--------------------+------------+------------+------------
    | type    | seq                | length     | checksum   | payload ...
    | 2 bytes | 4 bytes (unsigned) | 2 bytes    | 2 bytes    | length bytes
    +---------+--------------------+------------+------------+------------

``type`` is DATA (1), ACK (2) or FIN (3). ``checksum`` is the Internet checksum (RFC 1071) of the
whole packet computed with the checksum field set to 0 (it sits on a 16-bit boundary, so a
valid packet's checksum over everything, checksum included, is 0). The sender numbers DATA packets 0, 1, 2, …
and ends with a FIN whose seq is the number of DATA packets. The receiver answers every valid
packet with an ACK whose seq is the **next seq it expects** (a cumulative ACK, as TCP does) and
silently ignores packets whose checksum or length is wrong.

>>> raw = make_packet(DATA, 0, b"hi")
>>> raw.hex(" ")
'00 01 00 00 00 00 00 02 97 93 68 69'
>>> parse_packet(raw)
(1, 0, b'hi')
>>> parse_packet(raw[:-1] + b"X") is None     # one flipped byte: the checksum no longer matches
True
"""
from __future__ import annotations

import math
import socket
import struct
import threading
import time

from socklab.packets.offline import internet_checksum

__all__ = ["HEADER", "DATA", "ACK", "FIN", "make_packet", "parse_packet", "describe", "Receiver",
           "stop_and_wait_receiver", "sliding_window_receiver", "send_file", "window_violations",
           "time_bound", "chunks", "internet_checksum", "progress_figure"]

HEADER = struct.Struct("!HIHH")    # type, seq, length, checksum
DATA, ACK, FIN = 1, 2, 3
NAMES = {DATA: "DATA", ACK: "ACK", FIN: "FIN"}
CHUNK = 512


def make_packet(kind: int, seq: int, payload: bytes = b"") -> bytes:
    """Header + payload with the checksum filled in."""
    blank = HEADER.pack(kind, seq, len(payload), 0) + payload
    return HEADER.pack(kind, seq, len(payload), internet_checksum(blank)) + payload


def parse_packet(raw: bytes) -> tuple[int, int, bytes] | None:
    """``(type, seq, payload)`` of a valid packet; None if it is short, damaged or of unknown type."""
    if len(raw) < HEADER.size:
        return None
    kind, seq, length, _ = HEADER.unpack_from(raw)
    if kind not in NAMES or length != len(raw) - HEADER.size or internet_checksum(raw) != 0:
        return None
    return kind, seq, raw[HEADER.size:]


def describe(raw: bytes) -> str:
    """A short label for figures and logs: 'DATA 3', 'ACK 4', 'FIN 7' or 'damaged'."""
    packet = parse_packet(raw)
    if packet is None:
        return "damaged"
    kind, seq, payload = packet
    return f"{NAMES[kind]} {seq}"


def chunks(data: bytes, size: int = CHUNK) -> list[bytes]:
    """`data` cut into payloads of at most `size` bytes (one empty payload for empty data: none)."""
    return [data[i:i + size] for i in range(0, len(data), size)]


class Receiver:
    """A reference receiver (a UDP server on 127.0.0.1): one transfer per client address.

    ``window=1`` keeps only in-order packets (stop-and-wait, Go-Back-N); a larger window also keeps
    packets that arrive early, up to ``window - 1`` beyond the next one expected. ``.files`` lists
    ``(client, data)`` for each finished transfer; ``.wait_files(n, timeout)`` waits for them.
    """

    def __init__(self, window: int = 1, *, name: str | None = None, timeout: float = 5.0) -> None:
        from socklab.servers import serve_udp

        if window < 1:
            raise ValueError(f"window={window}: a receive window holds at least 1 packet")
        self.window = window
        self._state: dict[tuple, dict] = {}
        self._done = threading.Condition()
        self.files: list[tuple[tuple, bytes]] = []
        self.ignored = 0   # damaged packets, seen and dropped
        self.server = serve_udp(self._handle, name=name, timeout=timeout)

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def _handle(self, raw: bytes, peer: tuple) -> bytes | None:
        packet = parse_packet(raw)
        if packet is None or packet[0] == ACK:
            self.ignored += 1
            return None
        kind, seq, payload = packet
        st = self._state.setdefault(peer, {"next": 0, "parts": [], "early": {}, "done": False})
        if not st["done"] and seq == st["next"]:
            if kind == FIN:
                st["done"] = True
                st["next"] += 1
                with self._done:
                    self.files.append((peer, b"".join(st["parts"])))
                    self._done.notify_all()
            else:
                st["parts"].append(payload)
                st["next"] += 1
                while st["next"] in st["early"]:   # packets that came early are now in order
                    early_kind, early = st["early"].pop(st["next"])
                    if early_kind == FIN:
                        return self._handle(make_packet(FIN, st["next"]), peer)
                    st["parts"].append(early)
                    st["next"] += 1
        elif not st["done"] and st["next"] < seq < st["next"] + self.window:
            st["early"].setdefault(seq, (kind, payload))
        return make_packet(ACK, st["next"])

    def wait_files(self, n: int = 1, timeout: float = 5.0) -> list[tuple[tuple, bytes]]:
        """Wait until `n` transfers finished; returns ``.files`` (maybe shorter at the deadline)."""
        deadline = time.monotonic() + timeout
        with self._done:
            while len(self.files) < n and (left := deadline - time.monotonic()) > 0:
                self._done.wait(left)
            return list(self.files)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> "Receiver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_and_wait_receiver(*, name: str | None = "rdt-receiver", timeout: float = 5.0) -> Receiver:
    """A receiver that keeps only the packet it expects next (the rest are re-ACKed and dropped)."""
    return Receiver(1, name=name, timeout=timeout)


def sliding_window_receiver(window: int = 8, *, name: str | None = "rdt-window-receiver",
                            timeout: float = 5.0) -> Receiver:
    """A receiver that also keeps up to ``window - 1`` packets that arrive ahead of the one it expects."""
    return Receiver(window, name=name, timeout=timeout)


def send_file(address: tuple[str, int], data: bytes, *, window: int = 1, timeout: float = 0.1,
              chunk: int = CHUNK, give_up: float = 10.0) -> dict:
    """The reference sender (Go-Back-N; ``window=1`` is stop-and-wait). Returns counts and time.

    Raises TimeoutError if the transfer is not acknowledged within `give_up` seconds.
    """
    packets = [make_packet(DATA, i, p) for i, p in enumerate(chunks(data, chunk))]
    packets.append(make_packet(FIN, len(packets)))
    base = nxt = sent = resent = 0
    t0 = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        timer = time.monotonic() + timeout
        while base < len(packets):
            if time.monotonic() - t0 > give_up:
                raise TimeoutError(f"transfer not acknowledged after {give_up:g} s ({base} of {len(packets)} packets)")
            while nxt < len(packets) and nxt < base + window:
                sock.send(packets[nxt])
                sent, nxt = sent + 1, nxt + 1
            sock.settimeout(max(0.0005, timer - time.monotonic()))
            try:
                reply = parse_packet(sock.recv(2048))
            except TimeoutError:
                for i in range(base, nxt):   # Go-Back-N: everything not yet acknowledged, again
                    sock.send(packets[i])
                    sent, resent = sent + 1, resent + 1
                timer = time.monotonic() + timeout
                continue
            except ConnectionRefusedError:
                continue
            if reply and reply[0] == ACK and reply[1] > base:
                base = reply[1]
                timer = time.monotonic() + timeout
    return {"packets": len(packets), "sent": sent, "retransmitted": resent, "seconds": time.monotonic() - t0}


def window_violations(datagrams, window: int) -> list[str]:
    """Where a sender had more than `window` packets unacknowledged, from the channel's own record.

    A DATA/FIN packet with seq s that reached the channel is fine if s < (the highest ACK the
    channel had delivered to the sender by then) + window.
    """
    acked, events = 0, []
    for d in datagrams:
        if d.direction == "down":
            for t in d.out:
                packet = parse_packet(d.sent_data)
                if packet and packet[0] == ACK:
                    events.append((t, 0, packet[1], d))
        else:
            packet = parse_packet(d.data)
            if packet and packet[0] in (DATA, FIN):
                events.append((d.t_in, 1, packet[1], d))
    problems = []
    for t, kind, seq, d in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            acked = max(acked, seq)
        elif seq >= acked + window:
            problems.append(f"seq {seq} sent at {t * 1000:.0f} ms while only {acked} were acknowledged "
                            f"(window {window})")
    return problems


def time_bound(n_packets: int, window: int, *, rtt: float, timeout: float, losses: int) -> float:
    """A generous limit (s) for a sliding-window transfer: every window of packets costs one round
    trip, every loss a timeout and a round trip, all doubled, plus half a second.

    >>> round(time_bound(41, 8, rtt=0.04, timeout=0.1, losses=4), 2)
    2.18
    """
    rounds = math.ceil(n_packets / window) + 1
    return 2 * (rounds * rtt + losses * (timeout + rtt)) + 0.5


def progress_figure(datagrams, window: int, *, title: str = "sliding window"):
    """The sender's progress (matplotlib Figure): DATA seqs over time, the ACKed edge and the window."""
    from socklab._lossy_figure import window_progress
    return window_progress(datagrams, window, title=title)


"""Capture files through scapy's readers and writers: pcap (µs or ns), pcapng, and the link types of Linux.

Records always hold Ethernet frames, as socklab's own loopback captures do. A capture made with
``tcpdump -i any`` (Linux cooked, SLL/SLL2), on a raw-IP link, or on BSD loopback (NULL) is given
the same all-zero Ethernet header Linux puts on ``lo`` frames, so everything downstream
(``Capture.packets``, timelines) reads one format. Times are computed exactly (decimal) and kept
relative to the first packet, so nothing is rounded into the wrong second.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

__all__ = ["read_pcap", "save_pcap"]

_ETHERNET = 1
_ZERO_MACS = bytes(12)
_IPV4, _IPV6 = b"\x08\x00", b"\x86\xdd"


def _ethernet(raw: bytes, linktype: int) -> bytes | None:
    """The frame as Ethernet bytes; None for a frame that carries nothing we can show."""
    from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Loopback

    if linktype == _ETHERNET:
        return raw
    layer = {113: CookedLinux, 276: CookedLinuxV2, 0: Loopback, 108: Loopback}.get(linktype)
    if layer is None and linktype in (12, 14, 101, 228, 229):  # raw IP: no link header at all
        body = raw
    elif layer is None:
        raise ValueError(f"link type {linktype} is not supported: socklab reads Ethernet, Linux cooked (SLL, SLL2), "
                         "raw IP and BSD loopback captures / 지원하지 않는 링크 타입입니다")
    else:
        frame = layer(raw)
        payload = bytes(frame.payload)
        body = raw[len(raw) - len(payload):] if payload else b""
        proto = getattr(frame, "proto", None)
        if proto is not None and not (body and body[0] >> 4 in (4, 6)):
            return _ZERO_MACS + int(proto).to_bytes(2, "big") + body  # e.g. ARP in a cooked capture
    if not body or body[0] >> 4 not in (4, 6):
        return None
    return _ZERO_MACS + (_IPV4 if body[0] >> 4 == 4 else _IPV6) + body


def read_pcap(path) -> list:
    """Records of a pcap or pcapng file (any of Ethernet, Linux cooked, raw IP), times relative to the first packet."""
    from scapy.error import Scapy_Exception
    from scapy.utils import RawPcapReader

    from .capture import Record

    path = Path(path)
    records, first = [], None
    with open(path, "rb") as f:  # our own handle: scapy leaves its file open when the format is unknown
        try:
            reader = RawPcapReader(f)
        except (Scapy_Exception, EOFError) as exc:
            raise ValueError(f"{path} is not a pcap or pcapng capture ({exc}) / pcap 파일이 아닙니다") from None
        for raw, meta in reader:
            if hasattr(meta, "tsresol"):  # pcapng: a 64-bit count of 1/tsresol seconds
                when = Decimal((meta.tshigh << 32) + meta.tslow) / Decimal(meta.tsresol)
                linktype = meta.linktype
            else:
                when = Decimal(meta.sec) + Decimal(meta.usec) / (10 ** 9 if reader.nano else 10 ** 6)
                linktype = reader.linktype
            frame = _ethernet(bytes(raw), linktype)
            if frame is None:
                continue
            first = when if first is None else first
            records.append(Record(float(when - first), frame))
    return records


def save_pcap(records, path) -> Path:
    """Write records (or a Capture) as a nanosecond pcap file that Wireshark/tcpdump open."""
    from scapy.utils import RawPcapWriter

    path = Path(path)
    with RawPcapWriter(str(path), linktype=_ETHERNET, nano=True, endianness="<") as writer:
        writer.write_header(None)
        for t, raw in ((r[0], r[1]) for r in getattr(records, "records", records)):
            # Whole nanoseconds first, then split: t = x.9999995 must not lose its second.
            sec, nsec = divmod(round(Decimal(repr(float(t))) * 10 ** 9), 10 ** 9)
            writer.write_packet(bytes(raw), sec=sec, usec=nsec)
    return path

"""Tier 1 (always available): build, dissect, hexdump and checksum packets without sending anything.

Nothing here opens a socket. scapy is imported inside the functions that need it, so
``import socklab`` stays fast.
"""
from __future__ import annotations

import struct

__all__ = [
    "internet_checksum", "icmp_echo_bytes", "echo_request", "dissect", "hexdump",
    "verify_checksums", "explain_checksum", "strip_link",
]

ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST = 0, 8
_PROTO_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP"}


def internet_checksum(data: bytes) -> int:
    """RFC 1071 checksum: one's-complement sum of 16-bit words, folded and inverted.

    A packet whose checksum field is correct sums (checksum included) to 0.

    >>> hex(internet_checksum(bytes.fromhex("0800 0000 0001 0001")))
    '0xf7fd'
    >>> internet_checksum(bytes.fromhex("0800 f7fd 0001 0001"))
    0
    """
    if len(data) % 2:
        data += b"\0"  # pad odd length with a zero byte (RFC 1071)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp_echo_bytes(ident: int, seq: int, payload: bytes = b"socklab", *, reply: bool = False) -> bytes:
    """The bytes of an ICMP echo request (or reply): type, code, checksum, id, seq, payload.

    >>> icmp_echo_bytes(1, 1, b"").hex()
    '0800f7fd00010001'
    """
    kind = ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST
    head = struct.pack("!BBHHH", kind, 0, 0, ident & 0xFFFF, seq & 0xFFFF)
    csum = internet_checksum(head + payload)
    return struct.pack("!BBHHH", kind, 0, csum, ident & 0xFFFF, seq & 0xFFFF) + payload


def echo_request(id: int = 1, seq: int = 1, payload: bytes = b"socklab", *,
                 src: str = "127.0.0.1", dst: str = "127.0.0.1"):
    """A scapy IP/ICMP echo request (nothing is sent). ``.show()`` it, ``bytes()`` it, change fields.

    Only loopback addresses are accepted, so the packet cannot be aimed at a real network.

    >>> p = echo_request(7, 1, b"hi")
    >>> p["ICMP"].id, p["ICMP"].seq, bytes(p["ICMP"].payload)
    (7, 1, b'hi')
    """
    from .guard import ensure_loopback
    src, dst = ensure_loopback(src), ensure_loopback(dst)
    from scapy.layers.inet import ICMP, IP
    from scapy.packet import Raw
    # Build from bytes so checksums and lengths are filled in, like a packet read from the wire.
    return IP(bytes(IP(src=src, dst=dst) / ICMP(type=8, id=id, seq=seq) / Raw(payload)))


def strip_link(raw: bytes) -> bytes:
    """Drop the 14-byte Ethernet header a loopback frame carries; IP packets pass through.

    >>> strip_link(bytes(12) + b"\\x08\\x00" + b"\\x45rest")
    b'Erest'
    """
    if len(raw) >= 14 and raw[12:14] in (b"\x08\x00", b"\x86\xdd") and raw[14] >> 4 in (4, 6):
        return raw[14:]
    return raw


def _as_bytes(packet) -> bytes:
    return packet if isinstance(packet, (bytes, bytearray, memoryview)) else bytes(packet)


def _shown_fields(layer) -> list[str]:
    """The fields scapy's ``show()`` lists for this layer: conditional ones only when they apply."""
    from scapy.fields import ConditionalField
    names, fields = [], list(layer.fields_desc)
    while fields:
        f = fields.pop(0)
        if isinstance(f, ConditionalField) and not f._evalcond(layer):
            continue  # e.g. an echo request has no timestamp, gateway or address-mask fields
        if hasattr(f, "fields"):  # a group of sub-fields, shown one by one
            fields[0:0] = [x for x in f.fields if hasattr(layer, x.name)]
            continue
        names.append(f.name)
    return names


def dissect(packet) -> dict:
    """Fields of every layer of a packet (raw bytes or scapy packet) as ``{layer: {field: value}}``.

    The same fields, in the same order, as scapy's ``show()``: only those the packet has.

    >>> d = dissect(icmp_echo_request_bytes_example())
    >>> d["IP"]["proto"], d["ICMP"]["type"], d["ICMP"]["id"]
    (1, 8, 7)
    """
    raw = strip_link(bytes(_as_bytes(packet)))
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    pkt = IPv6(raw) if raw and raw[0] >> 4 == 6 else IP(raw)
    layers: dict[str, dict] = {}
    layer = pkt
    while layer is not None and layer.__class__.__name__ != "NoPayload":
        name = layer.__class__.__name__
        if name == "Raw":
            layers["Raw"] = {"load": bytes(layer.load)}
        else:
            layers[name] = {f: layer.getfieldval(f) for f in _shown_fields(layer)}
        layer = layer.payload if layer.payload else None
    return layers


def icmp_echo_request_bytes_example() -> bytes:
    """A loopback IPv4 echo request (id 7, seq 1, payload b'hi') as bytes, for examples."""
    icmp = icmp_echo_bytes(7, 1, b"hi")
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                       bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    head = head[:10] + struct.pack("!H", internet_checksum(head)) + head[12:]
    return head + icmp


def _checksum_regions(raw: bytes) -> list[tuple[str, bytes, int]]:
    """(what, bytes the checksum covers, offset of the checksum field inside them) per checksum."""
    raw = strip_link(raw)
    if not raw or raw[0] >> 4 != 4:
        raise ValueError("checksums are explained for IPv4 packets only / IPv4 패킷만 설명합니다")
    ihl = (raw[0] & 0x0F) * 4
    total = struct.unpack("!H", raw[2:4])[0] or len(raw)
    proto, src, dst = raw[9], raw[12:16], raw[16:20]
    body = raw[ihl:total]
    regions = [("IP header", raw[:ihl], 10)]
    if proto == 1:
        regions.append(("ICMP", body, 2))
    elif proto in (6, 17):
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(body))
        regions.append((_PROTO_NAMES[proto] + " (+ pseudo header)", pseudo + body, 12 + (16 if proto == 6 else 6)))
    return regions


def verify_checksums(packet) -> dict[str, bool]:
    """Whether each checksum in an IPv4 packet is correct: ``{'IP header': True, 'ICMP': True}``.

    TCP/UDP packets captured on loopback show False: Linux skips that checksum there
    (checksum offload); explain_checksum() says so.

    >>> verify_checksums(icmp_echo_request_bytes_example())
    {'IP header': True, 'ICMP': True}
    """
    return {what: internet_checksum(data) == 0 for what, data, _ in _checksum_regions(_as_bytes(packet))}


def explain_checksum(packet, layer: str = "ICMP") -> str:
    """Show, step by step, how one checksum of an IPv4 packet is computed and checked.

    `layer` is 'IP', 'ICMP', 'TCP' or 'UDP'. The explanation sums the 16-bit words with the
    checksum field set to zero, folds the carries, inverts, and compares with the stored value.
    """
    regions = {what.split()[0]: (what, data, off) for what, data, off in _checksum_regions(_as_bytes(packet))}
    key = "IP" if layer.upper() in ("IP", "IPV4") else layer.upper()
    if key not in regions:
        raise ValueError(f"no {layer} checksum in this packet; it has: {', '.join(regions)}")
    what, data, off = regions[key]
    stored = struct.unpack("!H", data[off:off + 2])[0]
    zeroed = data[:off] + b"\0\0" + data[off + 2:]
    padded = zeroed + (b"\0" if len(zeroed) % 2 else b"")
    words = struct.unpack(f"!{len(padded) // 2}H", padded)
    total = sum(words)
    lines = [f"{what}: {len(data)} bytes -> {len(words)} words of 16 bits (checksum field set to 0)"]
    shown = " + ".join(f"{w:04x}" for w in words[:12]) + (" + …" if len(words) > 12 else "")
    lines.append(f"  sum   = {shown} = 0x{total:x}")
    while total >> 16:
        folded = (total & 0xFFFF) + (total >> 16)
        lines.append(f"  fold  = 0x{total & 0xFFFF:04x} + 0x{total >> 16:x} = 0x{folded:x}")
        total = folded
    computed = ~total & 0xFFFF
    lines.append(f"  invert: ~0x{total:04x} = 0x{computed:04x}")
    ok = computed == stored
    lines.append(f"  stored 0x{stored:04x} -> {'OK 일치 / matches' if ok else 'WRONG 불일치 / does not match'}")
    if not ok and "pseudo" in what and stored == ~internet_checksum(data[:12]) & 0xFFFF:
        # CHECKSUM_PARTIAL: the kernel left the sum for a network card that loopback does not have.
        lines.append("  note: checksum offload - loopback에서 커널은 TCP/UDP 체크섬을 끝까지 계산하지 않고 가상 헤더의 "
                     "합만 넣어 둡니다(받는 쪽도 검사하지 않음). / on loopback Linux leaves only the pseudo-header "
                     "sum in the field (offload), and the receiver does not check it.")
    return "\n".join(lines)


def hexdump(packet, width: int = 16) -> str:
    """Offset, hex bytes and printable ASCII of a packet, 16 bytes a line.

    >>> print(hexdump(b"GET / HTTP/1.0\\r\\n"))
    0000  47 45 54 20 2f 20 48 54 54 50 2f 31 2e 30 0d 0a  GET / HTTP/1.0..
    """
    raw = bytes(_as_bytes(packet))
    lines = []
    for off in range(0, len(raw), width):
        chunk = raw[off:off + width]
        hexpart = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:04x}  {hexpart}  {text}")
    return "\n".join(lines)

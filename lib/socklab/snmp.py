"""SNMPv2c on loopback: small agents for the manager/agent model (exercise 7) and a reference manager.

An agent answers GET requests for the OIDs in its little MIB, exactly as a router or printer
would: a real SNMPv2c packet (scapy's SNMP layer) over UDP. A *silent* agent receives but never
answers, like a switched-off node, so a manager has to time out on it. Agents with the wrong
community string are ignored, as real agents do.

>>> with agent({SYS_NAME: "router-1"}, name="doc-agent") as a:
...     get(a.address, SYS_NAME, timeout=1.0)
'router-1'
"""
from __future__ import annotations

import dataclasses
import itertools
import socket
import threading
import time

from socklab import servers
from socklab.packets.guard import ensure_loopback

__all__ = ["SYS_DESCR", "SYS_UPTIME", "SYS_NAME", "agent", "agents", "get", "poll", "encode_value",
           "decode_value", "get_request", "Field", "fields"]

#: Well-known OIDs of the system group (MIB-2).
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"

_ids = itertools.count(1)
_ids_lock = threading.Lock()


def _layers():
    # Imported on first use: scapy costs a quarter of a second to import.
    from scapy.asn1.asn1 import ASN1_INTEGER, ASN1_OID, ASN1_STRING, ASN1_TIME_TICKS
    from scapy.layers.snmp import SNMP, SNMPget, SNMPresponse, SNMPvarbind
    return SNMP, SNMPget, SNMPresponse, SNMPvarbind, ASN1_OID, ASN1_STRING, ASN1_INTEGER, ASN1_TIME_TICKS


def _norm_oid(oid: str) -> str:
    return str(oid).strip().lstrip(".")


def encode_value(oid: str, value):
    """A Python value as the ASN.1 value an agent sends (str → OCTET STRING, int → INTEGER/TimeTicks)."""
    *_, ASN1_OID, ASN1_STRING, ASN1_INTEGER, ASN1_TIME_TICKS = _layers()
    if isinstance(value, str):
        return ASN1_STRING(value.encode("utf-8"))
    if isinstance(value, bytes):
        return ASN1_STRING(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return ASN1_TIME_TICKS(value) if _norm_oid(oid) == SYS_UPTIME else ASN1_INTEGER(value)
    raise TypeError(f"MIB values must be str, bytes or int, not {type(value).__name__} ({oid})")


def decode_value(value):
    """The Python value of an ASN.1 value from a response: OCTET STRING → str, numbers → int."""
    raw = getattr(value, "val", value)
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    return raw


def get_request(oid: str, *, community: str = "public", request_id: int | None = None) -> bytes:
    """The bytes of an SNMPv2c GET request for one OID (what a manager sends)."""
    SNMP, SNMPget, _resp, SNMPvarbind, ASN1_OID, *_ = _layers()
    if request_id is None:
        with _ids_lock:
            request_id = next(_ids)
    return bytes(SNMP(community=community,
                      PDU=SNMPget(id=request_id, varbindlist=[SNMPvarbind(oid=ASN1_OID(_norm_oid(oid)))])))


def _answer(data: bytes, mib: dict[str, object], community: str) -> bytes | None:
    SNMP, SNMPget, SNMPresponse, SNMPvarbind, ASN1_OID, *_ = _layers()
    try:
        request = SNMP(data)
        pdu = request.PDU
    except Exception:  # not SNMP at all: a real agent drops it
        return None
    if not isinstance(pdu, SNMPget):
        return None
    if decode_value(request.community) != community:
        return None  # wrong community: real agents drop it (and count snmpInBadCommunityNames)
    bindings = []
    for vb in pdu.varbindlist:
        oid = _norm_oid(vb.oid.val)
        if oid in mib:
            bindings.append(SNMPvarbind(oid=ASN1_OID(oid), value=encode_value(oid, mib[oid])))
        else:
            bindings.append(SNMPvarbind(oid=ASN1_OID(oid), noSuchObject=0))
    response = SNMP(version=request.version, community=request.community,
                    PDU=SNMPresponse(id=pdu.id, varbindlist=bindings))
    return bytes(response)


def _stale(data: bytes, mib: dict[str, object], community: str) -> bytes | None:
    """A response to request id - 1 with decoy values: what a late reply to an earlier request looks like."""
    SNMP, SNMPget, *_ = _layers()
    request = SNMP(data)
    decoy = {oid: ("stale-" + v if isinstance(v, str) else v + 1000 if isinstance(v, int) else v)
             for oid, v in mib.items()}
    older = SNMP(version=request.version, community=request.community,
                 PDU=SNMPget(id=(int(request.PDU.id.val) - 1) % 2**31, varbindlist=request.PDU.varbindlist))
    return _answer(bytes(older), decoy, community)


def agent(mib: dict[str, object], *, community: str = "public", silent: bool = False, name: str | None = None,
          timeout: float = 5.0, stale_first: bool = False) -> servers.Server:
    """Start an SNMPv2c agent on 127.0.0.1 (UDP, free port) that answers GET for the OIDs in `mib`.

    ``silent=True`` makes an agent that never answers (a node that is down). ``stale_first=True``
    first sends a response to an *older* request id (with decoy values), then the right one, as
    happens when a late reply to an earlier, timed-out request arrives: a manager must match ids.
    Returns a socklab Server: ``.address`` to poll, ``.log`` to see what arrived, ``.stop()``.
    """
    table = {_norm_oid(k): v for k, v in mib.items()}
    for oid, value in table.items():
        encode_value(oid, value)  # fail now, with a clear message, not inside the agent's thread

    received: list[bytes] = []

    def handle(data: bytes, addr: tuple) -> bytes | None:
        if len(received) < 100:
            received.append(bytes(data))  # what really arrived, for byte maps (figures.snmp_byte_map)
        if silent:
            return None
        reply = _answer(data, table, community)
        if reply is not None and stale_first:
            stale = _stale(data, table, community)
            if stale is not None:
                server._sock.sendto(stale, addr)  # same source address as the real reply
        return reply

    server = servers.serve_udp(handle, name=name, timeout=timeout)
    server.datagrams = received  # type: ignore[attr-defined]
    return server


def agents(mibs: list[dict[str, object]], *, silent: tuple[int, ...] = (), community: str = "public",
           prefix: str = "agent", stale_first: tuple[int, ...] = ()) -> list[servers.Server]:
    """Several agents at once; the ones whose index is in `silent` never answer, those in
    `stale_first` send a late reply to an older request id before the right one."""
    return [agent(mib, community=community, silent=i in silent, name=f"{prefix}-{i}", stale_first=i in stale_first)
            for i, mib in enumerate(mibs)]


def get(address: tuple[str, int], oid: str, *, community: str = "public", timeout: float = 1.0):
    """Reference manager: one SNMPv2c GET; the value as str/int, or None if no answer in `timeout` s."""
    SNMP, *_ = _layers()
    host, port = address
    ensure_loopback(host)
    with _ids_lock:
        request_id = next(_ids)
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(get_request(oid, community=community, request_id=request_id), (host, port))
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(65535)
            except (TimeoutError, ConnectionRefusedError):
                return None
            reply = SNMP(data)
            if getattr(reply.PDU, "id", None) is not None and reply.PDU.id.val == request_id:
                vb = reply.PDU.varbindlist[0]
                if any(getattr(vb, f, None) is not None for f in ("noSuchObject", "noSuchInstance", "endOfMibView")):
                    return None
                return decode_value(vb.value)
    return None


def poll(addresses: list[tuple[str, int]], oid: str, *, community: str = "public", timeout: float = 0.5) -> dict:
    """Reference manager: GET `oid` from every agent; silent agents map to None."""
    return {tuple(a): get(tuple(a), oid, community=community, timeout=timeout) for a in addresses}


# -- the bytes of a message, field by field (BER: tag, length, value) ----------------------------
_TAGS = {0x02: "INTEGER", 0x04: "OCTET STRING", 0x05: "NULL", 0x06: "OBJECT IDENTIFIER", 0x30: "SEQUENCE",
         0x43: "TimeTicks", 0xA0: "GetRequest-PDU", 0xA1: "GetNextRequest-PDU", 0xA2: "Response-PDU",
         0xA3: "SetRequest-PDU", 0x80: "noSuchObject", 0x81: "noSuchInstance", 0x82: "endOfMibView"}
# What each position means in an SNMPv1/v2c message (RFC 3416): path of child indexes -> name.
_ROLES = {(0,): "message", (0, 0): "version", (0, 1): "community", (0, 2): "PDU", (0, 2, 0): "request-id",
          (0, 2, 1): "error-status", (0, 2, 2): "error-index", (0, 2, 3): "variable-bindings"}
_VERSIONS = {0: "SNMPv1", 1: "SNMPv2c", 3: "SNMPv3"}


@dataclasses.dataclass(frozen=True)
class Field:
    """One BER element: where it starts, how long its header (tag+length) and value are, what it is."""

    offset: int
    header: int
    length: int
    tag: int
    type: str
    role: str
    depth: int
    value: object

    @property
    def end(self) -> int:
        return self.offset + self.header + self.length


def _oid_text(raw: bytes) -> str:
    parts, n = [raw[0] // 40, raw[0] % 40], 0
    for b in raw[1:]:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(n)
            n = 0
    return ".".join(map(str, parts))


def fields(data: bytes) -> list[Field]:
    """Walk an SNMP message's BER encoding: every element, outermost first, with its role.

    >>> [(f.role, f.value) for f in fields(get_request(SYS_NAME, request_id=7))][1:5]
    [('version', 'SNMPv2c'), ('community', 'public'), ('PDU', None), ('request-id', 7)]
    >>> [(f.role, f.value) for f in fields(get_request(SYS_NAME, request_id=7))][-2:]
    [('name (OID)', '1.3.6.1.2.1.1.5.0'), ('value', None)]
    """
    data = bytes(data)
    out: list[Field] = []

    def walk(start: int, stop: int, path: tuple[int, ...]) -> None:
        pos, index = start, 0
        while pos < stop:
            if pos + 2 > stop:
                raise ValueError(f"BER element cut short at byte {pos}: need a tag and a length")
            tag, length, head = data[pos], data[pos + 1], 2
            if length & 0x80:  # long form: the next (length & 0x7F) bytes hold the length
                count = length & 0x7F
                length = int.from_bytes(data[pos + 2:pos + 2 + count], "big")
                head += count
            if pos + head + length > stop:
                raise ValueError(f"BER element at byte {pos} says {length} bytes but only {stop - pos - head} follow")
            body = data[pos + head:pos + head + length]
            here = path + (index,)
            role = _ROLES.get(here) or ("varbind" if len(here) == 4 else "name (OID)" if len(here) == 5 and index == 0
                                        else "value" if len(here) == 5 else "")
            value: object = None
            if tag in (0x02, 0x43):
                value = int.from_bytes(body, "big", signed=tag == 0x02)
                if role == "version":
                    value = _VERSIONS.get(value, value)
            elif tag == 0x04:
                value = body.decode("utf-8", "replace")
            elif tag == 0x06:
                value = _oid_text(body)
            out.append(Field(pos, head, length, tag, _TAGS.get(tag, f"tag 0x{tag:02x}"), role, len(here) - 1, value))
            if tag & 0x20:  # constructed: its value is more elements
                walk(pos + head, pos + head + length, here)
            pos += head + length
            index += 1

    walk(0, len(data), ())
    return out

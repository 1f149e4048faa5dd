"""SNMP v1/v2c on loopback: small agents for the manager/agent model (exercise 7) and a reference manager.

An agent holds a little MIB (``{oid: value}``) and answers as a router or printer would, with real
SNMP packets (scapy's SNMP layer) over UDP: GET, GETNEXT (so ``snmpwalk`` works), GETBULK, and SET
on the objects named ``writable`` (with the write community). Missing objects come back as
noSuchObject / noSuchInstance (v2c) or a noSuchName error (v1), the end of the MIB as endOfMibView,
exactly as net-snmp's ``snmpd`` does. A *silent* agent receives but never answers, like a
switched-off node, so a manager has to time out on it. A wrong community is ignored, as real
agents do.

>>> with agent({SYS_NAME: "router-1", SYS_LOCATION: "lab"}, writable=[SYS_LOCATION], name="doc-agent") as a:
...     print(get(a.address, SYS_NAME, timeout=1.0), walk(a.address, "1.3.6.1.2.1.1", timeout=1.0))
...     print(set_value(a.address, SYS_LOCATION, "room 101", timeout=1.0), get(a.address, SYS_LOCATION))
router-1 [('1.3.6.1.2.1.1.5.0', 'router-1'), ('1.3.6.1.2.1.1.6.0', 'lab')]
noError room 101
"""
from __future__ import annotations

import bisect
import dataclasses
import ipaddress
import itertools
import socket
import threading
import time

# Imported with this module, not inside get(): the import costs 0.3-1 s, which would otherwise
# be spent inside the first call's timeout (``import socklab`` itself stays instant).
from scapy.asn1.asn1 import ASN1_INTEGER, ASN1_NULL, ASN1_OID, ASN1_STRING, ASN1_TIME_TICKS
from scapy.layers.snmp import SNMP, SNMPbulk, SNMPget, SNMPnext, SNMPresponse, SNMPset, SNMPvarbind

from socklab import servers
from socklab.packets.guard import ensure_loopback

__all__ = ["SYS_DESCR", "SYS_UPTIME", "SYS_CONTACT", "SYS_NAME", "SYS_LOCATION", "ERRORS", "agent", "agents",
           "get", "get_next", "walk", "set_value", "poll", "encode_value", "decode_value", "get_request", "Field", "fields"]

#: Well-known OIDs of the system group (MIB-2).
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_CONTACT = "1.3.6.1.2.1.1.4.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_LOCATION = "1.3.6.1.2.1.1.6.0"

#: error-status values of RFC 3416 (v1 uses only 0-5).
ERRORS = {0: "noError", 1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr",
          6: "noAccess", 7: "wrongType", 8: "wrongLength", 9: "wrongEncoding", 10: "wrongValue",
          11: "noCreation", 12: "inconsistentValue", 13: "resourceUnavailable", 14: "commitFailed",
          15: "undoFailed", 16: "authorizationError", 17: "notWritable", 18: "inconsistentName"}
_CODE = {name: code for code, name in ERRORS.items()}
# How a v1 agent reports a v2 error (RFC 3584 section 4.4).
_AS_V1 = {"noAccess": "noSuchName", "notWritable": "noSuchName", "noCreation": "noSuchName",
          "wrongType": "badValue", "wrongLength": "badValue", "wrongValue": "badValue"}
_MAX_RESPONSE = 65000  # bytes: a GETBULK answer is cut to fit one UDP datagram

_ids = itertools.count(1)
_ids_lock = threading.Lock()


def _norm_oid(oid) -> str:
    return str(getattr(oid, "val", oid)).strip().lstrip(".")


def _key(oid) -> tuple[int, ...]:
    text = _norm_oid(oid)
    try:
        key = tuple(int(part) for part in text.split("."))
    except ValueError:
        key = ()
    if len(key) < 2 or any(n < 0 for n in key) or not text.isascii():
        raise ValueError(f"not an OID: {oid!r}; write dotted numbers such as '1.3.6.1.2.1.1.5.0'")
    return key


def _text(key: tuple[int, ...]) -> str:
    return ".".join(map(str, key))


def encode_value(oid: str, value):
    """A Python value as the ASN.1 value an agent sends (str → OCTET STRING, int → INTEGER/TimeTicks)."""
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
    if request_id is None:
        request_id = _next_id()
    return bytes(SNMP(community=community,
                      PDU=SNMPget(id=request_id, varbindlist=[SNMPvarbind(oid=ASN1_OID(_norm_oid(oid)))])))


def _next_id() -> int:
    with _ids_lock:
        return next(_ids)


# -- agent ------------------------------------------------------------------------------------
class _Mib:
    """The agent's objects in OID order; SET changes only `writable` ones, all or nothing."""

    def __init__(self, mib: dict, writable) -> None:
        self.values = {_key(oid): value for oid, value in mib.items()}
        for key, value in self.values.items():
            encode_value(_text(key), value)  # fail now, with a clear message, not inside the agent's thread
        self.writable = {_key(oid) for oid in writable}
        if missing := self.writable - set(self.values):
            raise ValueError(f"writable OIDs must be in the MIB too: {sorted(map(_text, missing))}")
        self.order = sorted(self.values)
        self.lock = threading.Lock()

    def _has_object(self, key: tuple[int, ...]) -> bool:
        # An instance such as sysName.0 belongs to the object sysName: the OID without its last number.
        return any(key[:len(k) - 1] == k[:-1] for k in self.values)

    def binding(self, key: tuple[int, ...]) -> tuple[SNMPvarbind, bool]:
        """The varbind a GET answers for `key`, and whether the object exists."""
        if key in self.values:
            return SNMPvarbind(oid=ASN1_OID(_text(key)), value=encode_value(_text(key), self.values[key])), True
        marker = "noSuchInstance" if self._has_object(key) else "noSuchObject"
        return SNMPvarbind(oid=ASN1_OID(_text(key)), value=None, **{marker: ASN1_NULL(0)}), False

    def after(self, key: tuple[int, ...]) -> tuple[SNMPvarbind, tuple[int, ...] | None]:
        """GETNEXT: the first object after `key` (tuples compare in OID order), or endOfMibView."""
        i = bisect.bisect_right(self.order, key)
        if i == len(self.order):
            return SNMPvarbind(oid=ASN1_OID(_text(key)), value=None, endOfMibView=ASN1_NULL(0)), None
        nxt = self.order[i]
        return SNMPvarbind(oid=ASN1_OID(_text(nxt)), value=encode_value(_text(nxt), self.values[nxt])), nxt

    def check_set(self, key: tuple[int, ...], value) -> str:
        if key not in self.values:
            return "noCreation"
        if key not in self.writable:
            return "notWritable"
        if getattr(value, "tag", None) != encode_value(_text(key), self.values[key]).tag:
            return "wrongType"
        return "noError"

    def store(self, key: tuple[int, ...], value) -> None:
        raw = value.val
        if isinstance(self.values[key], str) and isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
        self.values[key] = raw


def _answer(data: bytes, mib: _Mib, community: str, write_community: str | None) -> bytes | None:
    try:
        request = SNMP(data)
        version, pdu, comm = request.version.val, request.PDU, request.community.val
    except Exception:  # not SNMP at all: a real agent drops it (and counts snmpInASNParseErrs)
        return None
    kind = type(pdu)
    if version not in (0, 1) or kind not in (SNMPget, SNMPnext, SNMPbulk, SNMPset) or (kind is SNMPbulk and version == 0):
        return None  # v3, traps, responses, or GETBULK in v1 (which has none): dropped
    names = {c.encode() for c in (community, write_community) if c is not None}
    if comm not in names:
        return None  # wrong community: real agents drop it (and count snmpInBadCommunityNames)
    try:
        keys = [_key(vb.oid) for vb in pdu.varbindlist]
    except ValueError:
        return None
    v1 = version == 0
    error, index, bindings = "noError", 0, []
    with mib.lock:
        if kind is SNMPget:
            for i, key in enumerate(keys):
                vb, found = mib.binding(key)
                if not found and v1:
                    error, index = "noSuchName", i + 1
                    break
                bindings.append(vb)
        elif kind is SNMPnext:
            for i, key in enumerate(keys):
                vb, nxt = mib.after(key)
                if nxt is None and v1:
                    error, index = "noSuchName", i + 1
                    break
                bindings.append(vb)
        elif kind is SNMPbulk:
            bindings = _bulk(mib, keys, pdu.non_repeaters.val, pdu.max_repetitions.val)
        else:
            may_write = write_community is not None and comm == write_community.encode()
            error, index = _set(mib, keys, pdu.varbindlist, may_write)
    if error != "noError":
        error = _AS_V1.get(error, error) if v1 else error
        bindings = list(pdu.varbindlist)  # an error answer echoes the request's bindings
    elif kind is SNMPset:
        bindings = list(pdu.varbindlist)
    raw = _response(version, comm, pdu.id, error, index, bindings)
    if len(raw) > _MAX_RESPONSE and kind is SNMPbulk:
        while len(raw) > _MAX_RESPONSE and len(bindings) > 1:  # GETBULK: send fewer repetitions
            bindings = bindings[:len(bindings) * 3 // 4]
            raw = _response(version, comm, pdu.id, error, index, bindings)
    elif len(raw) > _MAX_RESPONSE:  # RFC 3416 4.2.1: too big for one datagram → tooBig, no bindings
        raw = _response(version, comm, pdu.id, "tooBig", 0, [])
    return raw


def _response(version: int, community: bytes, request_id, error: str, index: int, bindings: list) -> bytes:
    return bytes(SNMP(version=version, community=community,
                      PDU=SNMPresponse(id=request_id, error=_CODE[error], error_index=index, varbindlist=bindings)))


def _bulk(mib: _Mib, keys: list, non_repeaters: int, max_repetitions: int) -> list:
    n = max(0, min(non_repeaters, len(keys)))
    bindings = [mib.after(key)[0] for key in keys[:n]]
    current = keys[n:]
    for _ in range(max(0, min(max_repetitions, 1000))):
        if not current:
            break
        row = [mib.after(key) for key in current]
        bindings.extend(vb for vb, _ in row)
        if all(nxt is None for _, nxt in row):
            break  # every repeater is past the end: the rest would repeat endOfMibView (RFC 3416 4.2.3)
        current = [nxt if nxt is not None else key for key, (_, nxt) in zip(current, row)]
    return bindings


def _set(mib: _Mib, keys: list, varbinds: list, may_write: bool) -> tuple[str, int]:
    # All bindings are checked before any is applied: a SET changes everything or nothing.
    for i, (key, vb) in enumerate(zip(keys, varbinds)):
        status = "noAccess" if not may_write else mib.check_set(key, vb.value)
        if status != "noError":
            return status, i + 1
    for key, vb in zip(keys, varbinds):
        mib.store(key, vb.value)
    return "noError", 0


def _stale(data: bytes, mib: dict[str, object], writable, community: str, write_community: str | None) -> bytes | None:
    """A response to request id - 1 with decoy values: what a late reply to an earlier request looks like."""
    try:
        request = SNMP(data)
        older = SNMP(version=request.version, community=request.community,
                     PDU=SNMPget(id=(int(request.PDU.id.val) - 1) % 2**31, varbindlist=request.PDU.varbindlist))
    except Exception:
        return None
    decoy = {oid: ("stale-" + v if isinstance(v, str) else v + 1000 if isinstance(v, int) else v)
             for oid, v in mib.items()}
    return _answer(bytes(older), _Mib(decoy, writable), community, write_community)


def agent(mib: dict[str, object], *, community: str = "public", writable=(), write_community: str | None = "private",
          silent: bool = False, name: str | None = None, timeout: float = 5.0,
          stale_first: bool = False) -> servers.Server:
    """Start an SNMP v1/v2c agent on 127.0.0.1 (UDP, free port) serving the OIDs in `mib`.

    GET/GETNEXT/GETBULK with `community` or `write_community`; SET with `write_community` on the
    OIDs in `writable`. ``silent=True`` makes an agent that never answers (a node that is down).
    ``stale_first=True`` first sends a response to an *older* request id (with decoy values), then
    the right one, as when a late reply to an earlier, timed-out request arrives: a manager must
    match ids. ``.datagrams`` keeps the first 100 datagrams that arrived (for byte maps).
    Returns a socklab Server: ``.address`` to poll, ``.log`` to see what arrived, ``.stop()``,
    ``.mib()`` for the current values.
    """
    table = _Mib(mib, writable)

    received: list[bytes] = []

    def handle(data: bytes, addr: tuple) -> bytes | None:
        if len(received) < 100:
            received.append(bytes(data))  # what really arrived, for byte maps (figures.snmp_byte_map)
        if silent:
            return None
        reply = _answer(data, table, community, write_community)
        if reply is not None and stale_first:
            stale = _stale(data, mib, writable, community, write_community)
            if stale is not None:
                server._sock.sendto(stale, addr)  # same source address as the real reply
        return reply

    server = servers.serve_udp(handle, name=name, timeout=timeout)
    server.datagrams = received  # type: ignore[attr-defined]

    def current() -> dict:
        with table.lock:
            return {_text(k): table.values[k] for k in table.order}

    server.mib = current
    return server


def agents(mibs: list[dict[str, object]], *, silent: tuple[int, ...] = (), community: str = "public",
           prefix: str = "agent", stale_first: tuple[int, ...] = ()) -> list[servers.Server]:
    """Several agents at once; the ones whose index is in `silent` never answer, those in
    `stale_first` send a late reply to an older request id before the right one."""
    return [agent(mib, community=community, silent=i in silent, name=f"{prefix}-{i}", stale_first=i in stale_first)
            for i, mib in enumerate(mibs)]


# -- manager ----------------------------------------------------------------------------------
def _exchange(address: tuple[str, int], pdu, community: str, timeout: float, version: int = 1):
    """Send one request; the Response PDU from `address` with its id, or None by the deadline."""
    deadline = time.monotonic() + timeout
    request_id = int(getattr(pdu.id, "val", pdu.id))
    host, port = address
    host = ensure_loopback(host)  # 'localhost' → '127.0.0.1'; other names are refused, never resolved
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    want = ipaddress.ip_address(host)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.sendto(bytes(SNMP(version=version, community=community, PDU=pdu)), (host, port))
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                return None
            except ConnectionRefusedError:
                return None  # ICMP port unreachable: nothing listens there
            if ipaddress.ip_address(peer[0]) != want or peer[1] != port:
                continue  # someone else's datagram: a manager listens to the agent it asked
            try:
                reply = SNMP(data)
                if (isinstance(reply.PDU, SNMPresponse) and reply.PDU.id.val == request_id
                        and reply.version.val == version):
                    return reply.PDU
            except Exception:  # noqa: BLE001 - not SNMP (scapy's BER errors): skip it, keep waiting
                pass
    return None


def _value(vb):
    if any(getattr(vb, f, None) is not None for f in ("noSuchObject", "noSuchInstance", "endOfMibView")):
        return None
    return decode_value(vb.value)


def get(address: tuple[str, int], oid: str, *, community: str = "public", timeout: float = 1.0):
    """Reference manager: one SNMPv2c GET; the value as str/int, or None (no answer in `timeout` s, no such object)."""
    pdu = SNMPget(id=_next_id(), varbindlist=[SNMPvarbind(oid=ASN1_OID(_norm_oid(oid)))])
    reply = _exchange(address, pdu, community, timeout)
    if reply is None or reply.error.val != 0 or not reply.varbindlist:
        return None
    return _value(reply.varbindlist[0])


def get_next(address: tuple[str, int], oid: str, *, community: str = "public", timeout: float = 1.0):
    """One GETNEXT: ``(next_oid, value)``, or None at the end of the MIB or without an answer."""
    pdu = SNMPnext(id=_next_id(), varbindlist=[SNMPvarbind(oid=ASN1_OID(_norm_oid(oid)))])
    reply = _exchange(address, pdu, community, timeout)
    if reply is None or reply.error.val != 0 or not reply.varbindlist:
        return None
    vb = reply.varbindlist[0]
    if getattr(vb, "endOfMibView", None) is not None:
        return None
    return _norm_oid(vb.oid), _value(vb)


def walk(address: tuple[str, int], oid: str, *, community: str = "public", timeout: float = 1.0,
         limit: int = 10000) -> list[tuple[str, object]]:
    """Like ``snmpwalk``: every ``(oid, value)`` under `oid`, by GETNEXT (`timeout` per request)."""
    root, out, current = _key(oid), [], _norm_oid(oid)
    while len(out) < limit:
        step = get_next(address, current, community=community, timeout=timeout)
        if step is None or _key(step[0])[:len(root)] != root or _key(step[0]) <= _key(current):
            break  # end of the MIB, left the subtree, or an agent that does not move forward
        out.append(step)
        current = step[0]
    return out


def set_value(address: tuple[str, int], oid: str, value, *, community: str = "private", timeout: float = 1.0):
    """One SNMPv2c SET; the agent's error status ('noError', 'notWritable', …) or None without an answer."""
    pdu = SNMPset(id=_next_id(), varbindlist=[SNMPvarbind(oid=ASN1_OID(_norm_oid(oid)), value=encode_value(oid, value))])
    reply = _exchange(address, pdu, community, timeout)
    return None if reply is None else ERRORS.get(reply.error.val, str(reply.error.val))


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

"""The reference SNMP manager trusts only a Response from the agent it asked, and keeps its timeout."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
from scapy.asn1.asn1 import ASN1_OID, ASN1_STRING
from scapy.layers.snmp import SNMP, SNMPresponse, SNMPvarbind

from socklab import servers, snmp


def _response(request: bytes, value: bytes, *, id_offset: int = 0) -> bytes:
    req = SNMP(request)
    return bytes(SNMP(community=req.community, PDU=SNMPresponse(
        id=req.PDU.id.val + id_offset, varbindlist=[SNMPvarbind(oid=ASN1_OID(snmp.SYS_NAME), value=ASN1_STRING(value))])))


@pytest.fixture
def scripted_agent():
    """An 'agent' that answers one request with a list of datagrams: (bytes or callable(request), from_other_socket)."""
    made = []

    def start(script):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        other.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        made.extend([sock, other])

        def run():
            try:
                request, manager = sock.recvfrom(65535)
            except OSError:
                return
            for item, spoofed in script:
                data = item(request) if callable(item) else item
                (other if spoofed else sock).sendto(data, manager)
        threading.Thread(target=run, daemon=True).start()
        return sock.getsockname()
    yield start
    for s in made:
        s.close()


def test_a_udp_echo_server_is_not_an_agent():
    """Does get() against an echo server (which returns the GetRequest itself) give None, not the request's 0?"""
    with servers.udp_echo_server(name="t-snmp-echo") as echo:
        t0 = time.monotonic()
        assert snmp.get(echo.address, snmp.SYS_NAME, timeout=0.3) is None
        assert 0.25 < time.monotonic() - t0 < 0.6  # it waited for a real answer until the deadline


def test_junk_and_strangers_are_skipped_until_the_real_answer(scripted_agent):
    """Are non-SNMP bytes, a wrong request id, and a forged reply from another port skipped, so the agent's answer counts?"""
    address = scripted_agent([
        (b"\x30\x03\x02\x01", False),                         # truncated BER: scapy raises on it
        (b"hello, not snmp", False),
        (lambda r: _response(r, b"old", id_offset=1), False),  # another request's answer
        (lambda r: _response(r, b"forged"), True),             # right id, wrong sender
        (lambda r: _response(r, b"router-1"), False),
    ])
    assert snmp.get(address, snmp.SYS_NAME, timeout=2.0) == "router-1"


def test_only_junk_means_none_not_a_ber_error(scripted_agent):
    """Does a 'reply' of undecodable bytes give None at the deadline instead of raising scapy's BER error?"""
    address = scripted_agent([(b"\x30\x82\xff\xff\x02", False), (b"\xa2\x00", False)])
    t0 = time.monotonic()
    assert snmp.get(address, snmp.SYS_NAME, timeout=0.3) is None
    assert time.monotonic() - t0 < 0.6


def test_first_call_in_a_fresh_process_keeps_its_timeout():
    """In a new interpreter, does the first get() to a silent agent return within its timeout (no import inside it)?"""
    code = (
        "import socket, time\n"
        "silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); silent.bind(('127.0.0.1', 0))\n"
        "from socklab import snmp\n"
        "t0 = time.monotonic()\n"
        "assert snmp.get(silent.getsockname(), snmp.SYS_NAME, timeout=0.3) is None\n"
        "print(time.monotonic() - t0)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 0.3 + 0.15


def test_agent_drops_v1_getbulk_and_v3_and_answers_v1_get():
    """Does the agent ignore a GETBULK sent as v1 (v1 has none) but answer a v1 GET with version 0?"""
    from scapy.layers.snmp import SNMPbulk, SNMPget

    with snmp.agent({snmp.SYS_NAME: "r"}, name="t-v1") as a, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        vb = [SNMPvarbind(oid=ASN1_OID(snmp.SYS_NAME))]
        s.sendto(bytes(SNMP(version=0, PDU=SNMPbulk(id=7, max_repetitions=3, varbindlist=vb))), a.address)
        s.sendto(bytes(SNMP(version=0, PDU=SNMPget(id=8, varbindlist=vb))), a.address)
        reply = SNMP(s.recvfrom(65535)[0])
        assert reply.version.val == 0 and reply.PDU.id.val == 8 and reply.PDU.varbindlist[0].value.val == b"r"
        with pytest.raises(TimeoutError):
            s.recvfrom(65535)


def test_walk_set_and_refusals_on_a_socklab_agent():
    """Does the manager walk in OID order, set a writable object, and hear notWritable/noAccess/wrongType?"""
    mib = {snmp.SYS_NAME: "r", snmp.SYS_DESCR: "d", snmp.SYS_UPTIME: 5, snmp.SYS_LOCATION: "l"}
    with snmp.agent(mib, writable=[snmp.SYS_LOCATION, snmp.SYS_UPTIME], name="t-walk") as a:
        assert snmp.walk(a.address, "1.3.6.1.2.1.1") == [(snmp.SYS_DESCR, "d"), (snmp.SYS_UPTIME, 5),
                                                          (snmp.SYS_NAME, "r"), (snmp.SYS_LOCATION, "l")]
        assert snmp.get_next(a.address, snmp.SYS_LOCATION) is None  # endOfMibView
        assert snmp.set_value(a.address, snmp.SYS_LOCATION, "room 1") == "noError"
        assert snmp.set_value(a.address, snmp.SYS_NAME, "x") == "notWritable"
        assert snmp.set_value(a.address, snmp.SYS_LOCATION, "x", community="public") == "noAccess"
        assert snmp.set_value(a.address, snmp.SYS_LOCATION, 3) == "wrongType"
        assert a.mib()[snmp.SYS_LOCATION] == "room 1"
    with pytest.raises(ValueError, match="writable OIDs must be in the MIB"):
        snmp.agent({snmp.SYS_NAME: "r"}, writable=[snmp.SYS_LOCATION])
    with pytest.raises(ValueError, match="not an OID"):
        snmp.agent({"sysName": "r"})


def test_a_get_too_big_for_one_datagram_is_toobig_and_a_big_bulk_is_cut():
    """Does a GET whose answer cannot fit a UDP datagram get tooBig, while GETBULK just sends fewer repetitions?"""
    from scapy.layers.snmp import SNMPbulk, SNMPget

    mib = {f"1.3.6.1.4.1.99999.{i}.0": "x" * 40000 for i in range(1, 4)}
    with snmp.agent(mib, name="t-toobig") as a, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        vbs = [SNMPvarbind(oid=ASN1_OID(oid)) for oid in mib]
        s.sendto(bytes(SNMP(PDU=SNMPget(id=1, varbindlist=vbs))), a.address)
        reply = SNMP(s.recvfrom(65535)[0]).PDU
        assert (reply.error.val, len(reply.varbindlist)) == (1, 0)  # tooBig
        s.sendto(bytes(SNMP(PDU=SNMPbulk(id=2, max_repetitions=3, varbindlist=[vbs[0]]))), a.address)
        data = s.recvfrom(65535)[0]
        reply = SNMP(data).PDU
        assert reply.error.val == 0 and len(reply.varbindlist) == 1 and len(data) <= 65000

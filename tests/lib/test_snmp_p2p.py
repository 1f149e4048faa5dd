"""The reference peers behind exercises 7 and 8: SNMPv2c agents and P2P chunk peers, on real sockets."""
from __future__ import annotations

import doctest
import socket
import threading
import time

import pytest

from socklab import p2p, snmp
from socklab.packets import NonLoopbackError


@pytest.fixture
def agents():
    started = []

    def start(*args, **kwargs):
        started.extend(a := snmp.agents(*args, **kwargs))
        return a
    yield start
    for a in started:
        a.stop()


def test_doctests():
    """Do the examples in the snmp and p2p docstrings run as shown?"""
    for module in (snmp, p2p):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_agent_answers_a_real_snmpv2c_get_with_the_request_id(agents):
    """Does an agent answer a scapy-built GET with a GetResponse carrying the same id, community and value?"""
    from scapy.layers.snmp import SNMP, SNMPresponse

    (a,) = agents([{snmp.SYS_NAME: "router-1"}], prefix="t-agent")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(snmp.get_request(snmp.SYS_NAME, request_id=4242), a.address)
        reply = SNMP(sock.recvfrom(65535)[0])
    assert isinstance(reply.PDU, SNMPresponse) and reply.PDU.id.val == 4242
    assert reply.version.val == 1 and reply.community.val == b"public"  # v2c
    assert reply.PDU.varbindlist[0].value.val == b"router-1"


def test_silent_agent_and_wrong_community_both_mean_a_timeout(agents):
    """Does the reference manager get None from a silent agent and from a wrong community, within its timeout?"""
    up, down = agents([{snmp.SYS_UPTIME: 360000}, {snmp.SYS_UPTIME: 1}], silent=(1,), prefix="t-silent")
    t0 = time.monotonic()
    got = snmp.poll([up.address, down.address], snmp.SYS_UPTIME, timeout=0.3)
    assert got == {up.address: 360000, down.address: None}
    assert snmp.get(up.address, snmp.SYS_UPTIME, community="wrong", timeout=0.3) is None
    assert time.monotonic() - t0 < 2.0


def test_unknown_oid_is_no_such_object_not_a_value(agents):
    """Does a GET for an OID the agent lacks come back as 'no such object' (None), not 0?"""
    (a,) = agents([{snmp.SYS_NAME: "x"}], prefix="t-nso")
    assert snmp.get(a.address, snmp.SYS_DESCR, timeout=1.0) is None


def test_bad_mib_values_and_non_loopback_managers_are_refused_clearly():
    """Is a float in a MIB rejected at start, and a GET to a non-loopback address refused before sending?"""
    with pytest.raises(TypeError, match="str, bytes or int"):
        snmp.agent({snmp.SYS_NAME: 1.5})
    with pytest.raises(NonLoopbackError):
        snmp.get(("192.0.2.1", 161), snmp.SYS_NAME, timeout=0.1)


def test_reference_peers_swap_chunks_until_both_hold_the_file():
    """Do two reference peers, each with half the chunks, end with the whole file?"""
    pieces = p2p.split(p2p.make_file(4, 5000), 4)
    a = p2p.peer({0: pieces[0], 1: pieces[1]}, 4, name="t-peer-a")
    b = p2p.peer({2: pieces[2], 3: pieces[3]}, 4, name="t-peer-b")
    try:
        deadline = time.monotonic() + 3
        a.start_fetching([b.address], deadline=deadline)
        b.start_fetching([a.address], deadline=deadline)
        assert a.complete.wait(3) and b.complete.wait(3)
        assert a.file() == b.file() == b"".join(pieces)
        assert set(a.got_from) == {2, 3} and set(b.got_from) == {0, 1}
    finally:
        a.stop()
        b.stop()


def test_exchange_reports_a_peer_that_never_serves():
    """Does the checker see that a student peer which only downloads leaves the others incomplete?"""
    def leech(listener, chunks, n_chunks, peers):
        chunks = dict(chunks)
        for address in peers:
            for index in sorted(p2p.ask_have(address)):
                chunks.setdefault(index, p2p.fetch_chunk(address, index))
        return b"".join(chunks[i] for i in range(n_chunks))

    result = p2p.exchange(leech, student=[0], references=[[1], [2]], chunk_size=100, timeout=1.0)
    assert result.student_ok
    assert result.reference_complete == [False, False] and result.served_by_student == 0


def test_exchange_wakes_a_student_server_blocked_in_accept():
    """After the exchange, is the student's server thread (blocked in accept) woken and finished?"""
    threads = []

    def good(listener, chunks, n_chunks, peers):
        def serve():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    line = conn.recv(64).strip()
                    if line == b"HAVE":
                        conn.sendall((",".join(map(str, sorted(chunks))) + "\n").encode())
                    elif line.startswith(b"GET ") and int(line[4:]) in chunks:
                        conn.sendall(chunks[int(line[4:])])
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        threads.append(t)
        got = dict(chunks)
        for address in peers:
            for index in sorted(p2p.ask_have(address)):
                got.setdefault(index, p2p.fetch_chunk(address, index))
        return b"".join(got[i] for i in range(n_chunks))

    result = p2p.exchange(good, student=[0, 1], references=[[2], [3]], chunk_size=100, timeout=2.0)
    assert result.student_ok and all(result.reference_complete) and result.served_by_student >= 2
    threads[0].join(2.0)
    assert not threads[0].is_alive()


def test_exchange_rejects_chunk_numbering_with_gaps():
    """Is a scenario whose chunks are not numbered 0..n-1 refused with a clear message?"""
    with pytest.raises(ValueError, match="0..n-1"):
        p2p.exchange(lambda *a: b"", student=[0], references=[[2]])

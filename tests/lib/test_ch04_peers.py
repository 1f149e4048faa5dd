"""Chapter 4's reference peers: slow reader, faulty servers, dual-family ports, calculator, framing, lines."""
from __future__ import annotations

import errno
import socket
import struct

import pytest

from socklab import addresses, faults, slowpeer
from socklab.protocols import calc, framing, lines
from socklab.testing import check_server


def test_slow_reader_makes_send_return_less_and_sendall_deliver_everything():
    """Does one send() on the slow pair take only a few KB, while sendall() delivers every byte?"""
    data = bytes(range(256)) * 4096   # 1 MiB
    sock, peer = slowpeer.slow_pair()
    try:
        n = sock.send(data)
        assert 0 < n < 64 * 1024
        peer.start_reading()
        sock.sendall(data[n:])
        sock.close()
        assert peer.wait_closed() == data
    finally:
        peer.close()


def test_slow_reader_reads_on_demand_and_shows_its_queue():
    """Does read(n) return exactly n bytes, with the rest still queued in the kernel?"""
    sock, peer = slowpeer.slow_pair()
    try:
        sock.sendall(b"abcdefgh")
        assert peer.read(3) == b"abc"
        assert peer.queued == 5
    finally:
        sock.close(); peer.close()


def test_refused_reset_silent_and_blackhole_give_their_errors():
    """Do the faulty peers give ECONNREFUSED, ECONNRESET after a partial reply, a recv timeout and a connect timeout?"""
    with faults.refused() as r, pytest.raises(ConnectionRefusedError):
        socket.create_connection(r.address, timeout=1)
    with faults.reset_server(reply=b"partial") as srv:
        sock = socket.create_connection(srv.address, timeout=2)
        sock.sendall(b"hi"); sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b"partial"
        with pytest.raises(ConnectionResetError) as exc:
            sock.recv(100)
        assert exc.value.errno == errno.ECONNRESET
        sock.close()
    with faults.silent_server() as srv, socket.create_connection(srv.address, timeout=0.2) as sock:
        sock.sendall(b"hi"); sock.shutdown(socket.SHUT_WR)
        with pytest.raises(TimeoutError):
            sock.recv(100)
    with faults.blackhole() as b, pytest.raises(TimeoutError):
        socket.create_connection(b.address, timeout=0.2)


def test_same_port_holds_both_families_and_records_who_was_greeted():
    """Is one port held on 127.0.0.1 and ::1, with refusing and greeting sides as asked?"""
    with addresses.same_port(v4="refuse", v6="greet") as p:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(p.address(socket.AF_INET), timeout=1)
        with socket.create_connection(p.address(socket.AF_INET6), timeout=1) as s:
            assert s.recv(100) == p.greeting
        assert p.accepted == ["IPv6"]
    fams = [f for f, _ in addresses.loopback_candidates(80)]
    assert set(fams) == {socket.AF_INET, socket.AF_INET6}


def test_calc_rules_and_reference_server_through_a_relay():
    """Does the reference calculator answer pipelined, re-chunked requests with the exact replies?"""
    assert calc.compute(calc.DIV, -7, 2) == (calc.OK, -3) and calc.compute(calc.MUL, -3, 4) == (calc.OK, -12)
    assert calc.unpack_reply(calc.reply_for(calc.pack_request(9, 1, 2, req_id=5))) == (1, calc.BAD_OP, 5, 0)
    assert calc.unpack_reply(calc.reply_for(calc.pack_request(1, 1, 2, version=2))) == (1, calc.BAD_VERSION, 0, 0)
    requests = calc.random_requests(4, 8)
    assert requests == calc.random_requests(4, 8) and len(b"".join(requests)) == 96
    with calc.calc_server(name="calc-ref") as srv:
        got = calc.exchange(srv.address, requests)
        assert got == b"".join(calc.reply_for(r) for r in requests)
        assert calc.exchange(srv.address, requests[:2], pipeline=False) == got[:24]
    fig = calc.layout_figure()
    assert len(fig.axes[0].patches) == 5 + 12 + 4 + 12


def test_calc_scenario_passes_a_looping_server_and_fails_a_single_recv_server():
    """Through the relay, does a recv(12)-once server fail while a collect-12-bytes server passes?"""
    def good(listener, n):
        for _ in range(n):
            conn, _ = listener.accept()
            with conn:
                buf = b""
                while data := conn.recv(100):
                    buf += data
                    while len(buf) >= 12:
                        conn.sendall(calc.reply_for(buf[:12])); buf = buf[12:]

    def bad(listener, n):
        for _ in range(n):
            conn, _ = listener.accept()
            with conn:
                while (data := conn.recv(12)) and len(data) == 12:
                    conn.sendall(calc.reply_for(data))
    scen = lambda: [calc.scenario(calc.random_requests(2, 5), seed=1)]
    check_server(good, clients=scen())
    from socklab.testing import ExerciseFailed
    with pytest.raises(ExerciseFailed, match="wrong reply"):
        check_server(bad, clients=scen())


def test_framing_reference_reports_a_peer_closing_mid_message():
    """Does recv_msg raise ConnectionError inside the length and inside the body, and None at a boundary?"""
    for keep in (2, 7):
        a, b = framing.connected_pair()
        framing.send_cut(a, [b"first", b"second message"], keep=keep)
        assert framing.recv_msg(b) == b"first"
        with pytest.raises(ConnectionError):
            framing.recv_msg(b)
        b.close()
    a, b = framing.connected_pair(family=socket.AF_INET6)
    framing.send_msg(a, b"x" * 100_000); a.close()
    assert framing.recv_msg(b) == b"x" * 100_000 and framing.recv_msg(b) is None
    b.close()


def test_line_protocol_reference_server_through_a_relay():
    """Does the reference line server answer lines split in 1-byte pieces, and stop at QUIT?"""
    script = ["ECHO hello", "UPPER mixed Case", "ADD 40 2", "NOPE", "QUIT", "ECHO after quit"]
    assert lines.expected_replies(script) == b"hello\nMIXED CASE\n42\nERR unknown command\nBYE\n"
    with lines.line_server(name="lines-ref") as srv:
        assert lines.exchange(srv.address, script) == lines.expected_replies(script)
        from socklab.relay import Relay
        with Relay(srv.address, mode="bytes") as r:
            assert lines.exchange(r.address, script[:3]) == lines.expected_replies(script[:3])

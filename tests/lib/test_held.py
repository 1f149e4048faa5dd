"""socklab.testing.held: port numbers a grade cell holds itself, so no check assumes a number is free."""
from __future__ import annotations

import errno
import socket

from socklab.testing.held import TWIN, bindable_port, closed_tcp_port
from socklab.testing.probes import bind_outcome


def test_bindable_port_is_free_for_the_student_and_closed_to_everyone_else():
    """While held, can a fresh socket bind (host, port) while 127.0.0.1 and the wildcard on that number are refused?"""
    with bindable_port() as (host, port, outcome):
        assert (host, outcome) == (TWIN, "ok")
        assert bind_outcome(host, port) == "ok"
        assert bind_outcome("127.0.0.1", port) == "EADDRINUSE"
        assert bind_outcome("0.0.0.0", port) == "EADDRINUSE"
        with socket.socket() as reuse:  # SO_REUSEADDR does not get around a guard that never set it
            reuse.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                reuse.bind(("0.0.0.0", port))
            except OSError as exc:
                assert exc.errno == errno.EADDRINUSE
            else:
                raise AssertionError("a wildcard SO_REUSEADDR bind took the held number")
    assert bind_outcome("127.0.0.1", port) in ("ok", "EADDRINUSE")  # released (someone may take it now)


def test_held_numbers_are_never_handed_out_as_ephemeral_ports():
    """Do 300 connections made while a number is held all get other ephemeral ports than the held one?"""
    with socket.create_server(("127.0.0.1", 0)) as server, bindable_port() as (_, port, _):
        seen = set()
        for _ in range(300):
            with socket.create_connection(server.getsockname(), timeout=2) as client:
                seen.add(client.getsockname()[1])
                server.accept()[0].close()
        assert port not in seen


def test_two_holders_never_get_the_same_number():
    """Do two cells holding ports at once (e.g. two students' grade cells) get different numbers?"""
    with bindable_port() as (_, a, _), bindable_port() as (_, b, _):
        assert a != b


def test_a_twin_taken_by_someone_elses_leaked_socket_is_skipped():
    """If (127.0.0.2, P) is taken by a socket that outlived its guard, is another number handed out?"""
    with bindable_port() as (host, first, _):
        leak = socket.socket()
        leak.bind((host, first))
    try:  # the guard on 127.0.0.1:first is gone, the leaked twin socket is not
        with bindable_port() as (host, port, outcome):
            assert bind_outcome(host, port) == "ok" and outcome == "ok"
    finally:
        leak.close()


def test_privileged_port_outcome_is_the_kernels_own_answer():
    """Below 1024, is the outcome 'ok' exactly when this process may bind there, and then really bindable?"""
    with bindable_port(privileged=True) as (host, port, outcome):
        assert port < 1024
        if outcome == "ok":
            assert bind_outcome(host, port) == "ok"
        else:
            assert outcome == "EACCES" and bind_outcome(host, port) == "EACCES"


def test_bindable_port_can_hold_the_udp_number_too():
    """With udp=True, is the same (host, port) taken for UDP while TCP can still bind it?"""
    with bindable_port(udp=True) as (host, port, _):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind((host, port))
            except OSError as exc:
                assert exc.errno == errno.EADDRINUSE
            else:
                raise AssertionError("the UDP number was not held")
        assert bind_outcome(host, port) == "ok"


def test_closed_tcp_port_refuses_connections_and_can_hold_udp():
    """Is a closed_tcp_port refused for TCP every time, while its UDP twin is bound?"""
    with closed_tcp_port(udp=True) as port:
        for _ in range(3):
            with socket.socket() as probe:
                probe.settimeout(1)
                assert probe.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError as exc:
                assert exc.errno == errno.EADDRINUSE
            else:
                raise AssertionError("the UDP number was not held")

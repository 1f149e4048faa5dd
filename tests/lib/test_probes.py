"""socklab.testing.probes and misbehaving reference peers: each makes one real mistake visible."""
import socket
import threading
import time

import pytest

from socklab import snmp, testing
from socklab.testing import ExerciseFailed, TimeLimit, call_with_timeout, check_server


def echo_threads(listener, n_clients, *, join=True, buffer=False):
    def handle(conn):
        with conn:
            conn.settimeout(2)
            kept = b""
            while data := conn.recv(4096):
                if buffer:
                    kept += data
                else:
                    conn.sendall(data)
            if buffer:
                conn.sendall(kept)

    threads = []
    for _ in range(n_clients):
        conn, _ = listener.accept()
        t = threading.Thread(target=handle, args=(conn,), daemon=True)
        t.start()
        threads.append(t)
    if join:
        for t in threads:
            t.join()


def test_stalled_port_really_stalls_a_connect():
    """Does connect() to the stalled port time out (no refusal, no accept) after the caller's timeout?"""
    with testing.stalled_port() as port:
        start = time.monotonic()
        with socket.socket() as s, pytest.raises(TimeoutError):
            s.settimeout(0.2)
            s.connect(("127.0.0.1", port))
        assert 0.15 < time.monotonic() - start < 1.0


def test_a_scanner_without_timeout_hangs_on_the_stalled_port():
    """Is a connect() without a timeout caught by the time limit (where the real one would hang ~2 min)?"""
    def scan_no_timeout(port):
        with socket.create_connection(("127.0.0.1", port)):
            return True

    with testing.stalled_port() as port, pytest.raises(TimeLimit):
        call_with_timeout(scan_no_timeout, port, timeout=0.5)


def test_still_connected_catches_a_server_that_does_not_join():
    """Does the still-connected client fail a server that returns before its threads finish, and pass one that joins?"""
    check_server(echo_threads, clients=[testing.still_connected()], timeout=2)
    with pytest.raises(ExerciseFailed, match="join"):
        check_server(lambda lst, n: echo_threads(lst, n, join=False), clients=[testing.still_connected()], timeout=2)


def test_echoes_as_it_arrives_names_the_buffering_mistake():
    """Does a threaded server that buffers until EOF get told to echo as data arrives (not to use threads)?"""
    check_server(echo_threads, clients=[testing.echoes_as_it_arrives()], timeout=1)
    with pytest.raises(ExerciseFailed) as info:
        check_server(lambda lst, n: echo_threads(lst, n, buffer=True), clients=[testing.echoes_as_it_arrives()],
                     timeout=0.5)
    assert "as soon as recv() returns it" in str(info.value) and "threading.Thread" not in str(info.value)


def test_bind_outcome_is_what_the_kernel_says_now():
    """Does bind_outcome() report EADDRINUSE for a port we hold and ok once it is released?"""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    port = held.getsockname()[1]
    assert testing.bind_outcome("127.0.0.1", port) == "EADDRINUSE"
    held.close()
    assert testing.bind_outcome("127.0.0.1", 0) == "ok"


def test_a_stale_reply_arrives_first_and_only_id_matching_gets_the_right_value():
    """From an agent with stale_first, does a manager that takes the first datagram get the decoy,
    while the reference manager (which matches request ids) gets the real value?"""
    with snmp.agent({snmp.SYS_NAME: "router-1"}, stale_first=True, name="probe-stale") as agent:
        assert snmp.get(agent.address, snmp.SYS_NAME, timeout=1.0) == "router-1"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1.0)
            s.sendto(snmp.get_request(snmp.SYS_NAME, request_id=77), agent.address)
            first, source = s.recvfrom(65535)
        fields = {f.role: f.value for f in snmp.fields(first)}
        assert source == agent.address and fields["request-id"] == 76 and fields["value"] == "stale-router-1"

"""socklab.clients against real loopback servers, including hostile and serial ones."""
import doctest
import socket
import struct
import threading
import time

import pytest

import socklab.clients
from socklab.clients import (ClientError, concurrent_round_trips, early_close_client, http_get, read_until_close,
                             round_trip, silent_client)
from socklab.servers import echo_server, recording_server, serve_tcp, stop_all


@pytest.fixture(autouse=True)
def _no_servers_left():
    yield
    stop_all()


@pytest.fixture
def release():
    """An event that handlers may block on; the test sets it before stopping the server."""
    ev = threading.Event()
    yield ev
    ev.set()


def _echo(conn, addr):
    while data := conn.recv(4096):
        conn.sendall(data)


def test_exports():
    """Does every name in __all__ exist (so `from ... import *` and the README stay honest)?"""
    for module in (socklab.clients,):
        for name in module.__all__:
            assert getattr(module, name) is not None, name


def test_doctests():
    """Do the examples in the clients' docstrings run as written?"""
    result = doctest.testmod(socklab.clients)
    assert result.failed == 0 and result.attempted > 0


def test_round_trip_in_chunks_arrives_in_pieces():
    """Do chunks with a pause reach the server as separate recv() results?"""
    with echo_server(name="c-chunks") as srv:
        assert round_trip(srv.address, b"", chunks=[b"ab", b"cd", b"ef"], pause_between_chunks=0.05) == b"abcdef"
        srv.wait_for(1, timeout=2.0)
        assert [e.nbytes for e in srv.log.of("recv")] == [2, 2, 2, 0]


def test_round_trip_accepts_server_object_and_rejects_mixed_args():
    """Can a Server be passed as address, and is data+different chunks refused clearly?"""
    with echo_server(name="c-obj") as srv:
        assert round_trip(srv, b"obj") == b"obj"
        with pytest.raises(ValueError, match="either data or chunks"):
            round_trip(srv, b"x", chunks=[b"y"])


def test_refused_is_clear():
    """Does connecting to a port nobody listens on raise a ko/en 'refused' error at once?"""
    with socket.socket() as holder:  # bound but not listening: the kernel answers RST
        holder.bind(("127.0.0.1", 0))
        t = time.monotonic()
        with pytest.raises(ClientError) as info:
            round_trip(holder.getsockname(), b"x", timeout=2.0)
    assert time.monotonic() - t < 1.0
    assert "refused" in info.value.en and "listen()" in info.value.ko


def test_server_that_never_answers_times_out(release):
    """Does a server that never replies give a clear timeout within the client's timeout?"""
    with serve_tcp(lambda conn, addr: release.wait(5), name="c-mute") as srv:
        t = time.monotonic()
        with pytest.raises(ClientError, match="within 0.3 s") as info:
            round_trip(srv.address, b"hello?", timeout=0.3)
        assert 0.25 < time.monotonic() - t < 1.5
        assert "0.3초" in info.value.ko
        release.set()  # let the handler return so stop() does not wait for it


def test_partial_reply_is_kept_on_timeout(release):
    """When the server sends something but never closes, does the error carry the bytes received?"""
    def half(conn, addr):
        conn.sendall(b"partial")
        release.wait(5)

    with serve_tcp(half, name="c-half") as srv:
        with pytest.raises(ClientError) as info:
            read_until_close(srv.address, timeout=0.3)
        assert info.value.received == b"partial"
        release.set()


def test_reset_by_server_is_clear():
    """Does a server that resets the connection give a clear 'reset' error?"""
    def rst(conn, addr):
        conn.recv(100)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    with serve_tcp(rst, name="c-rst") as srv:
        with pytest.raises(ClientError, match="reset|closed the connection") as info:
            round_trip(srv.address, b"hi", timeout=2.0)
        assert "RST" in str(info.value) or "닫았습니다" in info.value.ko


def test_read_until_close_with_own_socket():
    """Does read_until_close work on a socket I opened, leaving it open and its timeout unchanged?"""
    with recording_server(reply=b"bye", name="c-rec", read_until=b"\n") as srv:
        with socket.create_connection(srv.address, timeout=3.0) as s:
            assert read_until_close(s, send=b"line\n", timeout=2.0) == b"bye"
            assert s.gettimeout() == 3.0 and s.fileno() != -1
        assert srv.requests == [b"line\n"]


def test_http_get_and_malformed_reply():
    """Does http_get send a proper request, and reject a reply that is not HTTP?"""
    with recording_server(reply=b"HTTP/1.0 201 Created\r\nX-A: 1\r\n\r\nbody", name="c-http",
                          read_until=b"\r\n\r\n") as srv:
        r = http_get(srv.address, "/p?q=1", host="example.test")
        assert (r.status, r.reason, r.headers["x-a"], r.body) == (201, "Created", "1", b"body")
        [request] = srv.requests
        assert request.startswith(b"GET /p?q=1 HTTP/1.0\r\nHost: example.test\r\n") and request.endswith(b"\r\n\r\n")
    with recording_server(reply=b"hello", name="c-nothttp", read_until=b"\r\n\r\n") as srv:
        with pytest.raises(ClientError, match="Not an HTTP response"):
            http_get(srv.address)


def test_only_loopback_addresses():
    """Are non-loopback hosts and malformed addresses refused before anything is sent?"""
    with pytest.raises(ValueError, match="only talk to this computer"):
        round_trip(("192.0.2.1", 80), b"x")
    with pytest.raises(TypeError, match=r"\(host, port\)"):
        round_trip("127.0.0.1:80", b"x")


def test_concurrent_round_trips_on_concurrent_server():
    """Do interleaved clients all succeed against a server that serves clients at once?"""
    with echo_server(name="c-conc") as srv:
        payloads = [f"client-{i}".encode() * 3 for i in range(5)]
        results = concurrent_round_trips(srv.address, payloads, timeout=3.0, interleave=True)
        assert [r.reply for r in results] == payloads
        assert all(r.ok and r.waited_for_others for r in results)
        # every client had its first reply before any client finished: they overlapped
        assert max(r.first_byte_time for r in results) < min(r.elapsed for r in results)
        plain = concurrent_round_trips(srv.address, payloads, timeout=3.0)
        assert [r.reply for r in plain] == payloads and all(r.connect_time is not None for r in plain)


def test_serial_server_is_detected_within_bounded_time():
    """Does interleave=True catch a server that handles one client at a time, within the timeout?"""
    one_at_a_time = threading.Lock()

    def serial_echo(conn, addr):
        if one_at_a_time.acquire(timeout=5):
            try:
                _echo(conn, addr)
            finally:
                one_at_a_time.release()

    with serve_tcp(serial_echo, name="c-serial") as srv:
        t = time.monotonic()
        results = concurrent_round_trips(srv.address, [b"aaaa", b"bbbb", b"cccc"], timeout=0.5, interleave=True)
        assert time.monotonic() - t < 2.5
        assert not any(r.ok for r in results)
        # the client served first always reaches the barrier and learns the others were not served
        assert any("one client at a time" in r.error for r in results)


def test_silent_client_returns_early_when_server_closes():
    """Does silent_client return what the server sent as soon as it closes?"""
    def greet(conn, addr):
        conn.sendall(b"welcome")

    with serve_tcp(greet, name="c-greet") as srv:
        t = time.monotonic()
        assert silent_client(srv.address, hold=3.0) == b"welcome"
        assert time.monotonic() - t < 1.5


def test_early_close_client_resets():
    """Does early_close_client really abort (the server's recv sees a reset)?"""
    seen = []

    def watch(conn, addr):
        try:
            seen.append(conn.recv(10))
            seen.append(conn.recv(10))
        except ConnectionResetError:
            seen.append("reset")

    with serve_tcp(watch, name="c-early") as srv:
        early_close_client(srv.address, b"abc")
        srv.wait_for(1, timeout=2.0)
    assert seen[-1] == "reset"

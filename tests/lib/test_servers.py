"""socklab.servers on real loopback sockets: readiness, stopping, registry, event log, hostile peers."""
import doctest
import os
import socket
import statistics
import threading
import time

import pytest
from support import strict_skip

import socklab._builtin_servers
import socklab.eventlog
import socklab.servers
from socklab.clients import ClientError, early_close_client, http_get, round_trip, silent_client
from socklab.servers import (ServerError, echo_server, recording_server, running, serve_tcp, stop_all,
                             udp_echo_server, web_server)


@pytest.fixture(autouse=True)
def _no_servers_left():
    yield
    stop_all()


def _connect(srv, timeout=2.0):
    return socket.create_connection(srv.address, timeout=timeout)


def test_exports():
    """Does every name in __all__ exist (so `from ... import *` and the README stay honest)?"""
    for module in (socklab.servers, socklab.eventlog,):
        for name in module.__all__:
            assert getattr(module, name) is not None, name


def test_doctests():
    """Do the examples in the servers' docstrings run as written?"""
    for module in (socklab.eventlog, socklab.servers, socklab._builtin_servers):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_listening_on_return():
    """Can a client connect the instant serve_tcp returns, on 127.0.0.1 and a real port?"""
    with echo_server(name="t-ready") as srv:
        assert srv.host == "127.0.0.1" and srv.port > 0 and srv.address == (srv.host, srv.port)
        assert srv.running and srv.kind == "tcp"
        with _connect(srv) as c:  # no retry loop: it must already listen
            c.sendall(b"x")
            assert c.recv(10) == b"x"
    assert not srv.running


def test_stop_latency():
    """Does stop() return without paying socketserver's 0.5 s poll, even with a client connected?

    The 20 ms goal is measured by `make bench`; here only a bound a loaded machine cannot miss.
    """
    times = []
    for _ in range(7):
        srv = echo_server(name="t-latency")
        c = _connect(srv)
        c.sendall(b"hi")
        assert c.recv(10) == b"hi"
        t = time.perf_counter()
        srv.stop()
        times.append(time.perf_counter() - t)
        c.settimeout(2.0)
        assert c.recv(10) == b""  # stopping also closed the server's side of the live connection
        c.close()
    assert statistics.median(times) < 0.25, times


def test_stop_is_idempotent_and_refuses_afterwards():
    """After stop() (twice), does a new connection get a clear 'refused' error?"""
    srv = echo_server(name="t-idem")
    srv.stop()
    srv.stop()
    with pytest.raises(ClientError, match="refused"):
        round_trip(srv.address, b"x", timeout=1.0)


def test_same_name_replaces_old_server():
    """Does starting a server with a name already in use stop the old one (re-running a cell)?"""
    old = echo_server(name="t-cell")
    new = echo_server(name="t-cell")
    assert not old.running and new.running
    assert [s for s in running() if s.name == "t-cell"] == [new]
    assert round_trip(new.address, b"ok") == b"ok"
    with pytest.raises(ClientError):
        round_trip(old.address, b"x", timeout=1.0)


def test_stop_all_counts():
    """Does stop_all() stop every server and say how many?"""
    a, b = echo_server(name="t-all-a"), udp_echo_server(name="t-all-b")
    assert {a, b} <= set(running())
    assert stop_all() >= 2
    assert not a.running and not b.running and running() == []


def test_event_log_records_the_conversation():
    """Does the log show accept (with the client's real port), bytes in/out and close?"""
    with echo_server(name="t-log") as srv:
        with _connect(srv) as c:
            client_port = c.getsockname()[1]
            c.sendall(b"hello")
            assert c.recv(10) == b"hello"
            c.shutdown(socket.SHUT_WR)
            assert c.recv(10) == b""
        srv.wait_for(1, timeout=2.0)
    log = srv.log
    kinds = [e.kind for e in log.events]
    assert kinds[0] == "listen" and kinds[-1] == "close"
    assert ["accept", "recv", "send", "recv", "close"] == [k for k in kinds[1:-1]]
    accept = log.of("accept")[0]
    assert accept.peer == ("127.0.0.1", client_port)
    assert log.bytes_in == 5 and log.bytes_out == 5 and log.connections == 1
    assert "EOF" in log.of("recv")[-1].detail
    text = log.text()
    assert f"127.0.0.1:{client_port}" in text and "b'hello'" in text
    html = srv._repr_html_()
    assert "<table" in html and "accept" in html and str(client_port) in html


def test_wait_for_times_out_clearly():
    """Does wait_for() raise a ko/en TimeoutError when nothing happens?"""
    with echo_server(name="t-wait") as srv:
        t = time.monotonic()
        with pytest.raises(TimeoutError, match="waited 0.2 s"):
            srv.wait_for(1, timeout=0.2)
        assert time.monotonic() - t < 1.0
        assert srv.wait_for(lambda log: log.connections == 0, timeout=0.1)


def test_silent_client_is_timed_out_by_server():
    """Does a client that never sends get dropped after the server's timeout, and is it logged?"""
    with echo_server(name="t-silent", timeout=0.2) as srv:
        t = time.monotonic()
        assert silent_client(srv.address, hold=3.0) == b""
        assert time.monotonic() - t < 2.0
        srv.wait_for(1, timeout=2.0)
        [timeout] = srv.log.of("timeout")
        assert "recv()" in timeout.detail and "0.2" in timeout.detail


def test_resetting_peer_is_logged_and_server_survives():
    """Does a client that resets the connection leave the server alive and serving others?"""
    with serve_tcp(lambda conn, addr: (conn.recv(10), conn.recv(10), conn.sendall(b"late")), name="t-rst") as srv:
        early_close_client(srv.address, b"abc")
        srv.wait_for(1, timeout=2.0)
        assert srv.log.of("error") and "ConnectionResetError" in srv.log.of("error")[0].detail
        with echo_server(name="t-rst-echo") as echo:
            early_close_client(echo.address)
            assert round_trip(echo.address, b"still here") == b"still here"


def test_handler_exception_is_logged():
    """Is a crashing handler logged as an error without stopping the server?"""
    def broken(conn, addr):
        raise ValueError("boom")

    with serve_tcp(broken, name="t-broken") as srv:
        assert round_trip(srv.address, b"x") == b""
        srv.wait_for(1, timeout=2.0)
        assert "ValueError: boom" in srv.log.of("error")[0].detail
        assert srv.running


def test_port_already_in_use():
    """Does asking for a busy port give a clear ko/en error instead of a bare OSError?"""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ServerError, match="already in use") as info:
            serve_tcp(lambda c, a: None, name="t-busy", port=busy.getsockname()[1])
        assert "이미" in info.value.ko
    assert "t-busy" not in [s.name for s in running()]


def test_bad_timeout_is_rejected():
    """Is a nonsense timeout refused with a message saying what to pass?"""
    with pytest.raises(ValueError, match="timeout"):
        echo_server(name="t-bad", timeout=0)


def test_udp_echo():
    """Does the UDP echo server answer a datagram and log it?"""
    with udp_echo_server(name="t-udp") as srv, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2.0)
        s.sendto(b"dgram", srv.address)
        data, addr = s.recvfrom(100)
        assert (data, addr) == (b"dgram", srv.address)
        srv.wait_for(1, timeout=2.0)
        assert srv.log.bytes_in == 5 and srv.log.bytes_out == 5 and srv.kind == "udp"
        assert srv.log.of("recv")[0].peer[1] == s.getsockname()[1]


def test_web_server_pages():
    """Does the tiny web server answer GET / with the bilingual page, 404 elsewhere, 400 on junk?"""
    with web_server(name="t-web") as srv:
        r = http_get(srv.address)
        assert r.status == 200 and r.reason == "OK"
        assert "<h1>안녕하세요, socklab!</h1>" in r.text
        assert int(r.headers["content-length"]) == len(r.body)
        assert r.headers["content-type"].startswith("text/html")
        assert http_get(srv.address, "/missing").status == 404
        assert round_trip(srv.address, b"hello\r\n\r\n").startswith(b"HTTP/1.0 400")
        assert round_trip(srv.address, b"POST / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 405")


def test_recording_server_half_close():
    """Does the recorder keep exactly the bytes a half-closing client sent, and reply?"""
    with recording_server(reply=b"thanks", name="t-rec") as srv:
        assert round_trip(srv.address, b"", chunks=[b"part1|", b"part2"], pause_between_chunks=0.01) == b"thanks"
        assert srv.wait_for_requests(1, timeout=2.0) == [b"part1|part2"]


def test_recording_server_http_client_without_half_close():
    """Does read_until=b'\\r\\n\\r\\n' let an HTTP client that waits (no half-close) get its reply?"""
    request = b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n"
    with recording_server(reply=b"HTTP/1.0 200 OK\r\n\r\nhi", name="t-rec-http", read_until=b"\r\n\r\n") as srv:
        with _connect(srv) as c:
            c.sendall(request)
            got = b""
            while chunk := c.recv(100):
                got += chunk
        assert got.endswith(b"hi")
        assert srv.requests == [request]


def test_recording_server_timeout_still_records():
    """Is a client that never finishes recorded after the timeout (and logged as a timeout)?"""
    with recording_server(reply=b"R", name="t-rec-to", timeout=0.2) as srv:
        with _connect(srv) as c:
            c.sendall(b"unfinished")
            assert c.recv(10) == b"R"
        assert srv.wait_for_requests(1, timeout=2.0) == [b"unfinished"]
        assert srv.log.of("timeout")
        with pytest.raises(TimeoutError, match="only 1"):
            srv.wait_for_requests(2, timeout=0.1)


def test_log_totals_stay_exact_beyond_the_kept_events(monkeypatch):
    """When a chatty client exceeds the kept events, are the byte totals still exact?"""
    monkeypatch.setattr(socklab.eventlog, "MAX_EVENTS", 5)
    with echo_server(name="t-chatty") as srv:
        assert round_trip(srv.address, b"", chunks=[b"ab"] * 10, pause_between_chunks=0.002) == b"ab" * 10
        srv.wait_for(1, timeout=2.0)
        assert srv.log.bytes_in == 20 and srv.log.bytes_out == 20 and srv.log.closed == 1
        assert len(srv.log.events) == 5 and srv.log.dropped > 0
        assert "not kept" in srv.log.text()


def test_handler_may_stop_its_own_server():
    """Can a handler call server.stop() without deadlocking?"""
    box = {}

    def stopper(conn, addr):
        conn.sendall(b"bye")
        box["srv"].stop()

    box["srv"] = srv = serve_tcp(stopper, name="t-self-stop")
    assert round_trip(srv.address, b"x", timeout=2.0) == b"bye"
    deadline = time.monotonic() + 2.0
    while srv.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not srv.running


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_fifty_servers_leak_nothing():
    """Do 50 start/serve/stop cycles leave no sockets, threads or file descriptors behind?"""
    if not os.path.isdir("/proc/self/fd"):
        strict_skip("no /proc/self/fd on this system: cannot count file descriptors")
    echo_server(name="t-warm").stop()  # first use imports and allocates once
    fds, threads = _fds(), threading.active_count()
    for i in range(50):
        with echo_server(name="t-fifty") as srv:
            if i % 10 == 0:
                assert round_trip(srv.address, b"x") == b"x"
    deadline = time.monotonic() + 2.0
    while (_fds(), threading.active_count()) != (fds, threads) and time.monotonic() < deadline:
        time.sleep(0.01)  # bounded poll: client-side sockets may still be in the kernel's teardown
    assert (_fds(), threading.active_count()) == (fds, threads)

"""Built-in servers and clients against the RFCs and real tools (curl, http.client), issue 11."""
from __future__ import annotations

import http.client
import re
import socket
import subprocess
import time
from email.utils import parsedate_to_datetime

import pytest

from socklab import clients, ports
from socklab.clients import ClientError, concurrent_round_trips, round_trip
from socklab.servers import echo_server, serve_tcp, udp_echo_server, web_server
from support import require_tool


def test_two_hundred_clients_released_at_once_all_get_their_echo():
    """Released by one barrier, do 200 clients all connect and get their own bytes back (no resets, no empty replies)?"""
    payloads = [f"client-{i:03d}".encode() for i in range(200)]
    with echo_server(name="t-burst") as srv:
        results = concurrent_round_trips(srv.address, payloads, timeout=10)
    failed = [(r.payload, r.error, r.reply) for r in results if not r.ok or r.reply != r.payload]
    assert not failed, f"{len(failed)} of 200 failed, e.g. {failed[:3]}"


def _raw(address, request: bytes, timeout: float = 3.0) -> bytes:
    with socket.create_connection(address, timeout=timeout) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


@pytest.fixture
def web():
    with web_server(name="t-rfc-web", timeout=2.0) as srv:
        yield srv


def test_curl_gets_the_page_with_a_date_header(web):
    """Does curl (HTTP/1.1 and 1.0) get 200, the page, and a Date header within a minute of now (RFC 9110 6.6.1)?"""
    curl = require_tool("curl", "curl")
    for version in ("--http1.1", "--http1.0"):
        done = subprocess.run([curl, "-sS", "-i", "--max-time", "5", version, f"http://{web.host}:{web.port}/"],
                              capture_output=True, timeout=10)
        assert done.returncode == 0, done.stderr
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200 OK") and b"socklab" in body
        date = re.search(rb"(?mi)^Date: (.+?)\r?$", head)
        assert date and abs(parsedate_to_datetime(date[1].decode()).timestamp() - time.time()) < 60


def test_method_not_allowed_says_which_methods_are(web):
    """Does a POST (curl) get 405 with an Allow header listing GET and HEAD (RFC 9110 15.5.6)?"""
    curl = require_tool("curl", "curl")
    done = subprocess.run([curl, "-sS", "-i", "--max-time", "5", "-X", "POST", "-d", "x=1",
                           f"http://{web.host}:{web.port}/"], capture_output=True, timeout=10)
    assert done.stdout.startswith(b"HTTP/1.0 405"), done.stdout[:200]
    assert re.search(rb"(?mi)^Allow: GET, HEAD\r$", done.stdout)


def test_http_client_sees_431_for_huge_headers_and_200_otherwise(web):
    """Does http.client get 431 for a 1 MB header, and 200 (with HEAD: no body) for normal requests?"""
    for method, headers, status, body in [("GET", {}, 200, True), ("HEAD", {}, 200, False),
                                          ("GET", {"X-Big": "a" * 1_000_000}, 431, True)]:
        conn = http.client.HTTPConnection(web.host, web.port, timeout=5)
        try:
            conn.request(method, "/", headers=headers)
            response = conn.getresponse()
            assert response.status == status, (method, response.status)
            assert bool(response.read()) == body
        except ConnectionResetError:
            pytest.fail(f"{method} with {len(str(headers))} bytes of headers: reset instead of {status}")
        finally:
            conn.close()


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET / HTTP/9.9\r\n\r\n", b"505"),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", b"505"),
    (b"GET / HTTP/abc\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\n\r\n", b"400"),              # HTTP/1.1 without Host (RFC 9112 3.2)
    (b"GET / HTTP/1.0\r\nBad Header : x\r\n\r\n", b"400"),  # space before the colon (RFC 9112 5.1)
    (b"\r\nGET / HTTP/1.0\r\n\r\n", b"200"),          # leading empty line is ignored (RFC 9112 2.2)
    (b"\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n", b"404"),
    (b"GET / HTTP/1.0\n\n", b"200"),
])
def test_request_lines_are_judged_by_rfc_9112(web, request_bytes, status):
    """Are bad versions 505/400, malformed requests 400, and a leading CRLF ignored?"""
    reply = _raw(web.address, request_bytes)
    assert reply.split(b" ", 2)[1] == status, reply[:120]


def test_a_dribbling_client_cannot_hold_the_server_past_its_timeout():
    """Does a client sending one header line every 0.25 s get 408 when the 1 s request deadline passes?"""
    with web_server(name="t-dribble", timeout=1.0) as srv, socket.create_connection(srv.address, timeout=3) as s:
        t0 = time.monotonic()
        s.sendall(b"GET / HTTP/1.0\r\n")
        s.settimeout(0.25)
        reply = b""
        while time.monotonic() - t0 < 4:
            try:
                reply = s.recv(65536)
                break
            except TimeoutError:
                s.sendall(b"X-Slow: 1\r\n")  # the server has not answered yet: send one more line
        took = time.monotonic() - t0
    assert reply.startswith(b"HTTP/1.0 408"), (reply[:80], took)
    assert took < 1.8


def test_udp_echo_answers_an_empty_datagram():
    """Does the UDP echo server send back an empty datagram (RFC 862 echoes every datagram)?"""
    with udp_echo_server(name="t-udp-empty") as srv, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(b"", srv.address)
        assert s.recvfrom(100) == (b"", srv.address)


def _fixed_reply(reply: bytes):
    def handle(conn, addr):
        conn.recv(65536)
        conn.sendall(reply)
    return serve_tcp(handle, name="t-fixed-http")


def test_http_get_refuses_a_truncated_body_and_trims_extra_bytes():
    """Does http_get raise a clear error when fewer bytes than Content-Length arrive, and keep only Content-Length bytes?"""
    with _fixed_reply(b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nonly part") as srv:
        with pytest.raises(ClientError, match="Truncated body: Content-Length says 100 bytes but only 9"):
            clients.http_get(srv.address, timeout=2)
    with _fixed_reply(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi-and-garbage") as srv:
        assert clients.http_get(srv.address, timeout=2).body == b"hi"
    with _fixed_reply(b"HTTP/1.0 200 OK\r\nContent-Length: 1, 2\r\n\r\nhi") as srv:
        with pytest.raises(ClientError, match="Invalid Content-Length"):
            clients.http_get(srv.address, timeout=2)


def test_services_with_unicode_digits_are_reported_not_crashed():
    """Are ports written with '²' or fullwidth digits listed as problems (strict: a clear error), not ValueError/accepted?"""
    table = ports.parse_services("ssh 22/tcp\nodd ²2/tcp\nwide ２２/tcp\n")
    assert [s.name for s in table] == ["ssh"]
    assert [p.lineno for p in table.problems] == [2, 3] and "0-9" in table.problems[0].reason
    with pytest.raises(ports.ServicesFormatError, match="line 2"):
        ports.parse_services("ssh 22/tcp\nodd ²2/tcp\n", strict=True)


def test_ephemeral_port_of_refuses_host_names_without_a_lookup(monkeypatch):
    """Is a host name refused before any DNS lookup (getaddrinfo never called), while 'localhost' still works?"""
    lookups = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: lookups.append(a) or real(*a, **k))
    from socklab.packets import NonLoopbackError

    with pytest.raises(NonLoopbackError, match="not resolved"):
        ports.ephemeral_port_of(("example.invalid", 80), timeout=0.5)
    assert lookups == []
    with echo_server(name="t-eph-local") as srv:
        assert 0 < ports.ephemeral_port_of(("localhost", srv.port), timeout=2) < 65536

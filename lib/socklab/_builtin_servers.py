"""The ready-made servers of socklab.servers: echo, a tiny web server, a recorder, UDP echo.

Import them from ``socklab.servers``; this module only keeps servers.py short.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from email.utils import formatdate

from socklab.servers import Server, serve_tcp, serve_udp

DEFAULT_PAGE = """<!DOCTYPE html>
<html lang="ko">
<head><meta charset="utf-8"><title>socklab</title></head>
<body>
<h1>안녕하세요, socklab!</h1>
<p>이 페이지는 여러분의 컴퓨터(127.0.0.1) 안에서 돌고 있는 작은 웹 서버가 보낸 것입니다.</p>
<p>Hello! This page was sent by a tiny web server running on your own computer (127.0.0.1).</p>
</body>
</html>
"""

_NOT_FOUND = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>404</title></head><body>"
              "<h1>404 Not Found</h1><p>이 서버에는 / 페이지만 있습니다. / This server only has the page /.</p>"
              "</body></html>\n").encode()
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
            431: "Request Header Fields Too Large", 505: "HTTP Version Not Supported"}
HEAD_LIMIT = 16 * 1024  #: bytes of request line + headers the web server accepts (more: 431)
_HEAD_END = re.compile(rb"\r?\n\r?\n")


def _echo(conn: socket.socket, addr: tuple) -> None:
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def echo_server(*, name: str = "echo", timeout: float = 5.0) -> Server:
    """A TCP server that sends every byte back to the client that sent it.

    >>> from socklab.clients import round_trip
    >>> with echo_server(name="doc-echo2") as srv:
    ...     round_trip(srv.address, b"ping")
    b'ping'
    """
    return serve_tcp(_echo, name=name, timeout=timeout)


class _HeadTooLarge(Exception):
    pass


def _read_head(conn: socket.socket, deadline: float) -> bytes:
    """Request line + headers (through the empty line), or what came before the client closed.

    One deadline for the whole head: a client dribbling a byte every few seconds cannot hold
    the thread longer than the server's timeout (a per-recv timeout would let it).
    """
    buf = bytearray()
    while True:
        # RFC 9112 2.2: a server SHOULD ignore empty lines received before the request-line.
        del buf[:len(buf) - len(buf.lstrip(b"\r\n"))]
        if (end := _HEAD_END.search(buf)) is not None:
            return bytes(buf[:end.end()])
        if len(buf) > HEAD_LIMIT:
            raise _HeadTooLarge
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete HTTP request within the server's timeout; got {bytes(buf[:60])!r}")
        conn.settimeout(left)
        chunk = conn.recv(65536)
        if not chunk:
            return bytes(buf)
        buf += chunk


def _parse(head: bytes) -> tuple[int, str, str]:
    """(status so far, method, path): h11 checks the request line and header syntax (RFC 9112)."""
    import h11  # here, not at the top: the echo and UDP servers must not need it

    parser = h11.Connection(h11.SERVER, max_incomplete_event_size=HEAD_LIMIT)
    parser.receive_data(head)
    try:
        event = parser.next_event()
    except h11.RemoteProtocolError as exc:
        return exc.error_status_hint, "", ""
    if not isinstance(event, h11.Request):
        return 400, "", ""  # the client closed before the empty line that ends the headers
    method, path = event.method.decode("ascii"), event.target.decode("ascii", "replace")
    if event.http_version.split(b".")[0] != b"1":
        return 505, method, path
    if method not in ("GET", "HEAD"):
        return 405, method, path
    return (200 if path.split("?")[0] in ("/", "/index.html") else 404), method, path


def _http_answer(status: int, method: str, page: bytes) -> bytes:
    if status == 200:
        body = page
    elif status == 404:
        body = _NOT_FOUND
    else:
        body = f"<!DOCTYPE html><html><body><h1>{status} {_REASONS[status]}</h1></body></html>\n".encode()
    head = [f"HTTP/1.0 {status} {_REASONS[status]}", f"Date: {formatdate(usegmt=True)}", "Server: socklab",
            "Content-Type: text/html; charset=utf-8", f"Content-Length: {len(body)}", "Connection: close"]
    if status == 405:
        head.append("Allow: GET, HEAD")  # RFC 9110 15.5.6: a 405 MUST say which methods work
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (b"" if method == "HEAD" else body)


def web_server(*, page: str | bytes = DEFAULT_PAGE, name: str = "web", timeout: float = 5.0) -> Server:
    """A tiny HTTP/1.0 web server (like the Apache server in chapter 3, but on your computer).

    ``GET /`` gets ``200 OK`` and ``page``; any other path gets ``404``; other methods ``405``.
    One request per connection, which must arrive within ``timeout`` seconds; then the server
    closes it. Open ``f"http://{srv.host}:{srv.port}/"`` or use :func:`socklab.clients.http_get`.

    >>> from socklab.clients import http_get
    >>> with web_server(page="<h1>hi</h1>", name="doc-web") as srv:
    ...     r = http_get(srv.address)
    >>> r.status, r.body
    (200, b'<h1>hi</h1>')
    """
    body = page.encode("utf-8") if isinstance(page, str) else bytes(page)

    def handle(conn: socket.socket, addr: tuple) -> None:
        try:
            head = _read_head(conn, time.monotonic() + timeout)
        except _HeadTooLarge:
            head, status, method = None, 431, ""
        except TimeoutError:
            conn.sendall(_http_answer(408, "", body))
            raise  # the server logs the timeout
        if head is not None:
            if not head.strip():
                return  # connected and closed without a word: nothing to answer
            status, method, _path = _parse(head)
        conn.sendall(_http_answer(status, method, body))
        conn.shutdown(socket.SHUT_WR)

    return serve_tcp(handle, name=name, timeout=timeout)


class RecordingServer(Server):
    """A TCP server that keeps exactly what each client sent (``.requests``) and sends a fixed reply."""

    def __init__(self, kind: str, name: str | None, timeout: float) -> None:
        super().__init__(kind, name, timeout)
        self._requests: list[bytes] = []
        self._cond = threading.Condition()

    @property
    def requests(self) -> list[bytes]:
        """What each finished client sent, one ``bytes`` per connection, in the order they finished."""
        with self._cond:
            return list(self._requests)

    def _record(self, data: bytes) -> None:
        with self._cond:
            self._requests.append(data)
            self._cond.notify_all()

    def wait_for_requests(self, n: int = 1, timeout: float = 5.0) -> list[bytes]:
        """Wait until ``n`` clients were recorded and return ``.requests``; TimeoutError (ko/en) otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{timeout}초 동안 클라이언트 {n}개를 기다렸지만 {len(self._requests)}개만 접속했습니다.\n"
                        f"Waited {timeout} s for {n} client(s) but only {len(self._requests)} sent a request. "
                        "Did the client connect to the right port?")
                self._cond.wait(left)
            return list(self._requests)


def recording_server(*, reply: bytes = b"", name: str = "recorder", timeout: float = 5.0,
                     read_until: bytes | None = None) -> RecordingServer:
    """A TCP server that records what each client sends, then answers with ``reply`` and closes.

    It stops reading when the client half-closes (``shutdown(SHUT_WR)``), when the bytes
    ``read_until`` have arrived (HTTP clients: ``read_until=b"\\r\\n\\r\\n"``), or after ``timeout``.

    >>> from socklab.clients import round_trip
    >>> with recording_server(reply=b"OK", name="doc-rec") as srv:
    ...     round_trip(srv.address, b"hello?")
    ...     srv.requests
    b'OK'
    [b'hello?']
    """
    if read_until is not None and not (isinstance(read_until, bytes) and read_until):
        raise ValueError('read_until must be non-empty bytes, e.g. read_until=b"\\r\\n\\r\\n"')
    reply = bytes(reply)
    server: RecordingServer | None = None

    def handle(conn: socket.socket, addr: tuple) -> None:
        buf = bytearray()
        try:
            while not (read_until and read_until in buf):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except TimeoutError:
            pass  # already in the log; the client still gets the reply
        except ConnectionError:
            server._record(bytes(buf))
            raise
        server._record(bytes(buf))
        if reply:
            conn.sendall(reply)
        conn.shutdown(socket.SHUT_WR)

    server = serve_tcp(handle, name=name, timeout=timeout, server_class=RecordingServer)
    return server


def udp_echo_server(*, name: str = "udp-echo", timeout: float = 5.0) -> Server:
    """A UDP server that sends every datagram back to its sender.

    >>> with udp_echo_server(name="doc-udp-echo") as srv:
    ...     s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    ...     _ = s.sendto(b"hi", srv.address); print(s.recvfrom(100)[0]); s.close()
    b'hi'
    """
    return serve_udp(lambda data, addr: data, name=name, timeout=timeout)


def udp_ping_server(*, name: str = "udp-ping", timeout: float = 5.0) -> Server:
    """Kurose & Ross's UDP ping server: every datagram comes back in capitals (``ping 1`` → ``PING 1``).
    Put a :func:`socklab.lossy.channel` in front of it to lose, delay or duplicate pings.

    >>> with udp_ping_server(name="doc-udp-ping") as srv:
    ...     s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    ...     _ = s.sendto(b"ping 1 0.5", srv.address); print(s.recvfrom(100)[0]); s.close()
    b'PING 1 0.5'
    """
    return serve_udp(lambda data, addr: data.upper(), name=name, timeout=timeout)

"""The ready-made servers of socklab.servers: echo, a tiny web server, a recorder, UDP echo.

Import them from ``socklab.servers``; this module only keeps servers.py short.
"""
from __future__ import annotations

import socket
import threading
import time

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
_BAD_REQUEST = b"<!DOCTYPE html><html><body><h1>400 Bad Request</h1></body></html>\n"
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
HEAD_LIMIT = 64 * 1024


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


def _read_head(conn: socket.socket) -> bytes:
    buf = b""
    while b"\r\n\r\n" not in buf and b"\n\n" not in buf and len(buf) < HEAD_LIMIT:
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def _http_answer(head: bytes, page: bytes) -> bytes:
    parts = head.split(b"\n", 1)[0].decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        status, body = 400, _BAD_REQUEST
    elif parts[0] not in ("GET", "HEAD"):
        status, body = 405, _BAD_REQUEST.replace(b"400 Bad Request", b"405 Method Not Allowed")
    elif parts[1].split("?")[0] in ("/", "/index.html"):
        status, body = 200, page
    else:
        status, body = 404, _NOT_FOUND
    head_out = (f"HTTP/1.0 {status} {_REASONS[status]}\r\nServer: socklab\r\n"
                f"Content-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode()
    return head_out + (b"" if parts and parts[0] == "HEAD" else body)


def web_server(*, page: str | bytes = DEFAULT_PAGE, name: str = "web", timeout: float = 5.0) -> Server:
    """A tiny HTTP/1.0 web server (like the Apache server in chapter 3, but on your computer).

    ``GET /`` gets ``200 OK`` and ``page``; any other path gets ``404``. One request per
    connection, then the server closes it. Open ``f"http://{srv.host}:{srv.port}/"`` or use
    :func:`socklab.clients.http_get`.

    >>> from socklab.clients import http_get
    >>> with web_server(page="<h1>hi</h1>", name="doc-web") as srv:
    ...     r = http_get(srv.address)
    >>> r.status, r.body
    (200, b'<h1>hi</h1>')
    """
    body = page.encode("utf-8") if isinstance(page, str) else bytes(page)

    def handle(conn: socket.socket, addr: tuple) -> None:
        head = _read_head(conn)
        if head.strip():
            conn.sendall(_http_answer(head, body))
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

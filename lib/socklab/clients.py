"""Reference TCP clients with a timeout on every step, for labs and grade cells.

Each function takes an address ``(host, port)`` (or a socklab server) on this computer. When
something goes wrong it raises :class:`ClientError` with a Korean and an English explanation.

>>> from socklab.servers import echo_server
>>> with echo_server(name="doc-clients") as srv:
...     round_trip(srv.address, b"hello")
b'hello'
"""
from __future__ import annotations

import ipaddress
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

__all__ = ["ClientError", "HttpResponse", "ClientResult", "round_trip", "read_until_close", "http_get",
           "concurrent_round_trips", "silent_client", "early_close_client"]


class ClientError(Exception):
    """A reference client failed; ``.ko`` / ``.en`` explain, ``.received`` holds bytes read so far."""

    def __init__(self, ko: str, en: str, *, received: bytes = b"") -> None:
        super().__init__(f"{ko}\n{en}")
        self.ko, self.en, self.received = ko, en, received


def _address(address) -> tuple[str, int]:
    address = getattr(address, "address", address)  # accept a socklab Server too
    if not (isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int)):
        raise TypeError(f"address must be a (host, port) tuple like ('127.0.0.1', 8080), not {address!r}")
    host = address[0]
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"socklab clients only talk to this computer (127.0.0.1, ::1, localhost), not {host!r}")
    return host, address[1]


def _where(addr: tuple) -> str:
    return f"{addr[0]}:{addr[1]}"


def _connect(address, timeout: float) -> socket.socket:
    addr = _address(address)
    try:
        return socket.create_connection(addr, timeout=timeout)
    except ConnectionRefusedError:
        raise ClientError(f"{_where(addr)}에 연결할 수 없습니다: 연결 거부. 서버가 실행 중이고 listen()을 호출했나요?",
                          f"Connection to {_where(addr)} refused: is the server running, and did it call listen()?"
                          ) from None
    except TimeoutError:
        raise ClientError(f"{timeout}초 안에 {_where(addr)}에 연결하지 못했습니다.",
                          f"Could not connect to {_where(addr)} within {timeout} s.") from None
    except OSError as exc:
        raise ClientError(f"{_where(addr)}에 연결하지 못했습니다: {exc}",
                          f"Could not connect to {_where(addr)}: {exc}") from None


def _reset(addr: tuple, got: bytes) -> ClientError:
    return ClientError(f"서버({_where(addr)})가 연결을 강제로 끊었습니다(RST). 받은 바이트: {got!r}",
                       f"The server at {_where(addr)} reset the connection (RST). Received so far: {got!r}",
                       received=got)


def _send(sock: socket.socket, addr: tuple, data: bytes) -> None:
    try:
        sock.sendall(data)
    except TimeoutError:
        raise ClientError("보내는 중에 시간이 다 되었습니다. 서버가 recv()를 호출하나요?",
                          f"Timed out while sending to {_where(addr)}: does the server call recv()?") from None
    except (BrokenPipeError, ConnectionResetError):
        raise ClientError("다 보내기 전에 서버가 연결을 닫았습니다.",
                          f"The server at {_where(addr)} closed the connection before we finished sending.") from None


def _read_to_close(sock: socket.socket, addr: tuple, deadline: float, timeout: float, got: bytes = b"",
                   on_first=None) -> bytes:
    chunks = [got] if got else []
    while True:
        left = deadline - time.monotonic()
        sock.settimeout(max(left, 0.001))
        try:
            data = sock.recv(65536) if left > 0 else None
        except TimeoutError:
            data = None
        except ConnectionResetError:
            raise _reset(addr, b"".join(chunks)) from None
        if data is None:
            sofar = b"".join(chunks)
            raise ClientError(
                f"서버가 {timeout}초 안에 연결을 닫지 않았습니다 (받은 바이트: {sofar!r}). 답한 뒤 close()를 했나요?",
                f"The server did not close the connection within {timeout} s (received {sofar!r}). "
                "Does it close() the connection after replying?", received=sofar)
        if not data:
            return b"".join(chunks)
        if on_first is not None and not chunks:
            on_first()
        chunks.append(data)


def round_trip(address, data: bytes, *, timeout: float = 5.0, chunks: list[bytes] | None = None,
               pause_between_chunks: float | None = None) -> bytes:
    """Connect, send ``data`` (or the pieces ``chunks``), half-close, and return everything the server sent.

    Half-closing (``shutdown(SHUT_WR)``) tells the server "I have nothing more to send": its
    ``recv()`` returns ``b""``. ``pause_between_chunks`` seconds between pieces make them
    arrive separately, to check a server that loops on ``recv()``.

    >>> from socklab.servers import echo_server
    >>> with echo_server(name="doc-rt") as srv:
    ...     round_trip(srv.address, b"", chunks=[b"ab", b"cd"], pause_between_chunks=0.01)
    b'abcd'
    """
    if chunks is None:
        chunks = [data]
    elif data and data != b"".join(chunks):
        raise ValueError("give either data or chunks (or data equal to b''.join(chunks)), not both")
    deadline = time.monotonic() + timeout
    addr = _address(address)
    with _connect(addr, timeout) as sock:
        if len(chunks) > 1:  # send each piece as its own segment
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, chunk in enumerate(chunks):
            if i and pause_between_chunks:
                time.sleep(pause_between_chunks)  # deliberate gap between pieces, not synchronisation
            _send(sock, addr, bytes(chunk))
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server already closed: read what it sent
        return _read_to_close(sock, addr, deadline, timeout)


def read_until_close(sock_or_address, *, send: bytes = b"", timeout: float = 5.0) -> bytes:
    """Send ``send`` (if any) and read until the server closes the connection.

    Give an address to open a new connection (closed afterwards), or a connected socket
    (left open for you to close). Unlike :func:`round_trip` this does not half-close.
    """
    deadline = time.monotonic() + timeout
    if isinstance(sock_or_address, socket.socket):
        sock = sock_or_address
        addr = sock.getpeername()[:2]
        old = sock.gettimeout()
        try:
            sock.settimeout(timeout)
            if send:
                _send(sock, addr, send)
            return _read_to_close(sock, addr, deadline, timeout)
        finally:
            sock.settimeout(old)
    addr = _address(sock_or_address)
    with _connect(addr, timeout) as sock:
        if send:
            _send(sock, addr, send)
        return _read_to_close(sock, addr, deadline, timeout)


@dataclass
class HttpResponse:
    """A parsed HTTP response. ``headers`` keys are lower-case (``headers["content-type"]``)."""

    status: int
    reason: str
    headers: dict
    body: bytes
    raw: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")


def _parse_http(raw: bytes) -> HttpResponse:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.decode("latin-1").splitlines()
    status_line = lines[0].split(None, 2) if lines else []
    if not sep or len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        raise ClientError(f"HTTP 응답이 아닙니다: {raw[:80]!r}. 첫 줄은 'HTTP/1.0 200 OK'처럼, 헤더 뒤에는 빈 줄이 필요합니다.",
                          f"Not an HTTP response: {raw[:80]!r}. It must start like 'HTTP/1.0 200 OK' and "
                          "end its headers with an empty line (\\r\\n\\r\\n).", received=raw)
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    reason = status_line[2] if len(status_line) > 2 else ""
    return HttpResponse(int(status_line[1]), reason, headers, body, raw)


def http_get(address, path: str = "/", *, host: str | None = None, timeout: float = 5.0) -> HttpResponse:
    """Send ``GET path HTTP/1.0`` like a browser and parse the answer (the server must close afterwards).

    >>> from socklab.servers import web_server
    >>> with web_server(name="doc-get") as srv:
    ...     r = http_get(srv.address)
    >>> r.status, "socklab" in r.text
    (200, True)
    """
    addr = _address(address)
    host = host or _where(addr)
    request = f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: socklab\r\nConnection: close\r\n\r\n"
    return _check_length(_parse_http(read_until_close(addr, send=request.encode("latin-1"), timeout=timeout)))


def _check_length(response: HttpResponse) -> HttpResponse:
    # RFC 9112 6.3: with Content-Length the body is exactly that many bytes; fewer means the
    # connection closed early (a truncated page must not pass as a whole one), more is not body.
    declared = response.headers.get("content-length")
    if declared is None or response.status < 200 or response.status in (204, 304):
        return response
    values = {v.strip() for v in declared.split(",")}
    if len(values) != 1 or not all(v.isascii() and v.isdigit() for v in values):
        raise ClientError(f"Content-Length 값이 잘못됐습니다: {declared!r}",
                          f"Invalid Content-Length {declared!r}: it must be one number of bytes.", received=response.raw)
    want = int(values.pop())
    if len(response.body) < want:
        raise ClientError(
            f"본문이 잘렸습니다: Content-Length는 {want}바이트인데 연결이 닫힐 때까지 {len(response.body)}바이트만 왔습니다.",
            f"Truncated body: Content-Length says {want} bytes but only {len(response.body)} arrived before the "
            "server closed the connection.", received=response.raw)
    response.body = response.body[:want]
    return response


@dataclass
class ClientResult:
    """What one of :func:`concurrent_round_trips`' clients saw; times in seconds since the common start."""

    payload: bytes
    reply: bytes = b""
    error: str | None = None
    connect_time: float | None = None
    first_byte_time: float | None = None
    elapsed: float | None = None
    waited_for_others: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None


def _one_client(address, result: ClientResult, start: threading.Barrier, middle: threading.Barrier | None,
                t0: list, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    sock = None
    try:
        start.wait(timeout)
        addr = _address(address)
        sock = _connect(addr, timeout)
        result.connect_time = time.monotonic() - t0[0]

        def first():
            result.first_byte_time = time.monotonic() - t0[0]

        got = b""
        if middle is not None:
            cut = max(1, len(result.payload) // 2)
            _send(sock, addr, result.payload[:cut])
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                got = sock.recv(65536)
            except TimeoutError:
                got = None
            except ConnectionResetError:
                raise _reset(addr, b"") from None
            if not got:
                raise ClientError(
                    "첫 조각을 보냈지만 답이 없습니다. 서버가 다른 클라이언트를 처리하느라 이 클라이언트를 기다리게 하나요?",
                    f"Sent a first piece but got no reply within {timeout} s: is the server busy with another "
                    "client instead of serving clients at the same time?")
            first()
            try:
                middle.wait(max(deadline - time.monotonic(), 0.001))
            except threading.BrokenBarrierError:
                raise ClientError(
                    "이 클라이언트는 답을 받았지만 다른 클라이언트들은 동시에 처리되지 않았습니다 (서버가 한 번에 한 명만 처리).",
                    "This client was served, but the others were not served at the same time: the server "
                    "handles one client at a time.", received=got) from None
            result.waited_for_others = True
            _send(sock, addr, result.payload[cut:])
        else:
            _send(sock, addr, result.payload)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        result.reply = _read_to_close(sock, addr, deadline, timeout, got, on_first=None if got else first)
    except ClientError as exc:
        result.error = str(exc)
        if middle is not None:
            middle.abort()  # the others must not wait for a client that gave up
    except threading.BrokenBarrierError:
        result.error = "clients could not start together / 클라이언트들이 함께 시작하지 못했습니다"
    except Exception as exc:  # report, never crash the thread: the caller reads result.error
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if sock is not None:
            sock.close()
        result.elapsed = time.monotonic() - t0[0] if t0 else None


def concurrent_round_trips(address, payloads: list[bytes], *, timeout: float = 5.0,
                           interleave: bool = False) -> list[ClientResult]:
    """Start ``len(payloads)`` clients at the same moment; each does a round trip with its payload.

    Returns one :class:`ClientResult` per payload (errors are recorded, not raised).

    ``interleave=True`` proves the server handles clients *at the same time* (1:N): each client
    sends the first half of its payload, waits for some reply, then waits until **every** client
    got a reply before sending the rest. A server that serves one client at a time can never
    get there, so every client then reports an error within ``timeout`` seconds.

    >>> from socklab.servers import echo_server
    >>> with echo_server(name="doc-conc") as srv:
    ...     results = concurrent_round_trips(srv.address, [b"one", b"two"], timeout=2, interleave=True)
    >>> [r.reply for r in results], all(r.ok for r in results)
    ([b'one', b'two'], True)
    """
    payloads = [bytes(p) for p in payloads]
    if not payloads:
        raise ValueError("give at least one payload, e.g. [b'one', b'two']")
    if interleave and not all(payloads):
        raise ValueError("interleave=True needs non-empty payloads (the first half is sent first)")
    _address(address)
    t0: list[float] = []
    start = threading.Barrier(len(payloads), action=lambda: t0.append(time.monotonic()))
    middle = threading.Barrier(len(payloads)) if interleave else None
    results = [ClientResult(p) for p in payloads]
    threads = [threading.Thread(target=_one_client, args=(address, r, start, middle, t0, timeout), daemon=True,
                                name=f"socklab-client-{i}") for i, r in enumerate(results)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 2 * timeout + 1.0
    for t, r in zip(threads, results):
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive() and r.error is None:
            r.error = "client thread did not finish / 클라이언트가 끝나지 않았습니다"
    return results


def silent_client(address, *, hold: float = 1.0, timeout: float = 5.0) -> bytes:
    """Connect and send nothing for ``hold`` seconds; return whatever the server sent meanwhile.

    A good server gives up on such a client (its own timeout) instead of waiting forever.
    Returns early when the server closes the connection.
    """
    addr = _address(address)
    deadline = time.monotonic() + hold
    got = []
    with _connect(addr, timeout) as sock:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                break  # the server dropped us: that is an acceptable answer to silence
            if not data:
                break
            got.append(data)
    return b"".join(got)


def early_close_client(address, data: bytes = b"x", *, timeout: float = 5.0) -> None:
    """Connect, send ``data``, then abort the connection (RST) without reading the answer.

    The server's next ``recv()``/``send()`` on that connection fails with ConnectionResetError
    (or returns ``b""``); a robust server survives it and keeps serving other clients.
    """
    addr = _address(address)
    sock = _connect(addr, timeout)
    try:
        if data:
            _send(sock, addr, data)
        # Linger on with zero time: close() sends RST instead of the polite FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()

"""Length-prefixed framing: a 4-byte big-endian length, then that many bytes of message.

TCP delivers a stream of bytes, not messages; framing puts the boundaries back::

    frame(b"hi")  == b"\\x00\\x00\\x00\\x02hi"

:func:`send_msg` / :func:`recv_msg` are the reference implementations. ``recv_msg`` returns None
when the peer closed cleanly *between* messages and raises :class:`ConnectionError` when it closed
in the middle of one (inside the length or the body).

>>> frame(b"hi")
b'\\x00\\x00\\x00\\x02hi'
>>> a, b = connected_pair()
>>> send_msg(a, b"hello"); send_msg(a, b""); a.close()
>>> recv_msg(b), recv_msg(b), recv_msg(b)
(b'hello', b'', None)
>>> b.close()
"""
from __future__ import annotations

import socket
import struct

__all__ = ["HEADER", "frame", "send_msg", "recv_msg", "recv_exactly", "read_wire", "check_recv_through_relay",
           "framed_echo_server", "connected_pair", "relayed_pair",
           "send_cut"]

HEADER = struct.Struct("!I")


def frame(payload: bytes) -> bytes:
    """The bytes that carry `payload` as one message: length (4 bytes, big-endian) + payload."""
    return HEADER.pack(len(payload)) + payload


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    """Read until `n` bytes arrived; fewer only if the peer closed first."""
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(min(n - len(buf), 1 << 20))
        if not data:
            break
        buf += data
    return bytes(buf)


def read_wire(sock: socket.socket, n: int, *, timeout: float = 2.0) -> bytes:
    """Up to `n` bytes as they come off the wire: stops early (never raises) at end of stream, on a
    reset or after `timeout` s of silence. For checks: compare with ``frame(payload)``."""
    sock.settimeout(timeout)
    buf = bytearray()
    try:
        while len(buf) < n:
            data = sock.recv(min(n - len(buf), 1 << 20))
            if not data:
                break
            buf += data
    except OSError:
        pass
    return bytes(buf)


def send_msg(sock: socket.socket, payload: bytes) -> None:
    """Send one message (sendall: every byte, however many send() calls it takes)."""
    sock.sendall(frame(payload))


def recv_msg(sock: socket.socket) -> bytes | None:
    """Receive one message; None if the peer closed before it began, ConnectionError if mid-message."""
    head = recv_exactly(sock, HEADER.size)
    if not head:
        return None
    if len(head) < HEADER.size:
        raise ConnectionError(f"peer closed inside a length prefix ({len(head)} of 4 bytes)")
    (size,) = HEADER.unpack(head)
    body = recv_exactly(sock, size)
    if len(body) < size:
        raise ConnectionError(f"peer closed in the middle of a message ({len(body)} of {size} bytes)")
    return body


def framed_echo_server(*, name: str = "framed-echo", timeout: float = 5.0):
    """A reference server that answers every length-prefixed message with the same message reversed,
    until the client closes (a socklab Server on 127.0.0.1, a free port).

    >>> with framed_echo_server(name="doc-framed") as srv, socket.create_connection(srv.address, timeout=2) as s:
    ...     send_msg(s, b"stressed"); recv_msg(s)
    b'desserts'
    """
    from socklab.servers import serve_tcp

    def handle(conn: socket.socket, peer) -> None:
        while (message := recv_msg(conn)) is not None:
            send_msg(conn, message[::-1])
    return serve_tcp(handle, name=name, timeout=timeout)


def connected_pair(*, family: int = socket.AF_INET, timeout: float = 5.0) -> tuple[socket.socket, socket.socket]:
    """(a, b): the two ends of one TCP connection on loopback, each with a timeout."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    with socket.create_server((host, 0), family=family) as listener:
        listener.settimeout(timeout)
        a = socket.create_connection(listener.getsockname()[:2], timeout=timeout)
        b, _ = listener.accept()
    b.settimeout(timeout)
    return a, b


def relayed_pair(*, seed: int, mode: str = "mixed", timeout: float = 5.0):
    """(a, b, relay): what is written on `a` reaches `b` through a re-chunking Relay (seeded).
    Stop the relay (``relay.stop()``) and close both sockets when done."""
    from socklab.relay import Relay

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(timeout)
        relay = Relay(listener.getsockname(), seed=seed, mode=mode, timeout=timeout, name="framing-relay")
        try:
            a = socket.create_connection(relay.address, timeout=timeout)
            b, _ = listener.accept()
        except BaseException:
            relay.stop()
            raise
    b.settimeout(timeout)
    return a, b, relay


def send_cut(sock: socket.socket, payloads: list[bytes], *, keep: int) -> None:
    """Send `payloads` framed, but stop after `keep` bytes of the last message's frame and close:
    a peer that vanishes mid-message (keep=2 cuts inside the length prefix)."""
    data = b"".join(frame(p) for p in payloads[:-1]) + frame(payloads[-1])[:keep]
    sock.sendall(data)
    sock.close()


def check_recv_through_relay(recv_fn, messages: list[bytes], *, seed: int, mode: str = "mixed") -> None:
    """For grade cells: send `messages` framed through a re-chunking relay (seeded), then call the
    student's ``recv_fn(sock)`` once per message; fail (ko/en, with the seed) at the first wrong one."""
    from socklab.testing.outcomes import expect_call

    a, b, relay = relayed_pair(seed=seed, mode=mode)
    try:
        for m in messages:
            send_msg(a, m)
        a.close()
        for i, m in enumerate(messages):
            expect_call(recv_fn, b, want=m, ko=f"중계기(seed {seed}, {mode})를 거친 메시지 {i}",
                        en=f"message {i} through the relay (seed {seed}, {mode})",
                        hint_ko="recv()는 요청한 것보다 적게 줄 수 있습니다: 필요한 바이트가 다 올 때까지 반복하세요",
                        hint_en="recv() may return fewer bytes than asked: loop until you have them all")
    finally:
        a.close()
        b.close()
        relay.stop()

"""A reference peer that reads slowly, so that ``send()`` really does send less than you asked.

``slow_pair()`` gives you a connected client socket with a small send buffer and, at the other end,
a :class:`SlowReader` with a small receive buffer that reads only when told to. Together the two
buffers hold a few kilobytes; a bigger ``send()`` on a socket with a timeout returns early::

    sock, peer = slowpeer.slow_pair()
    n = sock.send(b"x" * 1_000_000)     # n is a few thousand, not 1_000_000
    peer.start_reading()                 # now the peer drains in the background
    sock.sendall(b"x" * (1_000_000 - n)) # sendall() loops until everything is out
    sock.close(); print(len(peer.wait_closed()))   # 1000000

>>> sock, peer = slow_pair()
>>> sock.send(b"x" * 1_000_000) < 1_000_000
True
>>> sock.close(); peer.close()
"""
from __future__ import annotations

import socket
import threading

from socklab import tcpstate

__all__ = ["SlowReader", "slow_pair", "slow_listener"]


def slow_listener(rcvbuf: int = 4096) -> socket.socket:
    """A listener on 127.0.0.1 (a free port) whose connections get a `rcvbuf`-byte receive buffer.

    The size is set before listen(): the window TCP advertises is agreed during the handshake.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    return listener


class SlowReader:
    """The reading end of a connection that reads only on demand.

    ``read(n)`` reads exactly n bytes (or to end of stream); ``start_reading()`` drains in the
    background into ``received``; ``wait_closed()`` waits for the sender to close and returns it all;
    ``queued`` is how many bytes wait unread in its receive buffer right now.
    """

    def __init__(self, conn: socket.socket, *, timeout: float = 5.0) -> None:
        self.conn = conn
        self.conn.settimeout(timeout)
        self.timeout = timeout
        self.received = bytearray()
        self.eof = threading.Event()
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def read(self, n: int) -> bytes:
        """Read exactly `n` bytes (fewer only if the sender closed first)."""
        out = bytearray()
        while len(out) < n:
            data = self.conn.recv(n - len(out))
            if not data:
                self.eof.set()
                break
            out += data
        self.received += out
        return bytes(out)

    def start_reading(self, chunk: int = 4096) -> "SlowReader":
        """Read everything in a background thread, `chunk` bytes per recv(), until end of stream."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, args=(chunk,), daemon=True,
                                            name="socklab-slow-reader")
            self._thread.start()
        return self

    def _drain(self, chunk: int) -> None:
        try:
            while data := self.conn.recv(chunk):
                self.received += data
        except OSError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.eof.set()

    def wait_closed(self, timeout: float | None = None) -> bytes:
        """Read (in the background) until the sender closes; return everything received.
        Raises TimeoutError if the sender has not closed within `timeout` s (default: the peer's)."""
        self.start_reading()
        if not self.eof.wait(self.timeout if timeout is None else timeout):
            raise TimeoutError(f"the sender did not close within {timeout or self.timeout} s "
                               f"({len(self.received)} bytes received so far)")
        return bytes(self.received)

    @property
    def queued(self) -> int:
        """Bytes that arrived but were not read yet (from the kernel's table; 0 if unknown)."""
        for r in tcpstate.states(self.conn):
            return r.rx_queue
        return 0

    def close(self) -> None:
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(1.0)
        self.conn.close()


def slow_pair(*, rcvbuf: int = 4096, sndbuf: int = 4096, timeout: float = 5.0) -> tuple[socket.socket, SlowReader]:
    """(client socket, SlowReader) connected on loopback. The client socket has a `sndbuf`-byte send
    buffer and a `timeout`, so one ``send()`` hands the kernel only what fits and returns the count."""
    listener = slow_listener(rcvbuf)
    try:
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        client.settimeout(timeout)
        client.connect(listener.getsockname())
        listener.settimeout(timeout)
        conn, _ = listener.accept()
    finally:
        listener.close()
    return client, SlowReader(conn, timeout=timeout)

"""Peers that fail on purpose, so each socket error can be met by name on loopback.

=================  ============================================================  =====================
what               how                                                           what the client sees
=================  ============================================================  =====================
refused            a port that is bound but not listening                        ECONNREFUSED
blackhole          a listener whose accept queue is full: SYNs are dropped       connect() times out
reset              reads the request, replies (optional), then SO_LINGER 0 close  ECONNRESET
silent             reads the request and never answers                           recv() times out
TIME_WAIT          a connection the server closed first, on a port now free      bind() -> EADDRINUSE
=================  ============================================================  =====================

Each function returns a handle with ``.address`` and ``.stop()`` (also a context manager).

>>> with refused() as r:
...     try:
...         socket.create_connection(r.address, timeout=1)
...     except ConnectionRefusedError as exc:
...         print(errno.errorcode[exc.errno])
ECONNREFUSED
"""
from __future__ import annotations

import errno
import socket
import struct
import threading

from socklab import tcpstate

__all__ = ["Held", "refused", "blackhole", "reset_server", "silent_server", "time_wait_port", "bind_error",
           "taken_by_other", "on_time_wait_port",
           "LINGER_RESET"]

#: SO_LINGER value that makes close() send RST at once instead of FIN
LINGER_RESET = struct.pack("ii", 1, 0)


def _host(family: int) -> str:
    return "::1" if family == socket.AF_INET6 else "127.0.0.1"


class Held:
    """Sockets held open on purpose; ``.address`` is where to connect; ``.stop()`` closes them."""

    def __init__(self, address, socks: list[socket.socket]) -> None:
        self.address = tuple(address[:2])
        self.socks = socks

    @property
    def port(self) -> int:
        return self.address[1]

    def stop(self) -> None:
        for s in self.socks:
            s.close()

    def __enter__(self) -> "Held":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def refused(*, family: int = socket.AF_INET, port: int = 0) -> Held:
    """A port that refuses connections. It stays bound, so no other program can take it meanwhile."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((_host(family), port))
    return Held(sock.getsockname(), [sock])


def blackhole(*, family: int = socket.AF_INET, port: int = 0) -> Held:
    """A listener that never accepts, with its queue already full: a new connect() waits until its timeout."""
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((_host(family), port))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname()[:2], timeout=2)  # takes the one queue slot
    return Held(listener.getsockname(), [filler, listener])


def reset_server(*, reply: bytes = b"", name: str = "reset", timeout: float = 5.0):
    """Reads the request until the client half-closes, sends `reply`, waits until the client has
    read it, then closes with SO_LINGER 0: the kernel sends RST, the client's next recv() gets ECONNRESET."""
    from socklab.servers import serve_tcp

    def handle(conn: socket.socket, peer) -> None:
        while conn.recv(65536):
            pass
        if reply:
            conn.sendall(reply)
            tcpstate.wait_drained(conn, timeout=timeout / 2)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
    return serve_tcp(handle, name=name, timeout=timeout)


def silent_server(*, name: str = "silent", timeout: float = 5.0):
    """Reads the request and never answers (until the client closes or the server stops)."""
    from socklab.servers import Server, serve_tcp

    release = threading.Event()

    class SilentServer(Server):
        def stop(self) -> None:
            release.set()
            super().stop()

    def handle(conn: socket.socket, peer) -> None:
        while conn.recv(65536):
            pass
        release.wait(timeout)   # holds the connection open until the server stops
    return serve_tcp(handle, name=name, timeout=timeout, server_class=SilentServer)


def time_wait_port(*, timeout: float = 2.0) -> int:
    """A port on 127.0.0.1 that nobody listens on but that has a connection in TIME_WAIT (the server
    side closed first). Binding it without SO_REUSEADDR fails with EADDRINUSE until TIME_WAIT ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"bye")   # the server closes first: its end goes FIN_WAIT -> TIME_WAIT
            while client.recv(64):
                pass
        if not tcpstate.wait_state(port, "TIME_WAIT", timeout):
            raise RuntimeError(f"no TIME_WAIT appeared on port {port} within {timeout} s")
    finally:
        listener.close()
    return port


def taken_by_other(port: int) -> bool:
    """Is some socket other than a TIME_WAIT leftover using 127.0.0.1:`port` (another program on a
    shared machine)? Grade cells ask before blaming the student for an EADDRINUSE."""
    return any(r.state != "TIME_WAIT" and r.local[1] == port for r in tcpstate.states(ports=[port]))


def on_time_wait_port(fn, *, attempts: int = 3):
    """``(port, fn(port))`` for a fresh :func:`time_wait_port`. If fn fails while another program
    took the port meanwhile, try again with a new port (never blame the student for that)."""
    for attempt in range(attempts):
        port = time_wait_port()
        try:
            return port, fn(port)
        except Exception:
            if attempt == attempts - 1 or not taken_by_other(port):
                raise


def bind_error(port: int, *, reuse: bool = False) -> str:
    """'ok' or the errno name that binding 127.0.0.1:`port` gives now (with or without SO_REUSEADDR)."""
    with socket.socket() as sock:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc.errno))
    return "ok"



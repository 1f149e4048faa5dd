"""Port numbers a grade cell holds itself, so no check assumes that a port number is free.

Other programs share the host's loopback: listeners, UDP sockets, thousands of ephemeral ports in
TIME_WAIT. A grade that says "this port is free, so bind() must say ok" is then wrong now and
then. Instead we hold the number:

* ``bindable_port()`` keeps a TCP socket bound (not listening) on ``127.0.0.1:P``. While it is
  held nobody can bind ``P`` on 127.0.0.1 or the wildcard address, and connect() never picks ``P``
  as an ephemeral port (the kernel skips numbers that a bind() owns). The student then binds the
  *same* number on another loopback address, ``127.0.0.2`` (all of 127.0.0.0/8 is loopback on
  Linux), which nothing else uses: bind() there must succeed, and after a correct answer closed
  its socket it must succeed again.
* ``closed_tcp_port()`` keeps a TCP socket bound but not listening: a connect() there is refused,
  every time, whoever else runs on the host; with ``udp=True`` a UDP socket holds the same number.

>>> with bindable_port() as (host, port, outcome):
...     outcome
'ok'
"""
from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator

__all__ = ["bindable_port", "closed_tcp_port", "TWIN"]

#: the loopback address a student binds while we hold the same port number on 127.0.0.1
TWIN = "127.0.0.2"


def _bind(kind: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _twin(port: int) -> str | None:
    """TWIN if a TCP socket can bind (TWIN, port) now, "127.0.0.1" where TWIN does not exist, None if
    (TWIN, port) is taken (e.g. a socket another grade cell leaked, outliving its own guard)."""
    try:
        _bind(socket.SOCK_STREAM, TWIN, port).close()
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:
            return "127.0.0.1"  # e.g. macOS: only 127.0.0.1 is configured
        if exc.errno == errno.EADDRINUSE:
            return None
        raise
    return TWIN


@contextlib.contextmanager
def bindable_port(*, privileged: bool = False, udp: bool = False) -> Iterator[tuple[str, int, str]]:
    """``(host, port, outcome)``: a TCP address nobody else can take while the block runs, and what
    bind() of a fresh TCP socket says there: ``'ok'``, or ``'EACCES'`` for a privileged port (below
    1024) this process may not bind. With ``udp=True`` a UDP socket holds ``(host, port)`` too.

    Where 127.0.0.2 does not exist (not Linux) the guard is released just before the block, so
    the number is only very probably free.
    """
    guard, udp_sock, port = None, None, 0
    candidates = range(1023, 511, -1) if privileged else [0] * 50
    try:
        for wanted in candidates:
            try:
                guard = _bind(socket.SOCK_STREAM, "127.0.0.1", wanted)
            except OSError as exc:
                if exc.errno == errno.EACCES:  # EACCES is only a privilege refusal: deterministic
                    yield "127.0.0.1", 1023, "EACCES"
                    return
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
            port = guard.getsockname()[1]
            host = _twin(port)
            if host is None:
                guard.close()
                continue
            if udp:
                try:
                    udp_sock = _bind(socket.SOCK_DGRAM, host, port)
                except OSError as exc:
                    if exc.errno != errno.EADDRINUSE:
                        raise
                    guard.close()
                    continue
            if host != TWIN:
                guard.close()
            yield host, port, "ok"
            return
        raise RuntimeError("no port to hold: every candidate port was in use; stop some servers and run the cell again")
    finally:
        for sock in (guard, udp_sock):
            if sock is not None:
                sock.close()


@contextlib.contextmanager
def closed_tcp_port(*, udp: bool = False) -> Iterator[int]:
    """A port on 127.0.0.1 where TCP connect() is refused (we hold it bound, never listening);
    with ``udp=True`` a UDP socket is bound to the same number (open for UDP, closed for TCP)."""
    for _ in range(50):
        guard = _bind(socket.SOCK_STREAM, "127.0.0.1", 0)
        port = guard.getsockname()[1]
        udp_sock = None
        if udp:
            try:
                udp_sock = _bind(socket.SOCK_DGRAM, "127.0.0.1", port)
            except OSError as exc:
                guard.close()
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
        try:
            yield port
        finally:
            guard.close()
            if udp_sock is not None:
                udp_sock.close()
        return
    raise RuntimeError("no TCP/UDP pair of the same number was free in 50 tries")

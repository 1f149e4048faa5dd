"""Small TCP/UDP servers that run in the background on 127.0.0.1, for labs and grade cells.

Every server binds 127.0.0.1 port 0 (the kernel picks a free port), is already listening when
the function returns, logs what it sees in ``server.log`` and stops in a few milliseconds.

>>> from socklab.servers import echo_server
>>> from socklab.clients import round_trip
>>> with echo_server(name="doc-echo") as srv:
...     round_trip(srv.address, b"hello")
b'hello'
>>> srv.running
False

Starting a server with a name that is already running stops the old one first, so re-running
a notebook cell never leaves an old server behind. ``stop_all()`` stops everything.
"""
from __future__ import annotations

import atexit
import errno
import html
import itertools
import selectors
import _socket
import socket
import threading
import time
from typing import Callable

from socklab.eventlog import PREVIEW, Event, EventLog, _conn_info, _LoggedConn

__all__ = ["Server", "ServerError", "Event", "EventLog", "serve_tcp", "serve_udp", "stop_all", "running",
           "echo_server", "web_server", "recording_server", "RecordingServer", "udp_echo_server",
           "DEFAULT_PAGE", "udp_ping_server"]

HOST = "127.0.0.1"
JOIN_WAIT = 1.0  # bounded wait for connection threads when stopping

_registry: dict[str, "Server"] = {}
_registry_lock = threading.Lock()
_names = itertools.count(1)


class ServerError(RuntimeError):
    """A server could not start; ``.ko`` / ``.en`` say why and what to do."""

    def __init__(self, ko: str, en: str) -> None:
        super().__init__(f"{ko}\n{en}")
        self.ko, self.en = ko, en


def _preview(data: bytes) -> str:
    return repr(data[:PREVIEW]) + ("…" if len(data) > PREVIEW else "")


class Server:
    """A background server. Use it as a context manager, or call ``.stop()``.

    ``.address`` is the real ``(host, port)`` to connect to; ``.log`` is its :class:`EventLog`;
    ``.running`` says whether it still accepts clients. Create servers with :func:`serve_tcp`,
    :func:`serve_udp` or the built-ins (:func:`echo_server`, :func:`web_server`, ...).
    """

    def __init__(self, kind: str, name: str | None, timeout: float) -> None:
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds, e.g. timeout=5.0")
        self.kind = kind
        self.name = name if name is not None else f"{kind}-{next(_names)}"
        self.timeout = float(timeout)
        self.log = EventLog()
        self._sock: socket.socket | None = None
        self._address: tuple[str, int] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._loop: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._datagrams = 0

    # -- public -------------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the server listens on, e.g. ``('127.0.0.1', 43817)``."""
        return self._address

    @property
    def host(self) -> str:
        return self._address[0]

    @property
    def port(self) -> int:
        return self._address[1]

    @property
    def running(self) -> bool:
        """True until ``stop()`` is called."""
        return self._loop is not None and not self._stopping.is_set()

    def stop(self) -> None:
        """Stop accepting, close the listening socket and every open connection (safe to call twice)."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            conns, threads = list(self._conns), list(self._threads)
        me = threading.current_thread()
        try:
            self._wake_w.send(b"!")
        except OSError:
            pass
        if self._loop is not None and self._loop is not me:
            self._loop.join(JOIN_WAIT)
        if self._sock is not None:
            self._sock.close()
        for conn in conns:  # wakes handler threads blocked in recv(): they see EOF and return
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + JOIN_WAIT
        for t in threads:
            if t is not me:
                t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            stuck = list(self._conns)
        for conn in stuck:  # a handler busy with something else: take its socket away anyway
            conn.close()
        self._wake_r.close()
        self._wake_w.close()
        self.log.add("close", detail="server stopped")
        with _registry_lock:
            if _registry.get(self.name) is self:
                del _registry[self.name]

    def wait_for(self, predicate_or_count: Callable[[EventLog], bool] | int = 1, timeout: float = 5.0) -> bool:
        """Wait until ``n`` clients were served, or until ``predicate(server.log)`` is true.

        TCP: ``n`` counts closed connections; UDP: answered datagrams. Returns True, or raises
        TimeoutError (ko/en) when ``timeout`` seconds pass first.
        """
        if callable(predicate_or_count):
            predicate, what = predicate_or_count, "the condition"
        else:
            n = int(predicate_or_count)
            if self.kind == "udp":
                predicate = (lambda log: self._datagrams >= n)
            else:
                predicate = (lambda log: log.closed >= n)
            what = f"{n} client(s)"
        if self.log.wait_for(predicate, timeout):
            return True
        raise TimeoutError(f"서버 '{self.name}': {timeout}초 안에 {what}을(를) 기다리지 못했습니다.\n"
                           f"Server '{self.name}': waited {timeout} s for {what}; log: {self.log.summary()}")

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = f"{self.host}:{self.port}" if self._address else "?"
        return f"<Server {self.name!r} {self.kind} {where} {state}: {self.log.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><code>{html.escape(repr(self))}</code></p>" + self.log._repr_html_()

    # -- machinery ----------------------------------------------------------------------------
    def _bind(self, sock_type: int, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, sock_type)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise ServerError(
                    f"포트 {port}번은 이미 다른 프로그램이 쓰고 있습니다. 그 서버를 멈추거나(socklab.servers.stop_all()) port=0을 쓰세요.",
                    f"Port {port} on {HOST} is already in use. Stop the other server "
                    "(socklab.servers.stop_all()) or use port=0 to let the kernel pick a free port.") from None
            raise
        return sock

    def _start(self, sock: socket.socket, loop: Callable[[], None]) -> None:
        self._sock = sock
        self._address = sock.getsockname()[:2]
        sock.setblocking(False)
        self.log.add("listen", detail=f"{self.kind} {self.host}:{self.port}")
        self._loop = threading.Thread(target=loop, name=f"socklab-{self.name}", daemon=True)
        self._loop.start()
        with _registry_lock:
            _registry[self.name] = self

    def _select_loop(self, on_ready: Callable[[], None]) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(self._sock, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r:
                        return
                    on_ready()
        finally:
            sel.close()

    def _accept_ready(self, handler: Callable) -> None:
        while True:
            try:
                conn, peer = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if not self._stopping.is_set():
                    self.log.add("error", detail=f"accept() failed: {exc}")
                return
            # Same object, more behaviour: recv/send also go to the log (layouts are identical).
            conn.__class__ = _LoggedConn
            conn.settimeout(self.timeout)
            with self._lock:
                if self._stopping.is_set():
                    conn.close()
                    return
                thread = threading.Thread(target=self._serve_conn, args=(handler, conn, peer), daemon=True,
                                          name=f"socklab-{self.name}-{peer[1]}")
                self._conns.add(conn)
                self._threads.add(thread)
            _conn_info[id(conn)] = (self.log, peer)
            self.log.add("accept", peer=peer, detail=f"new socket for {peer[0]}:{peer[1]}")
            thread.start()

    def _serve_conn(self, handler: Callable, conn: socket.socket, peer: tuple) -> None:
        try:
            handler(conn, peer)
        except TimeoutError as exc:
            if not getattr(exc, "_socklab_logged", False):
                self.log.add("timeout", peer=peer, detail=str(exc) or "timed out")
        except OSError as exc:
            if not self._stopping.is_set():
                self.log.add("error", peer=peer, detail=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a broken handler must not take the server down
            self.log.add("error", peer=peer, detail=f"handler raised {type(exc).__name__}: {exc}")
        finally:
            _conn_info.pop(id(conn), None)
            _drain(conn)
            conn.close()
            self.log.add("close", peer=peer, detail="connection closed")
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def _udp_ready(self, handler: Callable) -> None:
        try:
            data, peer = self._sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.log.add("error", detail=f"recvfrom() failed: {exc}")
            return
        self.log.add("recv", peer=peer, nbytes=len(data), detail=_preview(data))
        try:
            reply = handler(data, peer)
            if reply is not None:  # b"" too: RFC 862 echoes every datagram, even an empty one
                self._sock.sendto(reply, peer)
        except Exception as exc:
            self._datagrams += 1
            self.log.add("error", peer=peer, detail=f"{type(exc).__name__}: {exc}")
            return
        self._datagrams += 1  # counted before the last event so wait_for() sees a finished exchange
        if reply is not None:
            self.log.add("send", peer=peer, nbytes=len(reply), detail=_preview(reply))
        else:
            self.log.touch()


def _drain(conn: socket.socket) -> None:
    # Closing a socket with unread input makes the kernel send RST, which can destroy the reply
    # we just sent before the client reads it. Discard what is left (without logging it) first.
    try:
        conn.setblocking(False)
        while _socket.socket.recv(conn, 65536):  # the C method: trace() need not show this
            pass
    except OSError:
        pass


def _replace(name: str | None) -> None:
    if name is None:
        return
    with _registry_lock:
        old = _registry.get(name)
    if old is not None:
        old.stop()


def _bind_or_discard(server: Server, socktype: int, port: int) -> socket.socket:
    # A failed bind (port in use) must not leak the server's wake-up socketpair.
    try:
        return server._bind(socktype, port)
    except BaseException:
        server._wake_r.close()
        server._wake_w.close()
        raise


def _system_backlog() -> int:
    # listen() silently caps the backlog at net.core.somaxconn; ask for at least that (and >= 512:
    # 200 students' clients released at once overflowed the old 16 and were reset).
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return max(512, int(f.read()))
    except (OSError, ValueError):
        return max(512, socket.SOMAXCONN)


def serve_tcp(handler: Callable[[socket.socket, tuple], None], *, name: str | None = None,
              timeout: float = 5.0, backlog: int | None = None, port: int = 0, server_class=Server) -> Server:
    """Run ``handler(conn, addr)`` for every TCP client, each in its own thread.

    ``conn`` is the connected socket (``conn.recv`` / ``conn.sendall``), with a ``timeout``
    in seconds; the server closes it when the handler returns. Returns once listening.
    ``backlog`` defaults to the system's maximum, so a burst of clients waits instead of being reset.

    >>> def shout(conn, addr):
    ...     conn.sendall(conn.recv(100).upper())
    >>> with serve_tcp(shout, name="doc-shout") as srv:
    ...     from socklab.clients import round_trip
    ...     round_trip(srv.address, b"hi")
    b'HI'
    """
    _replace(name)
    server = server_class("tcp", name, timeout)
    sock = _bind_or_discard(server, socket.SOCK_STREAM, port)
    sock.listen(_system_backlog() if backlog is None else backlog)
    server._start(sock, lambda: server._select_loop(lambda: server._accept_ready(handler)))
    return server


def serve_udp(handler: Callable[[bytes, tuple], bytes | None], *, name: str | None = None,
              timeout: float = 5.0, port: int = 0) -> Server:
    """Run ``handler(data, addr)`` for every UDP datagram; a returned ``bytes`` (even ``b""``) is sent back, None sends nothing.

    >>> with serve_udp(lambda data, addr: data[::-1], name="doc-udp") as srv:
    ...     s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    ...     _ = s.sendto(b"abc", srv.address); print(s.recvfrom(100)[0]); s.close()
    b'cba'
    """
    _replace(name)
    server = Server("udp", name, timeout)
    sock = _bind_or_discard(server, socket.SOCK_DGRAM, port)
    server._start(sock, lambda: server._select_loop(lambda: server._udp_ready(handler)))
    return server


def running() -> list[Server]:
    """Servers started by socklab that are still running."""
    with _registry_lock:
        return [s for s in _registry.values() if s.running]


def stop_all() -> int:
    """Stop every socklab server; return how many were running."""
    with _registry_lock:
        servers = list(_registry.values())
    for s in servers:
        s.stop()
    return len(servers)


atexit.register(stop_all)

_BUILTINS = ("DEFAULT_PAGE", "RecordingServer", "echo_server", "recording_server", "udp_echo_server",
             "web_server", "udp_ping_server")


def __getattr__(name: str):
    # The ready-made servers live in _builtin_servers (which imports this module); loading them on
    # first use avoids a circular import whichever module is imported first.
    if name in _BUILTINS:
        from socklab import _builtin_servers
        return getattr(_builtin_servers, name)
    raise AttributeError(f"module 'socklab.servers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_BUILTINS))

"""IPv4 and IPv6 on loopback: a port held in both families, greeting servers, address conversions.

``same_port(v4=..., v6=...)`` gives one port number on 127.0.0.1 *and* ::1, each side chosen from
"greet" (a server that sends a greeting and closes), "refuse" (bound, not listening) or "blackhole"
(connect() times out). Both sides stay bound while it runs, so no other program can take either.
A client that tries every address ``getaddrinfo`` returns, in order, finds the greeting.

>>> with same_port(v4="greet", v6="refuse") as p:
...     sock = socket.create_connection(("127.0.0.1", p.port), timeout=2)
...     greeting = sock.recv(100); sock.close()
>>> greeting == p.greeting
True
>>> p.accepted
['IPv4']
"""
from __future__ import annotations

import secrets
import socket
import threading

from socklab import faults

__all__ = ["FAMILY_NAMES", "family_name", "SamePort", "same_port", "loopback_candidates"]

FAMILY_NAMES = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}
_HOST = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}


def family_name(family: int) -> str:
    """'IPv4' or 'IPv6' for AF_INET / AF_INET6."""
    return FAMILY_NAMES[family]


def loopback_candidates(port: int) -> list[tuple[int, tuple]]:
    """(family, sockaddr) that ``getaddrinfo(None, port)`` lists here: the loopback of each family."""
    return [(fam, addr) for fam, _, _, _, addr in socket.getaddrinfo(None, port, type=socket.SOCK_STREAM)]


class SamePort:
    """One port number held on both loopbacks. ``.accepted`` lists the families that got a client,
    ``.greeting`` is what the greeting side sends (random each time)."""

    def __init__(self, port: int, held: list, greeting: bytes) -> None:
        self.port, self._held, self.greeting = port, held, greeting
        self.accepted: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _greet(self, listener: socket.socket, family: int) -> None:
        listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(family_name(family))
            with conn:
                try:
                    conn.sendall(self.greeting)
                except OSError:
                    pass

    def address(self, family: int) -> tuple[str, int]:
        return _HOST[family], self.port

    def stop(self) -> None:
        self._stop.set()
        for h in self._held:   # shutdown() wakes a thread blocked in accept() at once
            if isinstance(h, socket.socket):
                try:
                    h.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for t in self._threads:
            t.join(1.0)
        for h in self._held:
            h.stop() if hasattr(h, "stop") else h.close()

    def __enter__(self) -> "SamePort":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _side(kind: str, family: int, port: int):
    if kind == "greet":
        return socket.create_server((_HOST[family], port), family=family)
    if kind == "refuse":
        return faults.refused(family=family, port=port)
    if kind == "blackhole":
        return faults.blackhole(family=family, port=port)
    raise ValueError(f"a side is 'greet', 'refuse' or 'blackhole', not {kind!r}")


def same_port(*, v4: str = "greet", v6: str = "greet", attempts: int = 20) -> SamePort:
    """Hold one port number on 127.0.0.1 and ::1 (see the module docs); retries if the kernel's pick
    is already taken in the other family."""
    for _ in range(attempts):
        first = _side(v6, socket.AF_INET6, 0)
        port = (first.getsockname() if isinstance(first, socket.socket) else first.address)[1]
        try:
            second = _side(v4, socket.AF_INET, port)
        except OSError:
            first.stop() if hasattr(first, "stop") else first.close()
            continue
        greeting = b"hello from socklab " + secrets.token_hex(4).encode() + b"\n"
        pair = SamePort(port, [first, second], greeting)
        for sock, family in ((first, socket.AF_INET6), (second, socket.AF_INET)):
            if isinstance(sock, socket.socket):
                t = threading.Thread(target=pair._greet, args=(sock, family), daemon=True, name="socklab-greet")
                pair._threads.append(t)
                t.start()
        return pair
    raise RuntimeError(f"no port number was free on both 127.0.0.1 and ::1 in {attempts} attempts")

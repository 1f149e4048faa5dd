"""Grade-cell helpers for UDP exercises (chapter 5): reference clients for a student's UDP server,
and checks that a student's function raised what the prompt asked for.

>>> s = udp_socket(); s.getsockname()[0]
'127.0.0.1'
>>> s.close()
"""
from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from socklab.testing.limits import Run
from socklab.testing.messages import ExerciseFailed, TimeLimit, _short, describe_exception

__all__ = ["udp_socket", "expect_raises", "UdpClients", "timed"]


def udp_socket(timeout: float | None = None) -> socket.socket:
    """A UDP socket bound to 127.0.0.1 on a port the kernel picks (never a guessed number)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    if timeout is not None:
        sock.settimeout(timeout)
    return sock


def timed(fn: Callable[..., Any], *args: Any, timeout: float = 5.0, **kwargs: Any) -> tuple[Any, float]:
    """``(fn(*args, **kwargs), seconds it took)``, bounded by `timeout` (ExerciseFailed on errors)."""
    run = Run(fn, args, kwargs).start()
    value = run.result(timeout)
    return value, time.monotonic() - run.started_at


def expect_raises(exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, timeout: float = 5.0,
                  ko: str, en: str, **kwargs: Any) -> float:
    """Call `fn` and require that it raises `exc_type` (checked with isinstance); returns the seconds it
    took. `ko` / `en` say what should have happened."""
    run = Run(fn, args, kwargs).start()
    try:
        value = run.result(timeout)
    except TimeLimit:
        raise
    except ExerciseFailed as failure:
        error = failure.student_error
        if isinstance(error, exc_type):
            return time.monotonic() - run.started_at
        raise ExerciseFailed(ko, en, detail=f"{run.name}()가 낸 예외 / raised: {describe_exception(error) if error else failure.en}",
                             hint_ko=f"{exc_type.__name__}를 raise 하세요", hint_en=f"raise {exc_type.__name__}") from None
    raise ExerciseFailed(ko, en, detail=f"{run.name}()가 예외 없이 돌려준 값 / returned: {_short.repr(value)}",
                         hint_ko=f"{exc_type.__name__}를 raise 하세요", hint_en=f"raise {exc_type.__name__}")


class UdpClients:
    """Named reference clients, each its own UDP socket (its own address), for a student's UDP server.

    ``clients.send("a", b"hi")`` sends from client a; ``clients.reply("a")`` waits for the answer
    and checks it came from the server's address. Close with ``.close()`` or a ``with`` block.
    """

    def __init__(self, server: tuple[str, int], names: Sequence[str], *, timeout: float = 1.0) -> None:
        self.server, self.timeout = tuple(server[:2]), timeout
        self.socks = {name: udp_socket(timeout) for name in names}

    def address(self, name: str) -> tuple[str, int]:
        return self.socks[name].getsockname()[:2]

    def send(self, name: str, data: bytes) -> None:
        self.socks[name].sendto(data, self.server)

    def reply(self, name: str, *, bufsize: int = 65535) -> bytes:
        try:
            data, peer = self.socks[name].recvfrom(bufsize)
        except TimeoutError:
            raise ExerciseFailed(f"클라이언트 {name}이(가) {self.timeout:g}초 안에 응답을 받지 못했습니다",
                                 f"client {name} got no reply within {self.timeout:g} s",
                                 hint_ko="recvfrom()이 돌려준 주소로 sendto() 했나요?",
                                 hint_en="did you sendto() the address recvfrom() returned?") from None
        if peer[:2] != self.server:
            raise ExerciseFailed(f"클라이언트 {name}의 응답이 서버가 아닌 주소 {peer[0]}:{peer[1]}에서 왔습니다",
                                 f"client {name}'s reply came from {peer[0]}:{peer[1]}, not from the server",
                                 hint_ko="받은 소켓(sock) 하나로 답하세요", hint_en="answer on the socket you were given")
        return data

    def close(self) -> None:
        for sock in self.socks.values():
            sock.close()

    def __enter__(self) -> "UdpClients":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

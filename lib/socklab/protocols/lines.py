"""A line-based command protocol: one request per line, one reply line per request.

A line ends with ``\\n`` (a ``\\r`` before it is dropped); text is UTF-8. The command is the text
before the first space::

    ECHO <text>     ->  <text>
    UPPER <text>    ->  <TEXT>
    ADD <a> <b>     ->  the sum of the two integers, or "ERR bad number"
    QUIT            ->  BYE, then the server closes the connection
    anything else   ->  ERR unknown command

A connection may carry any number of lines, several per recv() or one line over many; the server
answers them in order until the client half-closes (a last line without ``\\n`` is ignored) or QUITs.

>>> [reply_for(x) for x in ["ECHO hi there", "UPPER abc", "ADD 2 -5", "ADD x 1", "PING", "QUIT"]]
['hi there', 'ABC', '-3', 'ERR bad number', 'ERR unknown command', 'BYE']
>>> expected_replies(["ECHO a", "QUIT", "ECHO never"])
b'a\\nBYE\\n'
"""
from __future__ import annotations

import socket

__all__ = ["reply_for", "expected_replies", "line_server", "exchange", "scenario"]


def reply_for(line: str) -> str:
    """The reply (without its newline) a correct server sends for one request line."""
    line = line.removesuffix("\r")
    command, _, rest = line.partition(" ")
    if command == "ECHO":
        return rest
    if command == "UPPER":
        return rest.upper()
    if command == "ADD":
        parts = rest.split(" ")
        try:
            if len(parts) != 2:
                raise ValueError
            return str(int(parts[0]) + int(parts[1]))
        except ValueError:
            return "ERR bad number"
    if command == "QUIT" and not rest:
        return "BYE"
    return "ERR unknown command"


def expected_replies(lines: list[str]) -> bytes:
    """Everything a correct server sends for `lines` (it stops after QUIT)."""
    out = []
    for line in lines:
        out.append(reply_for(line) + "\n")
        if line.removesuffix("\r") == "QUIT":
            break
    return "".join(out).encode("utf-8")


def line_server(*, name: str = "lines", timeout: float = 5.0):
    """A reference line server (a socklab Server on 127.0.0.1, a free port)."""
    from socklab.servers import serve_tcp

    def handle(conn: socket.socket, peer) -> None:
        with conn.makefile("rb") as reader:
            for raw in reader:
                if not raw.endswith(b"\n"):
                    break
                line = raw[:-1].decode("utf-8")
                conn.sendall((reply_for(line) + "\n").encode("utf-8"))
                if line.removesuffix("\r") == "QUIT":
                    break
    return serve_tcp(handle, name=name, timeout=timeout)


def exchange(address, lines: list[str], *, timeout: float = 5.0, half_close: bool = True, tail: bytes = b"") -> bytes:
    """Send all `lines` at once (each with ``\\n``, then `tail`: a piece without one), half-close,
    and read until the server closes.

    A server that closes right after QUIT while later lines are still unread makes its kernel send
    RST instead of FIN; that ends the reply just like a close (what arrived before it is kept)."""
    with socket.create_connection(tuple(address[:2]), timeout=timeout) as sock:
        sock.sendall("".join(line + "\n" for line in lines).encode("utf-8") + tail)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        got = b""
        try:
            while data := sock.recv(65536):
                got += data
        except ConnectionResetError:
            if half_close or not got:
                raise
        return got


def scenario(lines: list[str], *, seed: int | None = None, mode: str = "mixed", label: str | None = None,
             half_close: bool = True, tail: bytes = b""):
    """A :class:`socklab.testing.Scenario`: one client sends `lines` (and `tail`, a last piece without
    a newline, which must get no reply), re-chunked by a seeded relay when `seed` is given, and must
    get exactly the right reply lines."""
    from socklab.testing import Scenario

    sent = "".join(line + "\n" for line in lines).encode("utf-8") + tail

    def action(address, timeout):
        if seed is None:
            return [(sent, exchange(address, lines, timeout=timeout, half_close=half_close, tail=tail))]
        from socklab.relay import Relay
        with Relay(address, seed=seed, mode=mode, timeout=timeout, name="lines-relay") as relay:
            return [(sent, exchange(relay.address, lines, timeout=timeout, half_close=half_close, tail=tail))]
    where = "" if seed is None else f", re-chunked (seed {seed}, {mode})"
    return Scenario(label or f"{len(lines)} line(s){where}", 1, action, expected_replies(lines),
                    hint_ko="recv()는 줄 단위가 아닙니다: 받은 바이트를 버퍼에 모으고 b'\\n'이 있을 때마다 한 줄씩 꺼내세요",
                    hint_en="recv() does not return lines: keep a buffer and take out one line each time it holds b'\\n'")

"""The network calculator: a struct-packed request/response protocol over TCP.

Every request and every reply is exactly 12 bytes, in network byte order (big-endian, ``!``)::

    request  "!BBHii"   version(1) | op(1) | req_id(2) | a(4, signed) | b(4, signed)
    reply    "!BBHq"    version(1) | status(1) | req_id(2) | result(8, signed)

op: 1 ADD, 2 SUB, 3 MUL, 4 DIV (integer division that truncates toward zero, as C does).
status: 0 OK, 1 DIV_BY_ZERO, 2 BAD_OP, 3 BAD_VERSION (result 0). The reply carries the request's
req_id, so a client can match replies to requests. A connection carries any number of requests
(one after another, possibly all sent at once); the server answers each in order until EOF.

>>> pack_request(ADD, 2, 40, req_id=7).hex(" ")
'01 01 00 07 00 00 00 02 00 00 00 28'
>>> unpack_reply(reply_for(pack_request(DIV, -7, 2, req_id=1)))
(1, 0, 1, -3)
>>> compute(DIV, 1, 0)
(1, 0)
"""
from __future__ import annotations

import random
import socket
import struct

__all__ = ["REQUEST", "REPLY", "VERSION", "ADD", "SUB", "MUL", "DIV", "OPS", "OK", "DIV_BY_ZERO", "BAD_OP",
           "BAD_VERSION", "STATUS", "pack_request", "unpack_request", "pack_reply", "unpack_reply", "compute",
           "reply_for", "calc_server", "exchange", "scenario", "random_requests", "layout_figure"]

REQUEST = struct.Struct("!BBHii")
REPLY = struct.Struct("!BBHq")
VERSION = 1
ADD, SUB, MUL, DIV = 1, 2, 3, 4
OPS = {ADD: "+", SUB: "-", MUL: "*", DIV: "/"}
OK, DIV_BY_ZERO, BAD_OP, BAD_VERSION = 0, 1, 2, 3
STATUS = {OK: "OK", DIV_BY_ZERO: "DIV_BY_ZERO", BAD_OP: "BAD_OP", BAD_VERSION: "BAD_VERSION"}


def pack_request(op: int, a: int, b: int, *, req_id: int = 0, version: int = VERSION) -> bytes:
    """The 12 request bytes for ``a <op> b``."""
    return REQUEST.pack(version, op, req_id, a, b)


def unpack_request(data: bytes) -> tuple[int, int, int, int, int]:
    """(version, op, req_id, a, b) from 12 request bytes."""
    return REQUEST.unpack(data)


def pack_reply(status: int, result: int, *, req_id: int = 0, version: int = VERSION) -> bytes:
    """The 12 reply bytes."""
    return REPLY.pack(version, status, req_id, result)


def unpack_reply(data: bytes) -> tuple[int, int, int, int]:
    """(version, status, req_id, result) from 12 reply bytes."""
    return REPLY.unpack(data)


def compute(op: int, a: int, b: int) -> tuple[int, int]:
    """(status, result) of ``a <op> b``; DIV truncates toward zero (-7 / 2 = -3)."""
    if op == ADD:
        return OK, a + b
    if op == SUB:
        return OK, a - b
    if op == MUL:
        return OK, a * b
    if op == DIV:
        if b == 0:
            return DIV_BY_ZERO, 0
        q = abs(a) // abs(b)
        return OK, q if (a >= 0) == (b >= 0) else -q
    return BAD_OP, 0


def reply_for(request: bytes) -> bytes:
    """The reply a correct server sends for one 12-byte request."""
    version, op, req_id, a, b = unpack_request(request)
    if version != VERSION:
        return pack_reply(BAD_VERSION, 0, req_id=req_id)
    status, result = compute(op, a, b)
    return pack_reply(status, result, req_id=req_id)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            break
        buf += data
    return buf


def calc_server(*, name: str = "calc", timeout: float = 5.0):
    """A reference calculator server (a socklab Server on 127.0.0.1, a free port)."""
    from socklab.servers import serve_tcp

    def handle(conn: socket.socket, peer) -> None:
        while len(request := _recv_exactly(conn, REQUEST.size)) == REQUEST.size:
            conn.sendall(reply_for(request))
    return serve_tcp(handle, name=name, timeout=timeout)


def exchange(address, requests: list[bytes], *, timeout: float = 5.0, pipeline: bool = True) -> bytes:
    """Send each request (all at once with ``pipeline=True``, else one at a time, waiting for each
    reply), half-close, and return every byte the server sent back until it closed."""
    with socket.create_connection(tuple(address[:2]), timeout=timeout) as sock:
        got = b""
        if pipeline:
            sock.sendall(b"".join(requests))
        else:
            for request in requests:
                sock.sendall(request)
                got += _recv_exactly(sock, REPLY.size)
        sock.shutdown(socket.SHUT_WR)
        while data := sock.recv(65536):
            got += data
        return got


def random_requests(seed: int, n: int, *, with_errors: bool = True) -> list[bytes]:
    """`n` requests from a seeded generator: every op, signed operands, and (optionally) a division
    by zero and an unknown op, with increasing req_ids starting at a seeded value."""
    rng = random.Random(f"socklab-calc-{seed}")
    first = rng.randrange(1, 60000)
    out = []
    for i in range(n):
        op = rng.choice((ADD, SUB, MUL, DIV))
        a, b = rng.randint(-2**31, 2**31 - 1), rng.randint(-50000, 50000) or 1
        out.append(pack_request(op, a, b, req_id=(first + i) % 65536))
    if with_errors and n >= 3:
        out[1] = pack_request(DIV, rng.randint(-100, 100), 0, req_id=(first + 1) % 65536)
        out[2] = pack_request(rng.choice((0, 5, 9, 255)), 1, 2, req_id=(first + 2) % 65536)
    return out


def scenario(requests: list[bytes], *, seed: int | None = None, mode: str = "mixed", pipeline: bool = True,
             label: str | None = None):
    """A :class:`socklab.testing.Scenario` for ``check_server``: one client sends `requests`
    (through a re-chunking relay when `seed` is given) and must get exactly the right replies."""
    from socklab.testing import Scenario

    expected = b"".join(reply_for(r) for r in requests)
    sent = b"".join(requests)

    def action(address, timeout):
        if seed is None:
            return [(sent, exchange(address, requests, timeout=timeout, pipeline=pipeline))]
        from socklab.relay import Relay
        with Relay(address, seed=seed, mode=mode, timeout=timeout, name="calc-relay") as relay:
            return [(sent, exchange(relay.address, requests, timeout=timeout, pipeline=pipeline))]
    where = "" if seed is None else f", re-chunked (seed {seed}, {mode})"
    return Scenario(label or f"{len(requests)} request(s){where}", 1, action, expected,
                    hint_ko="요청은 정확히 12바이트입니다: recv()가 12바이트보다 적게(또는 여러 요청을 한꺼번에) "
                            "돌려줄 수 있으니 12바이트가 모일 때까지 읽고, 하나씩 처리하세요",
                    hint_en="a request is exactly 12 bytes: recv() may return fewer (or several requests at once), "
                            "so collect 12 bytes before unpacking, and handle them one at a time")


def layout_figure(request: bytes | None = None, reply: bytes | None = None):
    """The byte layout of a request and its reply: one box per byte, grouped by field, with the hex."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from socklab._figures import blank_axes, register_figure_display

    request = request or pack_request(ADD, 1000, -3, req_id=7)
    reply = reply or reply_for(request)
    layouts = [("request  !BBHii", request, [("ver", 1), ("op", 1), ("req_id", 2), ("a (int32)", 4),
                                             ("b (int32)", 4)], unpack_request(request)),
               ("reply  !BBHq", reply, [("ver", 1), ("status", 1), ("req_id", 2), ("result (int64)", 8)],
                unpack_reply(reply))]
    fig = Figure(figsize=(10, 3.4))
    ax = fig.add_subplot()
    colours = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756")
    for row, (title, data, fields, values) in enumerate(layouts):
        y = -row * 1.6
        ax.text(-0.2, y + 0.5, title, ha="right", va="center", fontsize=10, weight="bold", family="monospace")
        pos = 0
        for i, ((field, size), value) in enumerate(zip(fields, values)):
            ax.add_patch(Rectangle((pos, y + 0.55), size, 0.55, fc=colours[i], ec="white", alpha=0.9))
            short = size == 1 or len(field) > 6 * size
            ax.text(pos + size / 2, y + 0.82, f"{field}\n{value}" if short else f"{field} = {value}", ha="center",
                    va="center", fontsize=7 if short else 8, color="white", weight="bold")
            for k in range(size):
                ax.add_patch(Rectangle((pos + k, y), 1, 0.5, fc="white", ec=colours[i]))
                ax.text(pos + k + 0.5, y + 0.25, f"{data[pos + k]:02x}", ha="center", va="center", fontsize=9,
                        family="monospace")
                ax.text(pos + k + 0.5, y - 0.15, str(pos + k), ha="center", va="center", fontsize=6.5, color="0.4")
            pos += size
    ax.set_xlim(-4.2, 12.3)
    ax.set_ylim(-1.9, 1.3)
    blank_axes(ax)
    ax.set_title("network calculator: 12-byte request and reply, network byte order (big-endian)", fontsize=10)
    register_figure_display()
    return fig

"""The data-only channel between the verifier and the student's process.

Only plain data crosses, with strict types: None, bool, int, float, str, bytes, list, tuple, dict,
and sockets (sent as file descriptors with SCM_RIGHTS, so both processes hold the same kernel
socket). The decoder builds nothing else, so an object "equal to anything", a ``str`` subclass
with a doctored ``__eq__`` or a pickle gadget cannot exist on the verifier's side.

>>> decode(*encode({"port": 80, ("127.0.0.1", 1): [True, None, 2.5, b"x"]}))
{'port': 80, ('127.0.0.1', 1): [True, None, 2.5, b'x']}
>>> encode(object())
Traceback (most recent call last):
...
socklab.grading.wire.WireError: a object is not plain data (None/bool/int/float/str/bytes/list/tuple/dict/socket)
"""
from __future__ import annotations

import array
import os
import socket
import struct
import threading

__all__ = ["WireError", "encode", "decode", "Channel", "MAX_DEPTH", "sockets_in"]

MAX_DEPTH = 64
MAX_FRAME = 64 << 20        # a reply larger than this is refused (the verifier never buffers more)
_HEAD = struct.Struct("!QI")       # body length, number of fds
_FLOAT = struct.Struct("!d")
_PLAIN = "None/bool/int/float/str/bytes/list/tuple/dict/socket"


class WireError(TypeError):
    """A value that cannot cross the channel (not plain data), or a malformed frame."""


def _count(n: int) -> bytes:
    return str(n).encode() + b":"


def encode(value, *, convert=None) -> tuple[bytes, list[socket.socket]]:
    """(bytes, sockets) for `value`. `convert(x)` may turn a non-plain value into a plain one
    (the student's side uses it for subclasses and scapy packets); it runs before the type check."""
    out: list[bytes] = []
    socks: list[socket.socket] = []

    def put(x, depth):
        if depth > MAX_DEPTH:
            raise WireError(f"data nested deeper than {MAX_DEPTH} levels")
        t = type(x)
        if convert is not None and t not in _TYPES:
            x = convert(x)
            t = type(x)
        if x is None:
            out.append(b"N")
        elif t is bool:
            out.append(b"T" if x else b"F")
        elif t is int:
            out.append(b"i" + _count(x))
        elif t is float:
            out.append(b"f" + _FLOAT.pack(x))
        elif t is str:
            data = x.encode("utf-8", "surrogatepass")
            out.append(b"s" + _count(len(data)) + data)
        elif t is bytes:
            out.append(b"b" + _count(len(x)) + x)
        elif t is list or t is tuple:
            out.append((b"l" if t is list else b"t") + _count(len(x)))
            for item in x:
                put(item, depth + 1)
        elif t is dict:
            out.append(b"d" + _count(len(x)))
            for k, v in x.items():
                put(k, depth + 1)
                put(v, depth + 1)
        elif isinstance(x, socket.socket) and x.fileno() >= 0:
            out.append(b"k" + _count(len(socks)) + _FLOAT.pack(-1.0 if x.gettimeout() is None else x.gettimeout()))
            socks.append(x)
        else:
            raise WireError(f"a {t.__name__} is not plain data ({_PLAIN})")

    put(value, 0)
    return b"".join(out), socks


_TYPES = {type(None), bool, int, float, str, bytes, list, tuple, dict}


def sockets_in(value, depth: int = 0) -> list[socket.socket]:
    """Every socket inside `value` (lists, tuples, dict keys and values), as `encode` finds them."""
    if isinstance(value, socket.socket):
        return [value]
    found = []
    if depth < MAX_DEPTH and type(value) in (list, tuple, dict):
        for item in (value.items() if type(value) is dict else value):
            found += sockets_in(item, depth + 1)
    return found


def decode(data: bytes, fds: list = ()):
    """The value `encode` wrote; file descriptors in `fds` become socket.socket objects."""
    fds = list(fds)
    pos = 0

    def number() -> int:
        nonlocal pos
        end = data.index(b":", pos, pos + 5000)
        text = data[pos:end]
        if not text or not text.lstrip(b"-").isdigit():
            raise WireError("malformed frame")
        pos = end + 1
        return int(text)

    def take(n: int) -> bytes:
        nonlocal pos
        if n < 0 or pos + n > len(data):
            raise WireError("malformed frame")
        chunk = data[pos:pos + n]
        pos += n
        return chunk

    def get(depth):
        nonlocal pos
        if depth > MAX_DEPTH:
            raise WireError("malformed frame")
        tag = take(1)
        if tag == b"N":
            return None
        if tag in (b"T", b"F"):
            return tag == b"T"
        if tag == b"i":
            return number()
        if tag == b"f":
            return _FLOAT.unpack(take(8))[0]
        if tag == b"s":
            return take(number()).decode("utf-8", "surrogatepass")
        if tag == b"b":
            return take(number())
        if tag in (b"l", b"t"):
            items = [get(depth + 1) for _ in range(number())]
            return items if tag == b"l" else tuple(items)
        if tag == b"d":
            n = number()
            out = {}
            for _ in range(n):
                key = get(depth + 1)
                try:
                    out[key] = get(depth + 1)
                except TypeError as exc:     # a list as a key
                    raise WireError(f"malformed frame: {exc}") from None
            return out
        if tag == b"k":
            index = number()
            timeout = _FLOAT.unpack(take(8))[0]
            if not 0 <= index < len(fds) or fds[index] is None:
                raise WireError("malformed frame: bad socket reference")
            sock = socket.socket(fileno=fds[index])
            fds[index] = None
            sock.settimeout(None if timeout < 0 else timeout)
            return sock
        raise WireError("malformed frame: unknown tag")

    try:
        value = get(0)
    except (ValueError, IndexError, RecursionError, struct.error, UnicodeDecodeError) as exc:
        raise WireError(f"malformed frame: {exc}") from None
    finally:
        for fd in fds:
            if fd is not None:
                os.close(fd)
    if pos != len(data):
        raise WireError("malformed frame: trailing bytes")
    return value


class Channel:
    """Framed messages with file descriptors over one AF_UNIX stream socket (thread-safe sends)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._send_lock = threading.Lock()

    def send(self, value, *, convert=None) -> None:
        body, socks = encode(value, convert=convert)
        head = _HEAD.pack(len(body), len(socks))
        with self._send_lock:
            if socks:
                fds = array.array("i", [s.fileno() for s in socks])
                sent = self.sock.sendmsg([head], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
                if sent != len(head):
                    self.sock.sendall(head[sent:])
            else:
                self.sock.sendall(head)
            self.sock.sendall(body)

    def recv(self):
        """The next value; EOFError when the peer is gone."""
        head, fds = b"", []
        while len(head) < _HEAD.size:
            chunk, ancdata, _flags, _addr = self.sock.recvmsg(_HEAD.size - len(head), socket.CMSG_SPACE(4 * 64))
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    usable = len(payload) - len(payload) % 4
                    fds += array.array("i", payload[:usable]).tolist()
            if not chunk:
                for fd in fds:
                    os.close(fd)
                raise EOFError("the other side closed the channel")
            head += chunk
        length, nfds = _HEAD.unpack(head)
        if length > MAX_FRAME or nfds != len(fds):
            for fd in fds:
                os.close(fd)
            raise WireError("malformed frame header")
        body = bytearray()
        while len(body) < length:
            chunk = self.sock.recv(min(1 << 20, length - len(body)))
            if not chunk:
                raise EOFError("the other side closed the channel")
            body += chunk
        return decode(bytes(body), fds)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

"""Reference peers that misbehave on purpose, and the kernel's own answer to compare with.

* ``stalled_port()``: a TCP port whose connect() really stalls (its accept queue is full, so the
  kernel drops new SYNs): a scanner without a timeout hangs there, one with a timeout moves on.
* ``echoes_as_it_arrives()``: a client that needs its first half echoed before it sends the rest.
* ``still_connected()``: a client scenario that stays connected after the others are done and
  watches the listener: a server that returns before its last connection ends (no join()) is seen.
* ``stalls_then()``: one client connects and says nothing (without leaving) while the next one
  must be served: only a server that gives each connection a timeout gets to it.
* ``eof_echo_server()``: answers only after the client half-closes (shutdown(SHUT_WR)), in pieces.
* ``bind_outcome()``: what bind() says right now for a TCP socket of ours, as an errno name, so a
  grade compares the student's answer with the kernel instead of assuming a port is free.
"""
from __future__ import annotations

import contextlib
import errno
import socket
import time
from collections.abc import Iterator

from socklab.testing.checks import Scenario
from socklab.testing.messages import ExerciseFailed

__all__ = ["stalled_port", "still_connected", "echoes_as_it_arrives", "stalls_then", "bind_outcome",
           "eof_echo_server"]


@contextlib.contextmanager
def stalled_port(*, check: float = 0.2) -> Iterator[int]:
    """A port on 127.0.0.1 where TCP connect() stalls until the caller's timeout (yields the port).

    listen(0) plus one connection nobody accepts fills the accept queue; Linux then drops further
    SYNs (tcp_abort_on_overflow=0, the default), exactly like a host that does not answer.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        filler.settimeout(2.0)
        filler.connect(("127.0.0.1", port))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # make sure it really stalls
            probe.settimeout(check)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                pass
            else:
                raise RuntimeError("this kernel answers connects to a full accept queue (is "
                                   "net.ipv4.tcp_abort_on_overflow 1?): cannot make a stalled port")
        yield port
    finally:
        filler.close()
        listener.close()


def bind_outcome(host: str, port: int) -> str:
    """'ok' if a fresh TCP socket of ours can bind (host, port) right now, else the errno name.

    >>> bind_outcome("127.0.0.1", 0)
    'ok'
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc.errno))
    return "ok"


def _echo_of_first_half(sock: socket.socket, data: bytes, timeout: float) -> bytes:
    """Send the first half of `data` (no half-close) and read until its echo is back."""
    half = max(1, len(data) // 2)
    sock.sendall(data[:half])
    got = b""
    sock.settimeout(timeout)
    try:
        while len(got) < half:
            piece = sock.recv(half - len(got))
            if not piece:
                break
            got += piece
    except TimeoutError:
        pass
    if len(got) < half:
        raise ExerciseFailed("보낸 첫 부분이 돌아오지 않았습니다 (연결은 열려 있음)",
                             "the first part sent did not come back while the connection stayed open",
                             detail=f"보낸 값 / sent: {data[:half]!r}\n받은 값 / got:  {got!r}",
                             hint_ko="받은 것을 끝(b'')까지 모으지 말고 recv()할 때마다 바로 sendall()하세요. "
                                     "accept()한 연결은 바로 처리를 시작하세요",
                             hint_en="sendall() each piece as soon as recv() returns it (do not collect until b''), "
                                     "and start serving a connection as soon as you accept it")
    return got


def echoes_as_it_arrives(data: bytes = b"piece by piece") -> Scenario:
    """A client that sends half of `data` and waits for its echo before sending the rest: a server
    that only answers at end of stream fails here, with a hint that says exactly that."""
    def action(address, timeout):
        with socket.create_connection(address, timeout=timeout) as sock:
            got = _echo_of_first_half(sock, data, timeout)
            sock.sendall(data[len(got):])
            sock.shutdown(socket.SHUT_WR)
            while piece := sock.recv(65536):
                got += piece
        return [(data, got)]
    return Scenario("waits for the echo of its first half", 1, action)


def still_connected(data: bytes = b"still here", *, probes: int = 8) -> Scenario:
    """The last client: sends half of `data`, gets its echo, then, still connected, checks `probes`
    times that the listener takes connections; a server that already returned (its threads not
    joined) has had its listener shut, so the check fails. Then it finishes normally."""
    def action(address, timeout):
        with socket.create_connection(address, timeout=timeout) as sock:
            got = _echo_of_first_half(sock, data, timeout)
            for _ in range(probes):  # at most `probes` unaccepted connections: the backlog holds them
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                    probe.settimeout(timeout)
                    if probe.connect_ex(address) != 0:
                        raise ExerciseFailed(
                            "연결이 아직 처리 중인데 서버 함수가 돌아왔습니다",
                            "your server function returned while a connection was still being served",
                            hint_ko="돌아오기 전에 만든 스레드를 모두 join()하세요",
                            hint_en="join() every thread you started before returning")
                time.sleep(0.03)  # probe pace, not synchronisation: a correct server passes at any pace
            sock.sendall(data[len(got):])
            sock.shutdown(socket.SHUT_WR)
            while piece := sock.recv(65536):
                got += piece
        return [(data, got)]
    return Scenario("stays connected while the others finish", 1, action)


def stalls_then(data: bytes = b"next in line") -> Scenario:
    """Two clients: the first connects and stays silent (it never sends, never leaves); the second
    does a round trip. A one-at-a-time server reaches the second only if it times out on the first."""
    from socklab import clients

    def action(address, timeout):
        with socket.create_connection(address, timeout=timeout):  # stays silent until we are done
            reply = clients.round_trip(address, data, timeout=timeout)
        return [(data, reply)]
    return Scenario("silent client that never leaves, then another", 2, action,
                    hint_ko="연결마다 conn.settimeout(timeout)을 주고, TimeoutError가 나면 그 연결만 닫고 다음 클라이언트로 가세요",
                    hint_en="give each connection conn.settimeout(timeout); on TimeoutError close just that "
                            "connection and go on with the next client")


def eof_echo_server(*, pieces: int = 4, name: str = "eof-echo", timeout: float = 1.0):
    """A TCP server that reads until the client has finished sending (EOF: the client's
    shutdown(SHUT_WR)), then sends everything back in `pieces` separate writes and closes.

    A client that never half-closes gets nothing and, after `timeout` s, an empty close.
    """
    from socklab import servers

    def handle(conn, addr):
        got = []
        try:
            while data := conn.recv(65536):
                got.append(data)
        except TimeoutError:
            return  # the client never said it was done: no answer
        data = b"".join(got)
        step = max(1, -(-len(data) // pieces))
        for i in range(0, len(data), step):
            conn.sendall(data[i:i + step])
            time.sleep(0.005)  # separate segments, so one recv() cannot get them all (pace, not sync)
    return servers.serve_tcp(handle, name=name, timeout=timeout)

"""Benchmarks for socklab.servers, each against a baseline measured in the same run.

- start+stop latency of a socklab server vs socketserver.ThreadingTCPServer (serve_forever polls
  every 0.5 s, so its shutdown() pays up to that);
- echo round trip (one open connection, 64 B messages) through socklab's echo_server vs a bare
  `socket` echo server written here;
- a whole connection (connect, send, half-close, read to close) against the same two servers.
Rounds alternate between socklab and baseline so machine load hits both alike.
"""
from __future__ import annotations

import socket
import socketserver
import statistics
import threading
import time

from socklab.servers import echo_server

MESSAGE = b"x" * 64


class _BareEcho:
    """The simplest correct threaded echo server: accept loop + one thread per client."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = self.sock.getsockname()
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            if self.stopping:
                conn.close()
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def stop(self) -> None:
        self.stopping = True
        socket.create_connection(self.address, timeout=2).close()  # wake the blocking accept()
        self.thread.join(2)
        self.sock.close()


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


def _socketserver_start_stop() -> float:
    t = time.perf_counter()
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.shutdown()
    srv.server_close()
    thread.join(2)
    return time.perf_counter() - t


def _socklab_start_stop() -> float:
    t = time.perf_counter()
    srv = echo_server(name="bench-start-stop")
    srv.stop()
    return time.perf_counter() - t


def _round_trips(address, n: int) -> list[float]:
    times = []
    with socket.create_connection(address, timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(n):
            t = time.perf_counter()
            s.sendall(MESSAGE)
            got = 0
            while got < len(MESSAGE):
                got += len(s.recv(65536))
            times.append(time.perf_counter() - t)
    return times


def _connections(address, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        with socket.create_connection(address, timeout=5) as s:
            s.sendall(MESSAGE)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        times.append(time.perf_counter() - t)
    return times


def _row(name, value, unit, baseline, goal) -> dict:
    return {"name": name, "value": value, "unit": unit, "baseline": baseline,
            "ratio": value / baseline if baseline else None, "goal": goal}


def run(rounds: int = 4) -> list[dict]:
    ours_ss, base_ss = [], []
    for _ in range(rounds):
        ours_ss += [_socklab_start_stop() for _ in range(15)]
        base_ss += [_socketserver_start_stop() for _ in range(2)]
    ours_rt, base_rt, ours_cx, base_cx = [], [], [], []
    ours, bare = echo_server(name="bench-echo"), _BareEcho()
    try:
        for _ in range(rounds * 8):  # small alternating blocks: load spikes hit both sides alike
            ours_rt += _round_trips(ours.address, 60)
            base_rt += _round_trips(bare.address, 60)
            ours_cx += _connections(ours.address, 8)
            base_cx += _connections(bare.address, 8)
    finally:
        ours.stop()
        bare.stop()
    med = statistics.median
    return [
        _row("server start+stop (vs socketserver)", med(ours_ss) * 1e3, "ms", med(base_ss) * 1e3, "<= 20 ms"),
        _row("echo round trip, open connection (vs bare socket)", med(ours_rt) * 1e6, "us", med(base_rt) * 1e6,
             "ratio <= 1.5"),
        _row("echo whole connection (vs bare socket)", med(ours_cx) * 1e6, "us", med(base_cx) * 1e6, "ratio <= 1.5"),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)

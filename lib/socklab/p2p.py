"""A tiny peer-to-peer chunk exchange on loopback (exercise 8): reference peers and the checker.

The protocol (one request per TCP connection, like HTTP/1.0):

* ``HAVE\\n``    → the peer answers the chunk numbers it holds, e.g. ``b"0,2,5\\n"`` (``b"\\n"`` if none), and closes.
* ``GET 3\\n``   → the peer sends the bytes of chunk 3 and closes (closes without data if it lacks it).

Every peer is both a server (answers HAVE/GET) and a client (asks the others), which is what makes
the model *peer to peer*.

>>> data = make_file(4, 100)
>>> a = peer(dict(enumerate(split(data, 4))), 4, name="doc-peer")
>>> sorted(ask_have(a.address)), fetch_chunk(a.address, 2) == split(data, 4)[2]
([0, 1, 2, 3], True)
>>> a.stop()
"""
from __future__ import annotations

import dataclasses
import hashlib
import socket
import threading
import time

from socklab import servers
from socklab.packets.guard import ensure_loopback

__all__ = ["make_file", "split", "ask_have", "fetch_chunk", "peer", "Peer", "exchange", "ExchangeResult"]


def make_file(n_chunks: int, chunk_size: int, *, seed: str = "socklab") -> bytes:
    """Deterministic pseudo-random file contents of ``n_chunks * chunk_size`` bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n_chunks * chunk_size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[: n_chunks * chunk_size])


def split(data: bytes, n_chunks: int) -> list[bytes]:
    """`data` cut into `n_chunks` equal pieces (the last one takes the remainder)."""
    size = len(data) // n_chunks
    return [data[i * size: (i + 1) * size if i < n_chunks - 1 else len(data)] for i in range(n_chunks)]


def _request(address, line: bytes, timeout: float) -> bytes:
    host, port = address
    ensure_loopback(host)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(line)
        sock.shutdown(socket.SHUT_WR)
        parts = []
        while data := sock.recv(65536):
            parts.append(data)
    return b"".join(parts)


def ask_have(address, *, timeout: float = 2.0) -> set[int]:
    """Ask a peer which chunk numbers it holds."""
    text = _request(address, b"HAVE\n", timeout).decode("ascii", "replace").strip()
    return {int(x) for x in text.split(",") if x.strip().isdigit()}


def fetch_chunk(address, index: int, *, timeout: float = 2.0) -> bytes | None:
    """Download one chunk from a peer; None if it does not have it."""
    data = _request(address, f"GET {index}\n".encode("ascii"), timeout)
    return data or None


def _read_line(conn: socket.socket, limit: int = 64) -> bytes:
    buf = b""
    while b"\n" not in buf and len(buf) < limit:
        data = conn.recv(limit)
        if not data:
            break
        buf += data
    return buf.split(b"\n", 1)[0].strip()


class Peer:
    """A reference peer: serves its chunks and, once started, fetches the ones it lacks."""

    def __init__(self, chunks: dict[int, bytes], n_chunks: int, *, name: str | None = None) -> None:
        self.n_chunks = n_chunks
        self.chunks = dict(chunks)
        self.lock = threading.Lock()
        self.got_from: dict[int, tuple] = {}      # chunk -> address it was downloaded from
        self.complete = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []
        if len(self.chunks) == n_chunks:
            self.complete.set()
        self.server = servers.serve_tcp(self._handle, name=name, timeout=2.0)

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def _handle(self, conn: socket.socket, addr: tuple) -> None:
        line = _read_line(conn)
        with self.lock:
            have = sorted(self.chunks)
            if line == b"HAVE":
                conn.sendall((",".join(map(str, have)) + "\n").encode("ascii"))
            elif line.startswith(b"GET ") and line[4:].strip().isdigit():
                data = self.chunks.get(int(line[4:]))
                if data:
                    conn.sendall(data)

    def start_fetching(self, others: list[tuple[str, int]], *, deadline: float) -> None:
        """Keep asking `others` for missing chunks until complete, stopped, or past `deadline`."""
        self._thread = threading.Thread(target=self._fetch_loop, args=(list(others), deadline), daemon=True,
                                        name="socklab-p2p-fetch")
        self._thread.start()

    def _fetch_loop(self, others: list[tuple[str, int]], deadline: float) -> None:
        while not self.complete.is_set() and not self._stop.is_set() and time.monotonic() < deadline:
            for other in others:
                missing = set(range(self.n_chunks)) - set(self.chunks)
                if not missing or self._stop.is_set():
                    break
                try:
                    offered = ask_have(other, timeout=1.0) & missing
                    for index in sorted(offered):
                        data = fetch_chunk(other, index, timeout=1.0)
                        if data:
                            with self.lock:
                                self.chunks[index] = data
                                self.got_from[index] = tuple(other)
                except (OSError, ValueError) as exc:
                    self.errors.append(f"{other}: {type(exc).__name__}: {exc}")
            if len(self.chunks) == self.n_chunks:
                self.complete.set()
            else:
                self._stop.wait(0.02)  # back off briefly before asking again (bounded by deadline)

    def file(self) -> bytes:
        with self.lock:
            return b"".join(self.chunks.get(i, b"") for i in range(self.n_chunks))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        self.server.stop()


def peer(chunks: dict[int, bytes], n_chunks: int, *, name: str | None = None) -> Peer:
    """Start a reference peer on 127.0.0.1 holding `chunks` (chunk number → bytes)."""
    return Peer(chunks, n_chunks, name=name)


@dataclasses.dataclass
class ExchangeResult:
    """What happened in one exchange between the student's peer and the reference peers."""

    file: bytes                        # the whole file everyone should end up with
    student_file: object               # what the student's function returned
    reference_complete: list[bool]     # did each reference peer get the whole file?
    served_by_student: int             # chunks the reference peers downloaded from the student
    elapsed: float
    errors: list[str]

    @property
    def student_ok(self) -> bool:
        # Exactly bytes: an object whose __eq__ says yes to anything is not the file.
        return type(self.student_file) is bytes and self.student_file == self.file


def exchange(run_peer, *, student: list[int], references: list[list[int]], chunk_size: int = 1000,
             timeout: float = 5.0, idle: tuple[int, ...] = ()) -> ExchangeResult:
    """Run the student's ``run_peer(listener, chunks, n_chunks, peers)`` against reference peers.

    `student` lists the chunk numbers the student's peer starts with, `references` those of each
    reference peer. Reference peers also download what they lack, from the student too, except the
    ones whose index is in `idle`: they only answer (an empty idle peer answers HAVE with b"\\n").
    """
    from socklab.testing import call_with_timeout

    n_chunks = len({*student, *(i for ref in references for i in ref)})
    if set(range(n_chunks)) != {*student, *(i for ref in references for i in ref)}:
        raise ValueError("chunks must be numbered 0..n-1 and every chunk must be held by someone")
    data = make_file(n_chunks, chunk_size)
    pieces = split(data, n_chunks)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    refs: list[Peer] = []
    start = time.monotonic()
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        me = listener.getsockname()[:2]
        refs = [peer({i: pieces[i] for i in held}, n_chunks, name=f"p2p-ref-{k}") for k, held in enumerate(references)]
        deadline = start + timeout
        for k, ref in enumerate(refs):
            if k in idle:
                continue
            ref.start_fetching([me] + [r.address for j, r in enumerate(refs) if j != k], deadline=deadline)
        got = call_with_timeout(run_peer, listener, {i: pieces[i] for i in student}, n_chunks,
                                [r.address for r in refs], timeout=timeout)
        for k, ref in enumerate(refs):
            if k not in idle:
                ref.complete.wait(max(0.0, deadline - time.monotonic()))
        served = sum(1 for r in refs for src in r.got_from.values() if src == me)
        return ExchangeResult(file=data, student_file=got, reference_complete=[r.complete.is_set() for r in refs],
                              served_by_student=served, elapsed=time.monotonic() - start,
                              errors=[e for r in refs for e in r.errors])
    finally:
        for ref in refs:
            ref.stop()
        try:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the student's accept(); close() alone does not on Linux
        except OSError:
            pass
        listener.close()

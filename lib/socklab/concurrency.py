"""How is a server serving its clients? Ask the kernel: threads, child processes, TCP connections.

Everything here reads ``/proc`` (Linux), so it sees what the operating system sees, whatever
style the server is written in:

- :class:`ServerWatch` counts the threads a server started and the child processes it forked
  (and which of them are zombies: finished but not reaped with ``wait()``);
- :func:`server_holds` / :func:`unread_bytes` look at the server's end of one connection in the
  kernel's socket table: has the server ``accept()``-ed it, closed it, read what we sent?
- :func:`full_backlog` gives an address where ``connect()`` can never finish (its listener's
  accept queue is full), and :func:`refusing_address` one where it is refused at once.

>>> watch = ServerWatch()
>>> watch.threads(), watch.children()
(0, {})
>>> import threading
>>> done = threading.Event()
>>> t = threading.Thread(target=done.wait); t.start()
>>> watch.threads()
1
>>> done.set(); t.join()
"""
from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["ServerWatch", "TcpEntry", "tcp_table", "server_holds", "unread_bytes", "accept_queue",
           "wait_until", "full_backlog", "refusing_address", "proc_pid", "StallRun", "stalled_round_trips"]

# /proc/net/tcp state codes (include/net/tcp_states.h)
STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
          7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}


#: Set by the grading verifier: the pid (as our /proc sees it) of the student's process, where a
#: ServerWatch made in a test cell must look, since the student's server runs there, not here.
remote_pid: Callable[[], int | None] | None = None


def proc_pid() -> int:
    """This process's id as /proc sees it (inside a PID namespace it differs from what the host sees)."""
    return int(os.readlink("/proc/self"))


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.005) -> bool:
    """Poll `condition()` until it is true or `timeout` s pass (bounded polling, never a fixed sleep).

    >>> wait_until(lambda: True, 1.0)
    True
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class ServerWatch:
    """Threads and child processes started since this watch was made, in process `pid` (default: us,
    or under the grading verifier the student's process).

    Make it *before* the server starts. In our own process the threads of socklab's reference
    clients are not counted (their names start with ``socklab-``), the student's thread is.
    """

    def __init__(self, pid: int | None = None) -> None:
        if pid is None and remote_pid is not None:
            pid = remote_pid()
        self.pid = proc_pid() if pid is None else pid
        self._ours = pid is None or pid == proc_pid()
        self._tids = self._task_ids()
        self._kids = set(self._child_states())
        self.samples: list[dict] = []

    def _task_ids(self) -> set[int]:
        try:
            return {int(t) for t in os.listdir(f"/proc/{self.pid}/task")}
        except FileNotFoundError:
            return set()

    def thread_ids(self) -> set[int]:
        """Kernel ids of the threads started since the watch began (socklab's own helpers excluded)."""
        new = {t for t in self._task_ids() - self._tids
               if _state(t, f"/proc/{self.pid}/task") not in ("Z", "X", None)}  # not one that is exiting
        if self._ours:
            helpers = {t.native_id for t in threading.enumerate()
                       if t.name.startswith("socklab-") and not t.name.startswith("socklab-student")}
            new -= helpers
        return new

    def threads(self) -> int:
        """How many threads started since the watch began are running now."""
        return len(self.thread_ids())

    def _child_states(self) -> dict[int, str]:
        kids: set[int] = set()
        try:
            tasks = os.listdir(f"/proc/{self.pid}/task")
        except FileNotFoundError:
            return {}
        for tid in tasks:
            try:
                with open(f"/proc/{self.pid}/task/{tid}/children") as f:
                    kids.update(int(p) for p in f.read().split())
            except (FileNotFoundError, ProcessLookupError):
                continue
        return {pid: state for pid in kids if (state := _state(pid)) is not None}

    def children(self) -> dict[int, str]:
        """Child processes forked since the watch began: ``{pid: state}``, state ``'Z'`` = zombie."""
        return {pid: s for pid, s in self._child_states().items() if pid not in self._kids}

    def zombies(self) -> list[int]:
        """Children that have finished but were never reaped (``os.wait*()``)."""
        return sorted(pid for pid, state in self.children().items() if state == "Z")

    def sample(self, label: str = "") -> dict:
        """Record (and return) threads, children and zombies right now."""
        kids = self.children()
        snap = {"label": label, "threads": self.threads(), "children": len(kids),
                "zombies": sum(1 for s in kids.values() if s == "Z")}
        self.samples.append(snap)
        return snap

    def reap_leftovers(self) -> int:
        """Reap zombies a wrong answer left in *our* process (so later checks start clean)."""
        reaped = 0
        if self._ours:
            for pid in self.zombies():
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                    reaped += 1
        return reaped


def _state(pid: int, folder: str = "/proc") -> str | None:
    try:
        with open(f"{folder}/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


@dataclass(frozen=True)
class TcpEntry:
    """One row of the kernel's TCP socket table. ``inode`` is 0 when no process holds the socket."""
    local: tuple[str, int]
    remote: tuple[str, int]
    state: str
    tx_queue: int
    rx_queue: int  # LISTEN: connections waiting for accept(); otherwise bytes not yet read
    inode: int


def _addr(text: str) -> tuple[str, int]:
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words), int(port, 16)


def tcp_table() -> list[TcpEntry]:
    """Every TCP socket of this network namespace (IPv4 and IPv6), from /proc/net/tcp{,6}."""
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            tx, rx = (int(x, 16) for x in f[4].split(":"))
            rows.append(TcpEntry(_addr(f[1]), _addr(f[2]), STATES.get(int(f[3], 16), f[3]), tx, rx, int(f[9])))
    return rows


def _server_end(server: tuple, client: tuple) -> list[TcpEntry]:
    return [e for e in tcp_table() if e.local == tuple(server[:2]) and e.remote == tuple(client[:2])]


def server_holds(server: tuple, client: tuple) -> bool:
    """Has the server accept()-ed the connection from `client` and not closed it yet?

    Before ``accept()`` the kernel queues the connection with no owner (inode 0); after the
    server's ``close()`` its end is gone or ownerless too.
    """
    return any(e.inode and e.state in ("ESTABLISHED", "CLOSE_WAIT") for e in _server_end(server, client))


def unread_bytes(server: tuple, client: tuple) -> int | None:
    """Bytes the client sent that the server has not recv()-ed yet (None: no such connection)."""
    ends = [e for e in _server_end(server, client) if e.state in ("ESTABLISHED", "CLOSE_WAIT")]
    return ends[0].rx_queue if ends else None


def accept_queue(address: tuple) -> int | None:
    """Connections waiting in the accept queue of the listener at `address` (None: no listener)."""
    for e in tcp_table():
        if e.state == "LISTEN" and e.local == tuple(address[:2]):
            return e.rx_queue
    return None


@contextlib.contextmanager
def full_backlog(host: str = "127.0.0.1") -> Iterator[tuple[str, int]]:
    """An address whose listener never accepts and whose accept queue is full.

    The kernel drops every new SYN, so ``connect()`` there stays in SYN_SENT until the caller's
    timeout: a deterministic "server too busy to answer", no real network needed.

    >>> with full_backlog() as address:
    ...     try:
    ...         socket.create_connection(address, timeout=0.1)
    ...     except TimeoutError:
    ...         print("timed out")
    timed out
    """
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    fillers: list[socket.socket] = []
    try:
        listener.bind((host, 0))
        listener.listen(0)  # Linux queues backlog + 1 connection: one filler makes it full
        address = listener.getsockname()[:2]
        while (queued := accept_queue(address)) is not None and queued < 1 and len(fillers) < 4:
            fillers.append(socket.create_connection(address, timeout=2))
            wait_until(lambda: (accept_queue(address) or 0) >= len(fillers), 1.0)
        yield address
    finally:
        for s in fillers:
            s.close()
        listener.close()


@contextlib.contextmanager
def refusing_address(host: str = "127.0.0.1") -> Iterator[tuple[str, int]]:
    """An address that refuses connections (RST at once): bound by us, never listening.

    Holding the port for the whole block means no other program can start listening there.

    >>> with refusing_address() as address:
    ...     try:
    ...         socket.create_connection(address, timeout=1)
    ...     except ConnectionRefusedError:
    ...         print("refused")
    refused
    """
    holder = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        holder.bind((host, 0))
        yield holder.getsockname()[:2]
    finally:
        holder.close()


@dataclass
class StallRun:
    """What :func:`stalled_round_trips` saw. Times are seconds since the stalled client connected."""
    stall: str
    payload: bytes
    reply: bytes = b""
    error: str | None = None
    times: dict = field(default_factory=dict)   # connect, stalled, resume, done
    others: list = field(default_factory=list)  # socklab.clients.ClientResult, one per other client
    others_start: float = 0.0
    still_connected: bool | None = None         # when the others were done: connected and silent?

    @property
    def ok(self) -> bool:
        return self.error is None and self.still_connected is True and all(r.ok for r in self.others)

    def lanes(self) -> list[dict]:
        """One row per client for a timeline: label, start, end, first reply, stalled interval."""
        rows = [{"label": f"stalled ({self.stall})", "start": self.times.get("connect", 0.0),
                 "end": self.times.get("done"), "first": self.times.get("stalled"),
                 "stalled": (self.times.get("stalled"), self.times.get("resume")), "ok": self.error is None}]
        for i, r in enumerate(self.others):
            at = self.others_start
            rows.append({"label": f"client {i + 1}", "start": at + (r.connect_time or 0.0),
                         "end": at + r.elapsed if r.elapsed is not None else None,
                         "first": at + r.first_byte_time if r.first_byte_time is not None else None,
                         "stalled": None, "ok": r.ok})
        return rows


_CLOSED = ("다른 클라이언트를 처리하는 동안 서버가 멈춘 클라이언트의 연결을 닫았습니다 / "
           "the server closed the stalled client's connection while serving the others")


def _closed(sock: socket.socket) -> bool:
    """Has the peer closed (or reset) this connection? Looks without reading or waiting."""
    timeout = sock.gettimeout()
    sock.setblocking(False)  # with a timeout set, Python would first wait for data
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)


def _recv_exactly(sock: socket.socket, n: int, deadline: float) -> bytes:
    got = b""
    while len(got) < n and (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(n - len(got))
        except (TimeoutError, ConnectionResetError):
            break
        if not data:
            break
        got += data
    return got


def stalled_round_trips(address, payloads, *, stall: str = "half", payload: bytes = b"a stalled client's message",
                        timeout: float = 2.0, hold: float = 0.0,
                        on_middle: Callable[[], None] | None = None) -> StallRun:
    """One client connects and stalls; the others must be served meanwhile.

    ``stall="half"``: it sends the first half of `payload`, waits for that half to come back (so
    the server is surely serving it), then says nothing. ``stall="silent"``: it sends nothing,
    and we wait until the kernel shows the server accept()-ed it. While it stalls, the clients
    with `payloads` run :func:`socklab.clients.concurrent_round_trips` (``interleave=True``).
    When they are done (and at least `hold` s after it began to stall, so a server that drops
    quiet connections has had time to show it) we check that the stalled client is still
    connected and has received nothing; then it sends the rest and must get its whole echo.
    Errors are recorded in the result, never raised.
    """
    from socklab import clients

    if stall not in ("half", "silent"):
        raise ValueError("stall must be 'half' (sends half a message) or 'silent' (sends nothing)")
    run = StallRun(stall, bytes(payload))
    t0 = time.monotonic()
    mark = lambda key: run.times.__setitem__(key, time.monotonic() - t0)  # noqa: E731
    addr = clients._address(address)
    try:
        sock = clients._connect(addr, timeout)
    except clients.ClientError as exc:
        run.error = str(exc)
        return run
    with sock:
        mark("connect")
        me = sock.getsockname()[:2]
        cut = len(run.payload) // 2 if stall == "half" else 0
        deadline = time.monotonic() + timeout
        if cut:
            sock.sendall(run.payload[:cut])
            run.reply = _recv_exactly(sock, cut, deadline)
            if run.reply != run.payload[:cut]:
                run.error = (f"첫 반쪽을 보냈지만 {timeout:g}초 안에 그대로 돌려받지 못했습니다 (받음 {run.reply!r}) / "
                             f"sent the first half but did not get it echoed within {timeout:g} s (got {run.reply!r})")
                return run
        elif not wait_until(lambda: server_holds(addr, me) or _closed(sock), timeout) or _closed(sock):
            run.still_connected = False if _closed(sock) else None
            run.error = (_CLOSED if run.still_connected is False else
                         "서버가 아무것도 보내지 않는 클라이언트를 accept()하지 않았습니다 / "
                         "the server never accept()-ed the client that sends nothing")
            return run
        mark("stalled")
        run.others_start = time.monotonic() - t0
        run.others = clients.concurrent_round_trips(addr, list(payloads), timeout=timeout, interleave=True,
                                                    on_middle=on_middle)
        left = hold - (time.monotonic() - t0 - run.times["stalled"])
        if left > 0:
            select.select([sock], [], [], left)  # returns early if the server closes or sends
        sock.setblocking(False)
        try:
            early = sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            early = None  # nothing to read and not closed: still connected and waiting
        except OSError:
            early = b""
        run.still_connected = early is None and server_holds(addr, me)
        if not run.still_connected:
            run.error = (_CLOSED if not early else f"멈춘 클라이언트가 뜻밖의 바이트를 받았습니다 / the stalled client got "
                                           f"unexpected bytes: {early!r}")
            return run
        mark("resume")
        sock.settimeout(timeout)
        try:
            sock.sendall(run.payload[cut:])
            sock.shutdown(socket.SHUT_WR)
            run.reply += clients._read_to_close(sock, addr, time.monotonic() + timeout, timeout)
        except (clients.ClientError, OSError) as exc:
            run.error = f"{type(exc).__name__}: {exc}"
        mark("done")
    return run

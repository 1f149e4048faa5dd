"""Reference-client scenarios that check *how* a server serves many clients (chapter 6).

Use them with :func:`socklab.testing.check_server`, with a :class:`socklab.concurrency.ServerWatch`
made before the call so the scenarios can see the server's threads and child processes::

    watch = ServerWatch()
    check_server(serve_select, clients=[one_thread(watch), stalled()], timeout=2)
    expect_no_children(watch)

Each check is decided by the wire or by the kernel (``/proc``), never by looking inside the
student's objects, and never by timing luck: clients meet at barriers, and "the server has read
this" / "the server accepted that" is read from the kernel's socket table.
"""
from __future__ import annotations

import select
import socket
import time
from collections.abc import Sequence

from socklab.concurrency import ServerWatch, stalled_round_trips, tcp_table, wait_until
from socklab.testing.limits import Run
from socklab.testing.checks import Scenario
from socklab.testing.messages import ExerciseFailed

__all__ = ["at_once", "stalled", "one_thread", "forked", "reaped", "bounded_pool", "expect_no_children",
           "expect_threads_ended", "attempt", "syn_sent_to"]

_PAYLOADS = (b"first client", b"second client", b"third client")


def _interleaved(address, timeout, payloads, on_middle):
    from socklab import clients
    results = clients.concurrent_round_trips(address, list(payloads), timeout=timeout, interleave=True,
                                             on_middle=on_middle)
    errors = [r.error for r in results if r.error]
    if errors:
        raise ExerciseFailed("여러 클라이언트를 동시에 처리하지 못했습니다",
                             "the server did not serve several clients at the same time", detail=errors[0],
                             hint_ko="한 클라이언트를 다 처리할 때까지 다음 accept()를 미루지 마세요",
                             hint_en="do not make the next client wait until one client is finished")
    return [(r.payload, r.reply) for r in results]


def at_once(payloads: Sequence[bytes] = _PAYLOADS) -> Scenario:
    """Clients at once, interleaved (each waits mid-message for all the others), with a hint that
    names no particular model (threads, a pool, processes or selectors all pass)."""
    return Scenario(f"{len(payloads)} clients at once", len(payloads),
                    lambda address, timeout: _interleaved(address, timeout, payloads, None), crash_first=False)


def stalled(payloads: Sequence[bytes] = (b"alpha", b"bravo"), *, stall: str = "half", hold: float = 0.2) -> Scenario:
    """A client connects and stalls (``"half"``: half a message, ``"silent"``: nothing) for at least
    `hold` s while the others (`payloads`) must be served; then it finishes and must get its whole echo."""
    payloads = [bytes(p) for p in payloads]

    def action(address, timeout):
        run = stalled_round_trips(address, payloads, stall=stall, timeout=timeout, hold=hold)
        late = [r.error for r in run.others if r.error]
        if late:
            raise ExerciseFailed("멈춘 클라이언트 하나가 다른 클라이언트들을 막았습니다",
                                 "one stalled client held up the others", detail=late[0],
                                 hint_ko="한 연결의 recv()에서 기다리는 동안 다른 연결은 멈춥니다: 읽을 준비가 된 "
                                         "연결만 읽으세요 (selectors)",
                                 hint_en="while you wait in one connection's recv() the others stop: read only "
                                         "connections that are ready (selectors)")
        if run.error:
            raise ExerciseFailed("멈춘 클라이언트를 제대로 처리하지 못했습니다",
                                 "the stalled client was not served properly", detail=run.error,
                                 hint_ko="조용한 연결도 닫지 말고 기다리세요: recv()가 b''를 돌려줄 때만 닫습니다",
                                 hint_en="keep quiet connections open: close only when recv() returns b''")
        return [(run.payload, run.reply)] + [(r.payload, r.reply) for r in run.others]
    return Scenario(f"a stalled client ({stall}) and {len(payloads)} others", len(payloads) + 1, action,
                    crash_first=False)


def one_thread(watch: ServerWatch, payloads: Sequence[bytes] = _PAYLOADS) -> Scenario:
    """Clients at once (interleaved); while all are half-way the server must run on one thread
    and have no child process."""
    def action(address, timeout):
        seen = []
        pairs = _interleaved(address, timeout, payloads, lambda: seen.append(watch.sample("middle")))
        snap = seen[0] if seen else watch.sample("after")
        if snap["threads"] > 1:
            raise ExerciseFailed(f"서버가 스레드 {snap['threads']}개로 처리했습니다 (하나여야 합니다)",
                                 f"the server used {snap['threads']} threads (it must use one)",
                                 hint_ko="스레드를 만들지 말고 selectors로 한 스레드에서 모든 연결을 다루세요",
                                 hint_en="start no thread: handle every connection in one thread with selectors")
        if snap["children"]:
            raise ExerciseFailed(f"서버가 자식 프로세스 {snap['children']}개를 만들었습니다 (없어야 합니다)",
                                 f"the server forked {snap['children']} child processes (it must fork none)",
                                 hint_ko="fork() 없이 한 프로세스, 한 스레드에서 selectors로 처리하세요",
                                 hint_en="no fork(): one process, one thread, with selectors")
        return pairs
    return Scenario(f"{len(payloads)} clients at once, on one thread", len(payloads), action, crash_first=False)


def forked(watch: ServerWatch, payloads: Sequence[bytes] = _PAYLOADS) -> Scenario:
    """Clients at once (interleaved); while all are half-way each must have its own child process."""
    def action(address, timeout):
        seen = []
        pairs = _interleaved(address, timeout, payloads, lambda: seen.append(watch.children()))
        alive = [p for p, state in (seen[0] if seen else {}).items() if state != "Z"]
        if len(alive) < len(payloads):
            raise ExerciseFailed(f"연결 {len(payloads)}개를 처리하는 동안 살아 있는 자식 프로세스가 {len(alive)}개뿐입니다",
                                 f"while serving {len(payloads)} connections only {len(alive)} child processes "
                                 "were alive", hint_ko="accept()한 연결마다 os.fork()로 자식 프로세스를 만들어 처리하세요",
                                 hint_en="fork a child process (os.fork()) for each accepted connection")
        return pairs
    return Scenario(f"{len(payloads)} clients at once, a process each", len(payloads), action, crash_first=False)


def reaped(watch: ServerWatch, n: int = 3, *, grace: float = 1.0) -> Scenario:
    """`n` clients one after another; after each, its child must be reaped within `grace` s while
    the server waits for the next one (no zombies)."""
    def action(address, timeout):
        from socklab import clients
        pairs = []
        for i in range(n):
            data = b"client %d of %d" % (i + 1, n)
            pairs.append((data, clients.round_trip(address, data, timeout=timeout)))
            kids = set(watch.children())
            if not wait_until(lambda: not kids & set(watch.children()), grace):
                left = {p: s for p, s in watch.children().items() if p in kids}
                zombies = [p for p, s in left.items() if s == "Z"]
                if zombies:
                    raise ExerciseFailed(f"클라이언트 {i + 1}이(가) 끝난 뒤 {grace:g}초가 지나도 좀비 프로세스 "
                                         f"{len(zombies)}개가 남아 있습니다",
                                         f"{len(zombies)} zombie process(es) still there {grace:g} s after client "
                                         f"{i + 1} finished", detail=f"zombie pids: {zombies}",
                                         hint_ko="끝난 자식을 바로 거두세요: accept()를 기다리는 동안에도 "
                                                 "os.waitpid(-1, os.WNOHANG)를 반복해서 호출하세요",
                                         hint_en="reap finished children promptly: keep calling "
                                                 "os.waitpid(-1, os.WNOHANG) while you wait for accept()")
                raise ExerciseFailed("클라이언트가 끝났는데 그 자식 프로세스가 계속 실행 중입니다",
                                     "a child process is still running after its client finished",
                                     hint_ko="자식은 연결을 처리한 뒤 os._exit(0)으로 끝나야 합니다",
                                     hint_en="the child must end with os._exit(0) after serving its connection")
        return pairs
    return Scenario(f"{n} clients one after another, no zombies", n, action, crash_first=False)


def bounded_pool(pool_size: int, *, hold: float = 0.3) -> Scenario:
    """`pool_size` clients keep every worker busy (half a message each); one more client must then
    *wait* (no reply within `hold` s) until a worker is free, and is served after that."""
    from socklab.concurrency import _recv_exactly

    def action(address, timeout):
        busy, pairs = [], []
        try:
            for i in range(pool_size):
                data = b"busy worker %d" % i
                sock = socket.create_connection(address, timeout=timeout)
                busy.append((sock, data))
                sock.sendall(data[:5])
                if _recv_exactly(sock, 5, time.monotonic() + timeout) != data[:5]:
                    raise ExerciseFailed(f"풀 크기가 {pool_size}인데 클라이언트 {i + 1}개를 동시에 처리하지 못했습니다",
                                         f"with pool_size={pool_size}, {i + 1} clients were not served at once",
                                         hint_ko="작업 스레드 pool_size개가 연결을 동시에 처리해야 합니다",
                                         hint_en="pool_size worker threads must serve connections at the same time")
            extra = socket.create_connection(address, timeout=timeout)
            busy.append((extra, b"one too many"))
            extra.sendall(b"one too many")
            extra.shutdown(socket.SHUT_WR)
            readable, _, _ = select.select([extra], [], [], hold)
            if readable:
                raise ExerciseFailed(f"작업자 {pool_size}개가 모두 바쁜데 {pool_size + 1}번째 클라이언트를 처리했습니다",
                                     f"all {pool_size} workers were busy, yet client {pool_size + 1} was served",
                                     hint_ko="연결마다 새 스레드를 만들지 말고, 크기가 pool_size인 스레드 풀에 맡기세요 "
                                             "(ThreadPoolExecutor(max_workers=pool_size))",
                                     hint_en="do not start a thread per connection: hand connections to a pool of "
                                             "pool_size threads (ThreadPoolExecutor(max_workers=pool_size))")
            for sock, data in busy[:-1]:
                sock.sendall(data[5:])
                sock.shutdown(socket.SHUT_WR)
                pairs.append((data, data[:5] + _rest(sock, address, timeout)))
            pairs.append((b"one too many", _rest(extra, address, timeout)))
        finally:
            for sock, _ in busy:
                sock.close()
        return pairs
    return Scenario(f"pool of {pool_size} kept busy, one client more", pool_size + 1, action, crash_first=False)


def _rest(sock: socket.socket, address, timeout: float) -> bytes:
    from socklab import clients
    return clients._read_to_close(sock, tuple(address), time.monotonic() + timeout, timeout)


def expect_no_children(watch: ServerWatch, *, grace: float = 1.0) -> None:
    """After the server returned: every child it forked has ended and was reaped (no zombies)."""
    try:
        if not wait_until(lambda: not watch.children(), grace):
            kids = watch.children()
            zombies = [p for p, s in kids.items() if s == "Z"]
            raise ExerciseFailed(f"서버가 끝났는데 자식 프로세스 {len(kids)}개가 남았습니다 (좀비 {len(zombies)}개)",
                                 f"the server returned leaving {len(kids)} child processes ({len(zombies)} zombies)",
                                 hint_ko="return 하기 전에 모든 자식을 os.waitpid()로 거두세요",
                                 hint_en="before returning, reap every child with os.waitpid()")
    finally:
        watch.reap_leftovers()


def expect_threads_ended(watch: ServerWatch, *, grace: float = 1.0) -> None:
    """After the server returned: no thread it started is still running."""
    if not wait_until(lambda: watch.threads() == 0, grace):
        n = watch.threads()
        raise ExerciseFailed(f"서버가 끝났는데 스레드 {n}개가 아직 실행 중입니다",
                             f"the server returned but {n} of its threads are still running",
                             hint_ko="return 하기 전에 스레드 풀을 닫으세요 (pool.shutdown(wait=True) 또는 with 문)",
                             hint_en="shut the pool down before returning (pool.shutdown(wait=True) or a with block)")


def syn_sent_to(address) -> int:
    """How many sockets of this machine are still trying to connect (SYN_SENT) to `address`."""
    return sum(1 for e in tcp_table() if e.remote == tuple(address[:2]) and e.state == "SYN_SENT" and e.inode)


def attempt(fn, *args, timeout: float = 2.0, inspect=None) -> dict:
    """Call ``fn(*args)`` with a time limit and report what happened instead of raising.

    Returns ``{"value": ..., "error": exception or None, "seconds": float, "seen": inspect()}``;
    `inspect` runs right after `fn` ended, before the sockets it left open are cleaned up (so
    a socket it forgot to close can still be seen in the kernel's table). A call that does not
    finish in `timeout` s fails with TimeLimit.
    """
    run = Run(fn, args).start()
    t0 = time.monotonic()
    if not run.done.wait(timeout):
        failure = run.timed_out(timeout)
        run.stop()
        raise failure
    seconds = time.monotonic() - t0
    try:
        seen = inspect() if inspect is not None else None
    finally:
        run.stop(keep=run.value)
    if type(run.error) is NotImplementedError:
        raise run.failure()
    return {"value": run.value, "error": run.error, "seconds": seconds, "seen": seen}

"""Check a student's server with reference clients, and a student's client with a recording server.

Grade cells stay short::

    check_server(serve, clients=[round_trip(b"hello"), multi_chunk(), silent(), concurrent([b"a", b"b"])])
    request, value = check_client(get_page, reply=b"HTTP/1.0 200 OK\\r\\n\\r\\nhi", read_until=b"\\r\\n\\r\\n")
"""
from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from socklab.testing.limits import Run
from socklab.testing.messages import ExerciseFailed, TimeLimit, _short, describe_exception

__all__ = ["Scenario", "round_trip", "multi_chunk", "empty", "silent", "resetting", "concurrent", "check_server",
           "check_client", "ECHO"]

#: ``expect=ECHO`` (the default): the reply must be exactly what the client sent.
ECHO = object()


@dataclass
class Scenario:
    """One reference-client exercise for a student server. Build them with the functions below, or
    give your own ``action(address, timeout) -> [(sent, reply), ...]`` and the number of connections."""
    label: str
    connections: int
    action: Callable[[tuple[str, int], float], list[tuple[bytes, bytes]]]  # -> [(sent, reply), ...]
    expect: Any = ECHO
    hint_ko: str | None = None
    hint_en: str | None = None
    crash_first: bool = True  # on failure, report the server's own exception if it crashed

    def verify(self, sent: bytes, reply: bytes) -> None:
        wanted = sent if self.expect is ECHO else self.expect
        ok = wanted(sent, reply) if callable(wanted) else reply == wanted
        if not ok:
            shown = "" if callable(wanted) else f"\n기대한 값 / expected: {_short.repr(wanted)}{_where_differs(reply, wanted)}"
            raise ExerciseFailed(f"클라이언트 '{self.label}'가 받은 응답이 틀렸습니다",
                                 f"client '{self.label}' got the wrong reply",
                                 detail=f"보낸 값 / sent:     {_short.repr(sent)}\n"
                                        f"받은 값 / got:      {_short.repr(reply)}{shown}",
                                 hint_ko=self.hint_ko, hint_en=self.hint_en)


def _where_differs(got: bytes, wanted: bytes) -> str:
    """For long payloads the shortened reprs look alike: say how many bytes, and where they differ."""
    if not (isinstance(got, bytes) and isinstance(wanted, bytes)) or max(len(got), len(wanted)) <= 40:
        return ""
    if len(got) != len(wanted):
        return f"\n길이 / length: {len(got)} 바이트 받음, {len(wanted)} 바이트 기대 / got {len(got)} bytes, expected {len(wanted)}"
    first = next(i for i, (a, b) in enumerate(zip(got, wanted)) if a != b)
    return f"\n처음 다른 위치 / first difference at byte {first}"


_RESET_HINT = ("클라이언트가 연결을 먼저 끊어도 서버는 살아 있어야 합니다: 연결 하나의 recv()/sendall()을 "
               "try/except OSError로 감싸세요",
               "a client may drop the connection first and the server must survive: wrap one connection's "
               "recv()/sendall() in try/except OSError")


def _clients():
    from socklab import clients  # imported on first use: keeps `import socklab.testing` fast
    return clients


def round_trip(data: bytes = b"hello, socklab!", *, expect: Any = ECHO) -> Scenario:
    """One client sends `data`, half-closes, and reads until the server closes."""
    def action(address, timeout):
        return [(data, _clients().round_trip(address, data, timeout=timeout))]
    return Scenario(f"round trip {_short.repr(data)}", 1, action, expect,
                    hint_ko="받은 것을 sendall()로 돌려보내고 연결을 close() 했나요?",
                    hint_en="did you sendall() what you received and then close() the connection?")


def pattern(size: int) -> bytes:
    """`size` bytes of recognisable text (so a wrong reply shows where it went wrong)."""
    unit = b"".join(b"socklab-%05d|" % i for i in range(size // 14 + 1))
    return unit[:size]


def multi_chunk(size: int = 48 * 1024, *, pieces: int = 4, pause: float = 0.03, expect: Any = ECHO) -> Scenario:
    """One client sends `size` bytes in `pieces` separate bursts: one recv() call cannot get it all."""
    data = pattern(size)
    step = -(-size // pieces)
    chunks = [data[i:i + step] for i in range(0, size, step)]

    def action(address, timeout):
        return [(data, _clients().round_trip(address, b"", chunks=chunks, pause_between_chunks=pause,
                                             timeout=timeout))]
    return Scenario(f"{size} bytes in {len(chunks)} pieces", 1, action, expect,
                    hint_ko="recv()를 한 번만 불렀나요? recv()가 b''를 돌려줄 때까지 반복해서 읽으세요",
                    hint_en="did you call recv() only once? keep reading until recv() returns b''")


def empty() -> Scenario:
    """A client that sends nothing and half-closes at once: it must get nothing and a clean close."""
    def action(address, timeout):
        return [(b"", _clients().round_trip(address, b"", timeout=timeout))]
    return Scenario("sends nothing, then half-closes", 1, action, b"",
                    hint_ko="recv()가 b''를 돌려주면 상대가 보낼 것이 없다는 뜻입니다: 루프를 끝내고 close() 하세요",
                    hint_en="recv() returning b'' means the peer has nothing more to send: end the loop and close()")


def silent(hold: float = 0.3) -> Scenario:
    """A client that connects, sends nothing for `hold` s and leaves: the server must send nothing
    and go on serving the next clients."""
    def action(address, timeout):
        return [(b"", _clients().silent_client(address, hold=hold, timeout=timeout))]
    return Scenario(f"silent for {hold:g} s", 1, action, b"",
                    hint_ko="아무것도 받지 못했다면 아무것도 보내지 마세요",
                    hint_en="send nothing back when you received nothing")


def resetting(data: bytes = b"bye") -> Scenario:
    """A client that sends `data`, then aborts the connection (RST) without reading the reply.
    The server must survive it (catch ConnectionResetError/BrokenPipeError) and serve the next client."""
    def action(address, timeout):
        _clients().early_close_client(address, data, timeout=timeout)
        return []
    return Scenario("resets the connection (RST)", 1, action,
                    hint_ko="상대가 연결을 끊으면 recv()/sendall()이 ConnectionResetError를 낼 수 있습니다: "
                            "except OSError로 그 연결만 닫고 계속하세요",
                    hint_en="when the peer resets, recv()/sendall() may raise ConnectionResetError: catch "
                            "OSError, close that connection and go on")


def concurrent(payloads: Sequence[bytes] = (b"first client", b"second client", b"third client"), *,
               interleave: bool = True, expect: Any = ECHO) -> Scenario:
    """Several clients at once. With ``interleave=True`` each waits, mid-message, until all others got a
    reply, which only a server that serves clients at the same time (threads, select) can pass."""
    payloads = [bytes(p) for p in payloads]

    def action(address, timeout):
        results = _clients().concurrent_round_trips(address, payloads, timeout=timeout, interleave=interleave)
        errors = [r.error for r in results if r.error]
        if errors:
            raise ExerciseFailed("여러 클라이언트를 동시에 처리하지 못했습니다",
                                 "the server did not serve several clients at the same time",
                                 detail=errors[0],
                                 hint_ko="accept()한 연결마다 스레드를 만들어 처리하나요? (threading.Thread)",
                                 hint_en="do you hand each accepted connection to its own thread (threading.Thread)?")
        return [(r.payload, r.reply) for r in results]
    return Scenario(f"{len(payloads)} clients at once", len(payloads), action, expect, crash_first=False)


#: Set by the grading verifier: accept() calls the student's process made on its copy of a socket.
remote_accepts: Callable[[socket.socket], int] | None = None


class _AcceptCount(list):
    """``[0]`` is the accept() calls on the listener: ours, plus the student's process's copy."""

    def __init__(self, listener: socket.socket) -> None:
        super().__init__([0])
        self.listener = listener

    def __getitem__(self, index):
        local = super().__getitem__(index)
        hook = remote_accepts
        return local + (hook(self.listener) if hook is not None else 0)


def _counting(listener: socket.socket) -> list[int]:
    """Count the student's accept() calls on our listener (same object, one extra counter)."""
    count = _AcceptCount(listener)

    class Listener(socket.socket):
        __slots__ = ()

        def accept(self):
            pair = super().accept()
            list.__setitem__(count, 0, list.__getitem__(count, 0) + 1)
            return pair

    Listener.__module__, Listener.__qualname__ = "socket", "socket"  # repr stays <socket.socket ...>
    listener.__class__ = Listener
    return count


def _explain(scenario: Scenario, exc: Exception, run: Run, accepted: int, needed: int) -> ExerciseFailed:
    if scenario.crash_first:
        run.done.wait(0.2)  # a server that just crashed explains the failure better than the client can
    # A concurrency check's clients give up and close, which can make a serial server fail with an
    # OSError afterwards: that is a consequence. Any other exception (NotImplementedError, TypeError)
    # is the cause.
    if run.error is not None and (scenario.crash_first or not isinstance(run.error, OSError)):
        failure = run.failure()
        failure.detail = (f"{failure.detail}\n" if failure.detail else "") + f"(client: {scenario.label})"
        if isinstance(run.error, (ConnectionResetError, BrokenPipeError)):
            failure.hint_ko, failure.hint_en = _RESET_HINT
        return failure
    if isinstance(exc, ExerciseFailed):
        return exc
    said = f"{getattr(exc, 'ko', '')}\n{getattr(exc, 'en', '')}".strip() or describe_exception(exc)
    if run.done.is_set() and accepted < needed:
        return ExerciseFailed(f"{run.name}()가 클라이언트 {needed}개 중 {accepted}개만 accept()하고 끝났습니다",
                              f"{run.name}() returned after accepting {accepted} of {needed} clients",
                              detail=f"client '{scenario.label}': {said}",
                              hint_ko="n_clients 만큼 accept() 하도록 반복하세요",
                              hint_en="loop so that you accept() n_clients connections")
    here = None if run.done.is_set() else run.stuck_at()
    stuck = f"\n서버가 멈춘 곳 / server stuck at: {here}" if here else ""
    if not run.done.is_set() and accepted < needed:
        return ExerciseFailed(f"서버가 클라이언트 '{scenario.label}'를 accept()하지 않았습니다",
                              f"the server never accept()ed client '{scenario.label}'",
                              detail=f"{said}{stuck}",
                              hint_ko="인자로 받은 listener에서 accept()하나요?",
                              hint_en="do you call accept() on the listener you were given?")
    return ExerciseFailed(f"클라이언트 '{scenario.label}'가 실패했습니다", f"client '{scenario.label}' failed",
                          detail=f"{said}{stuck}", hint_ko=scenario.hint_ko, hint_en=scenario.hint_en)


def check_server(serve_fn: Callable[[socket.socket, int], Any], *, clients: Sequence[Scenario],
                 timeout: float = 5.0) -> list[list[bytes]]:
    """Run ``serve_fn(listener, n_clients)`` on a listener bound to 127.0.0.1 (a free port) and check
    it with reference `clients`, in order. Returns each scenario's replies; raises ExerciseFailed.

    `timeout` bounds each client, and the wait for `serve_fn` to return after the last one.
    """
    clients = list(clients)
    if not clients:
        raise ValueError("give at least one client scenario, e.g. clients=[round_trip(b'hi')]")
    n_clients = sum(s.connections for s in clients)
    listener = socket.create_server(("127.0.0.1", 0), backlog=max(16, n_clients))
    address = listener.getsockname()[:2]
    accepted = _counting(listener)
    run = Run(serve_fn, (listener, n_clients), sockets=[listener])
    # When the student's function ends (returned or crashed), waiting clients get refused at once
    # instead of waiting out their timeout.
    run.on_done = lambda: _quiet_shutdown(listener)
    outcomes = []
    try:
        run.start()
        made = 0
        for scenario in clients:
            made += scenario.connections
            try:
                pairs = scenario.action(address, timeout)
                for sent, reply in pairs:
                    scenario.verify(sent, reply)
            except Exception as exc:  # ClientError, ExerciseFailed, OSError from a reset connection
                raise _explain(scenario, exc, run, accepted[0], made) from None
            outcomes.append([reply for _, reply in pairs])
        run.result(timeout, ko=f"{run.name}()가 클라이언트 {n_clients}개를 처리한 뒤 {timeout:g}초 안에 "
                               "return 하지 않았습니다",
                   en=f"{run.name}() did not return within {timeout:g} s after serving {n_clients} clients",
                   hint_ko="n_clients 만큼만 accept()하고 return 하세요 (무한 루프 대신 for 문)",
                   hint_en="accept exactly n_clients connections, then return (a for loop, not while True)")
    finally:
        run.stop()
        listener.close()
    return outcomes


def _quiet_shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def check_client(client_fn: Callable[[str, int], Any], *, reply: bytes = b"", timeout: float = 5.0,
                 read_until: bytes | None = None, require_request: bool = True) -> tuple[bytes, Any]:
    """Call ``client_fn(host, port)`` against a recording server that answers `reply`.

    Returns ``(what the client sent, what client_fn returned)``. The server stops reading when the
    client half-closes, sends `read_until` (e.g. ``b"\\r\\n\\r\\n"``) or stays quiet for timeout/2 s.
    """
    from socklab.servers import recording_server

    server = recording_server(reply=reply, name="socklab-check-client", timeout=timeout / 2,
                              read_until=read_until)
    run = Run(client_fn, (server.host, server.port))
    value = None
    try:
        run.start()
        try:
            value = run.result(timeout)
        except TimeLimit as limit:
            got = server.requests
            if not server.log.connections:
                limit.detail = ((limit.detail or "") + "\n서버에 연결하지 않았습니다 / never connected to the server").strip()
            elif got:
                limit.detail = ((limit.detail or "") + f"\n보낸 요청 / sent: {_short.repr(got[0])}").strip()
            raise
        try:
            # A client that connected is accepted within moments; one that never did is reported now.
            if not server.log.wait_for(lambda log: log.connections > 0, timeout=1.0):
                raise TimeoutError
            requests = server.wait_for_requests(1, timeout=timeout / 2 + 0.5)
        except TimeoutError:
            raise ExerciseFailed("클라이언트가 서버에 연결하지 않았습니다", "the client never connected to the server",
                                 hint_ko="socket.create_connection((host, port))으로 연결했나요?",
                                 hint_en="did you connect with socket.create_connection((host, port))?") from None
    finally:
        server.stop()
        run.stop(keep=value)  # the client is done: close what it left open (except what it returned)
    if require_request and not requests[0]:
        raise ExerciseFailed("클라이언트가 아무것도 보내지 않았습니다", "the client sent nothing",
                             hint_ko="sendall()로 요청을 보냈나요?", hint_en="did you send the request with sendall()?")
    return requests[0], value


__all__ += ["pattern"]

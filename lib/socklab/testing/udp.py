"""Grade-cell helpers for UDP exercises (chapter 5): reference clients for a student's UDP server,
and checks that a student's function raised what the prompt asked for.

>>> s = udp_socket(); s.getsockname()[0]
'127.0.0.1'
>>> s.close()
"""
from __future__ import annotations

import math
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from socklab.testing.limits import Run
from socklab.testing.messages import ExerciseFailed, TimeLimit, _short, check, describe_exception, expect_equal

__all__ = ["udp_socket", "expect_raises", "UdpClients", "timed", "ping_truth", "check_pings", "via_channel", "Transfer", "transfer", "check_delivered"]


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
        if type(error) is NotImplementedError:
            raise   # the untouched stub: "not written yet" says it best
        raise ExerciseFailed(ko, en, detail=f"{run.name}()가 낸 예외 / raised: {describe_exception(error) if error else failure.en}",
                             hint_ko=f"{exc_type.__name__}를 raise 하세요", hint_en=f"raise {exc_type.__name__}") from None
    raise ExerciseFailed(ko, en, detail=f"{run.name}()가 예외 없이 돌려준 값 / returned: {_short.repr(value)}",
                         hint_ko=f"{exc_type.__name__}를 raise 하세요", hint_en=f"raise {exc_type.__name__}")


class UdpClients:
    """Named reference clients, each its own UDP socket (its own address), for a student's UDP server.

    ``clients.send("a", b"hi")`` sends from client a; ``clients.reply("a")`` waits for the answer
    and checks it came from the server's address. Close with ``.close()`` or a ``with`` block.
    """

    def __init__(self, server: tuple[str, int], names: Sequence[str], *, timeout: float = 1.0,
                 run: Run | None = None) -> None:
        self.server, self.timeout, self.run = tuple(server[:2]), timeout, run
        self.socks = {name: udp_socket(timeout) for name in names}

    def address(self, name: str) -> tuple[str, int]:
        return self.socks[name].getsockname()[:2]

    def send(self, name: str, data: bytes) -> None:
        self.socks[name].sendto(data, self.server)

    def reply(self, name: str, *, bufsize: int = 65535) -> bytes:
        try:
            data, peer = self.socks[name].recvfrom(bufsize)
        except TimeoutError:
            if self.run is not None and self.run.error is not None:
                raise self.run.failure() from None   # the server crashed: that is the real reason
            if self.run is not None and self.run.done.is_set():
                raise ExerciseFailed(f"{self.run.name}()가 클라이언트 {name}에게 답하기 전에 return 했습니다",
                                     f"{self.run.name}() returned before answering client {name}",
                                     hint_ko="n_datagrams개를 모두 받고 답할 때까지 반복하세요",
                                     hint_en="loop until all n_datagrams datagrams are received and answered") from None
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


_PING = re.compile(rb"^ping (\d+) ", re.IGNORECASE)


def ping_truth(datagrams, timeout: float) -> dict[int, float | None]:
    """What a pinger should have seen, from the lossy channel's record: for each seq it sent
    (``b"ping <seq> ..."``), the delay the channel added to the request and its first reply (a lower
    bound of the RTT), or None if no reply reached it within `timeout` of the request."""
    sent: dict[int, Any] = {}
    replies: dict[int, Any] = {}
    for d in datagrams:
        m = _PING.match(d.data)
        if not m:
            continue
        seq = int(m.group(1))
        if d.direction == "up":
            sent.setdefault(seq, d)
        elif d.out and (seq not in replies or min(d.out) < min(replies[seq].out)):
            replies[seq] = d
    truth: dict[int, float | None] = {}
    for seq, up in sent.items():
        down = replies.get(seq)
        if up.fate.drop or down is None or min(down.out) - up.t_in > timeout:
            truth[seq] = None
        else:
            truth[seq] = up.fate.delay + down.fate.delay
    return truth


def check_pings(result: Any, datagrams, count: int, timeout: float) -> None:
    """Check a pinger's result against what the lossy channel recorded: the ping format and seqs,
    which pings were lost, that no RTT is shorter than the channel's own delay, and the counts."""
    check(isinstance(result, dict) and isinstance(result.get("rtts"), list) and len(result["rtts"]) == count,
          f"ping()은 'rtts'에 RTT {count}개의 리스트를 담은 사전을 반환해야 합니다",
          f"ping() must return a dict whose 'rtts' is a list of {count} RTTs")
    seqs = [int(m.group(1)) for d in datagrams if d.direction == "up" and (m := re.match(rb"ping (\d+) \d", d.data))]
    expect_equal(seqs, list(range(1, count + 1)), "보낸 핑의 seq (형식: 'ping <seq> <time>')",
                 "seqs of the pings sent (format: 'ping <seq> <time>')")
    truth = ping_truth(datagrams, timeout)
    expect_equal([r is None for r in result["rtts"]], [truth[s] is None for s in seqs],
                 "잃어버린 핑(None)의 위치가 채널 기록과 다릅니다 (True = 잃어버림)",
                 "which pings were lost (None) differs from the channel's record (True = lost)",
                 hint_ko="seq가 맞는 답만 받아들이고, 보낸 때부터 timeout초까지 기다리세요",
                 hint_en="accept only the reply with the right seq, and wait up to timeout s from sending")
    for seq, rtt in zip(seqs, result["rtts"]):
        if rtt is not None:
            check(isinstance(rtt, float) and truth[seq] - 0.002 <= rtt <= timeout,
                  f"seq {seq}의 RTT {rtt!r}초: 채널이 넣은 지연만 {truth[seq] * 1000:.1f} ms, 시간 제한은 {timeout:g}초입니다",
                  f"seq {seq}: RTT {rtt!r} s, yet the channel alone delayed it {truth[seq] * 1000:.1f} ms "
                  f"and the timeout is {timeout:g} s",
                  hint_ko="RTT는 초 단위 float, 보낸 때부터 그 seq의 답을 받은 때까지입니다 (다른 seq의 답은 무시)",
                  hint_en="the RTT is a float in seconds, from sending to the reply with that seq (ignore other seqs)")
    got = [r for r in result["rtts"] if r is not None]
    expect_equal((result.get("sent"), result.get("received")), (count, len(got)), "(sent, received): 보낸 수, 답을 받은 수",
                 "(sent, received): pings sent, replies received")
    loss = result.get("loss")
    check(isinstance(loss, float) and math.isclose(loss, (count - len(got)) / count),
          f"loss는 잃은 비율(0.0–1.0)입니다 (받음 {loss!r})", f"loss is the lost fraction, 0.0–1.0 (got {loss!r})")


def via_channel(fn: Callable[..., Any], server: tuple[str, int], schedule, *args: Any, timeout: float = 5.0,
                name: str = "via-channel") -> tuple[Any, list]:
    """Run the student's client ``fn(channel_host, channel_port, *args)`` through a lossy channel in front
    of `server`; return ``(what fn returned, the channel's record of every datagram)``."""
    from socklab import lossy

    with lossy.channel(server, schedule, name=name) as ch:
        value = Run(fn, (*ch.address, *args)).start().result(timeout)
        ch.wait_settled(0.5)
        return value, ch.datagrams()


@dataclass
class Transfer:
    """What happened when a student's sender sent a file to a reference receiver through a lossy channel."""
    files: list            # what the receiver got: one bytes per finished transfer
    datagrams: list        # the channel's record
    seconds: float         # how long the student's function ran
    returned: Any


def transfer(fn: Callable[..., Any], data: bytes, *args: Any, window: int = 1, schedule=None,
             timeout: float = 5.0, **text: str) -> Transfer:
    """Run ``fn(host, port, data, *args)`` against a reference rdt receiver (`window` packets kept)
    behind a lossy channel with `schedule`; bounded by `timeout` (``text`` may replace its message)."""
    from socklab import lossy, rdt

    with rdt.Receiver(window, name="socklab-check-rdt") as rx, \
            lossy.channel(rx.address, schedule, name="socklab-check-rdt") as ch:
        run = Run(fn, (*ch.address, data, *args)).start()
        try:
            value = run.result(timeout, **text)
        except TimeLimit as limit:
            got = rx.files
            limit.detail = ((limit.detail or "") + f"\n받은 쪽이 받은 파일 / files the receiver finished: {len(got)}").strip()
            raise
        ch.wait_settled(0.5)
        return Transfer([d for _, d in rx.files], ch.datagrams(), time.monotonic() - run.started_at, value)


def check_delivered(outcome: Transfer, data: bytes, **hints: str) -> None:
    """The receiver finished exactly one transfer, and it is `data`, byte for byte."""
    check(outcome.files, "받는 쪽이 파일을 끝까지 받지 못했습니다 (FIN이 확인되지 않음)",
          "the receiver never finished the file (no FIN it could accept)", **hints)
    got = outcome.files[0]
    if got != data:
        where = next((i for i, (a, b) in enumerate(zip(got, data)) if a != b), min(len(got), len(data)))
        raise ExerciseFailed("받은 파일이 보낸 파일과 다릅니다", "the file received differs from the file sent",
                             detail=f"길이 / length: {len(got)} 받음, {len(data)} 보냄 / got {len(got)}, sent {len(data)}; "
                                    f"처음 다른 위치 / first difference at byte {where}", **hints)

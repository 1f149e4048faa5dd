"""Which packet experiments this computer allows, and why the others are not available.

Four tiers, from always-there to most privileged:

1. ``offline``     build/dissect packets and read capture files (always)
2. ``ping-socket`` ICMP echo over an unprivileged "ping socket" (net.ipv4.ping_group_range)
3. ``namespace``   a private user+network namespace (``unshare -rn``): raw sockets on its own loopback
4. ``root``        CAP_NET_RAW on this machine's loopback
"""
from __future__ import annotations

import functools
import html
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field

__all__ = ["TIERS", "TierReport", "tier", "ping_group_range"]

TIERS = ("offline", "ping-socket", "namespace", "root")
_RANGE_FILE = "/proc/sys/net/ipv4/ping_group_range"
_SUMMARY = {
    "offline": ("패킷 만들기·분석·캡처 파일 읽기", "build and dissect packets, read capture files"),
    "ping-socket": ("권한 없이 ICMP ping", "ICMP ping without privileges"),
    "namespace": ("나만의 네트워크 namespace에서 ping·패킷 캡처", "ping and capture inside a private network namespace"),
    "root": ("이 컴퓨터의 loopback에서 직접 ping·패킷 캡처", "ping and capture directly on this machine's loopback"),
}


@dataclass(frozen=True)
class TierReport:
    """The best available tier (`name`), which tiers work, and a plain reason for each."""

    name: str
    available: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"packet tier: {self.name}"]
        for n, t in enumerate(TIERS, 1):
            mark = "✓" if self.available.get(t) else "✗"
            lines.append(f"  {mark} {n} {t:<12} {self.reasons.get(t, '')}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✓' if self.available.get(t) else '✗'}</td><td><b>{t}</b></td>"
            f"<td>{html.escape(self.reasons.get(t, ''))}</td></tr>" for t in TIERS)
        return (f"<div><b>packet tier: {html.escape(self.name)}</b>"
                f"<table>{rows}</table></div>")


def ping_group_range(path: str = _RANGE_FILE) -> tuple[int, int] | None:
    """The (low, high) group ids allowed to open ping sockets, or None if the file is missing."""
    try:
        with open(path) as f:
            low, high = f.read().split()[:2]
        return int(low), int(high)
    except (OSError, ValueError):
        return None


def _check_ping_socket() -> tuple[bool, str]:
    rng = ping_group_range()
    gids = {os.getgid(), *os.getgroups()}
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP).close()
    except OSError as exc:
        if rng is not None:
            low, high = rng
            return False, (
                f"ping_group_range is '{low} {high}' and your group ids {sorted(gids)} are not in it: "
                f"관리자에게 `sysctl -w net.ipv4.ping_group_range='0 2147483647'`를 부탁하거나 namespace tier를 쓰세요. / "
                f"ask your admin to run `sysctl -w net.ipv4.ping_group_range='0 2147483647'`, or use the namespace tier "
                f"({exc.strerror}).")
        return False, f"ping socket을 열 수 없습니다 / cannot open a ping socket: {exc.strerror}"
    text = f"'{rng[0]} {rng[1]}'" if rng else "(default)"
    return True, f"ping_group_range {text} admits your group: {_SUMMARY['ping-socket'][0]} / {_SUMMARY['ping-socket'][1]}"


@functools.lru_cache(maxsize=1)
def _check_namespace() -> tuple[bool, str]:
    if sys.platform != "linux":
        return False, "network namespace는 Linux에만 있습니다. / Network namespaces exist only on Linux."
    if shutil.which("unshare") is None:
        return False, ("`unshare` 명령이 없습니다: util-linux를 설치하세요. / "
                       "The `unshare` command is missing: install util-linux.")
    try:
        done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"`unshare -rn` failed / 실패: {exc}"
    if done.returncode != 0:
        err = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        return False, (
            f"`unshare -rn` was refused ({err}): 이 시스템은 일반 사용자의 user namespace를 막아 두었습니다 "
            "(kernel.unprivileged_userns_clone, user.max_user_namespaces, AppArmor). / "
            "this system does not let ordinary users create user namespaces; ask your admin, or use the ping-socket tier.")
    return True, f"`unshare -rn` works: {_SUMMARY['namespace'][0]} / {_SUMMARY['namespace'][1]}"


def _cap_net_raw() -> bool | None:
    """CAP_NET_RAW in our effective capabilities, from /proc (closing a probe packet socket costs ~10 ms)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> 13 & 1)  # CAP_NET_RAW is bit 13
    except (OSError, ValueError):
        pass
    return None


def _check_root() -> tuple[bool, str]:
    if not hasattr(socket, "AF_PACKET"):
        return False, "raw packet sockets are Linux-only here / 이 운영체제에서는 지원하지 않습니다."
    try:
        has_raw = _cap_net_raw()
        if has_raw is None:
            # Protocol 0: the socket receives nothing until bound, so this probe sniffs no traffic.
            socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
        elif not has_raw:
            raise PermissionError
    except PermissionError:
        return False, ("root가 아닙니다 (CAP_NET_RAW 없음): 정상입니다, namespace tier를 쓰면 됩니다. / "
                       "not root (no CAP_NET_RAW): that is normal, the namespace tier does the same safely.")
    except OSError as exc:
        return False, f"cannot open a raw packet socket / raw socket 실패: {exc.strerror}"
    return True, f"CAP_NET_RAW on this machine: {_SUMMARY['root'][0]} / {_SUMMARY['root'][1]}"


def tier(*, refresh: bool = False) -> TierReport:
    """Report the best packet tier here and why each other tier is (not) available.

    >>> tier().available["offline"]
    True
    """
    if refresh:
        _check_namespace.cache_clear()
    checks = {
        "offline": (True, f"always: {_SUMMARY['offline'][0]} / {_SUMMARY['offline'][1]}"),
        "ping-socket": _check_ping_socket(),
        "namespace": _check_namespace(),
        "root": _check_root(),
    }
    available = {t: ok for t, (ok, _) in checks.items()}
    reasons = {t: why for t, (_, why) in checks.items()}
    best = [t for t in TIERS if available[t]][-1]
    if best != "offline":
        reasons.update(_not_needed(best, available))
    return TierReport(best, available, reasons)


def _not_needed(best: str, available: dict) -> dict:
    """Shorter reasons for the tiers that are off when a working tier does their job.

    "Ask your admin" is advice for someone who has no live tier; with one, a beginner needs to
    hear only that nothing is missing.
    """
    short = {
        "ping-socket": ("ping socket은 꺼져 있지만 필요 없습니다", "ping sockets are off here, which is fine"),
        "namespace": ("user namespace는 막혀 있지만 필요 없습니다", "user namespaces are blocked here, which is fine"),
    }
    return {t: f"{ko}: {best} tier가 같은 실습을 합니다. / {en}: the {best} tier does the same experiments."
            for t, (ko, en) in short.items() if not available[t]}


def resolve(requested: str | None, *, needs: tuple[str, ...]) -> str:
    """The tier to use: `requested` (checked) or the best of `needs` that is available."""
    report = tier()
    if requested is not None:
        if requested not in TIERS:
            raise ValueError(f"unknown tier {requested!r}; choose one of {', '.join(TIERS)}")
        if requested not in needs:
            raise ValueError(f"this experiment cannot run in tier {requested!r}; it needs one of {', '.join(needs)}")
        if not report.available[requested]:
            raise RuntimeError(f"tier {requested!r} is not available here: {report.reasons[requested]}")
        return requested
    for t in reversed(TIERS):
        if t in needs and report.available[t]:
            return t
    wanted = ", ".join(needs)
    why = "; ".join(f"{t}: {report.reasons[t]}" for t in needs)
    raise RuntimeError(f"이 컴퓨터에서는 {wanted} tier를 쓸 수 없습니다. / none of the tiers {wanted} is available here. {why}")

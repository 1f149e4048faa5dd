"""How a ``make lab`` ends, and how a second one finds the first: no orphan servers, no pile-ups.

* Ctrl-C (SIGINT), closing the terminal (SIGHUP) and ``kill`` (SIGTERM) all end the launcher the
  same way: it stops JupyterLab and every kernel (:func:`stop_signals`).
* When the launcher's own parent dies (``make`` killed), the kernel sends the launcher SIGHUP;
  when the launcher dies, even by SIGKILL, the server gets SIGTERM and shuts its kernels down
  (Linux ``PR_SET_PDEATHSIG``, :func:`term_when_parent_dies`).
* The launcher records itself in ``.jupyter-runtime/lab-<mode>.json``; a second ``make lab`` for
  the same course and mode finds that record, checks the server still answers, and prints the
  running lab's address instead of starting another (:func:`running_lab`).
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["forget", "record", "running_lab", "stop_signals", "term_when_parent_dies", "watch_parent"]

_PR_SET_PDEATHSIG = 1
# Loaded once, here: term_when_parent_dies runs between fork and exec, where loading a library is unsafe.
try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
    _PRCTL = None


def _prctl_pdeathsig(sig: int) -> bool:
    return _PRCTL is not None and _PRCTL(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def term_when_parent_dies() -> None:
    """Popen preexec_fn for the server: SIGTERM it (a clean shutdown) if the launcher dies."""
    _prctl_pdeathsig(signal.SIGTERM)


def _hup_ignored() -> bool:
    # Started with `nohup`: the user wants the lab to outlive the terminal; respect that.
    return signal.getsignal(signal.SIGHUP) == signal.SIG_IGN


def watch_parent() -> None:
    """Ask for SIGHUP when this process's parent (e.g. ``make``) dies; send it now if it already has."""
    if _hup_ignored():
        return
    parent = os.getppid()
    if _prctl_pdeathsig(signal.SIGHUP) and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGHUP)   # the parent died before prctl took effect


class Stop(KeyboardInterrupt):
    """Raised in the launcher by SIGTERM or SIGHUP: handled exactly like Ctrl-C."""


@contextlib.contextmanager
def stop_signals():
    """Turn SIGTERM and SIGHUP into :class:`Stop` inside the block; ignore them once it is left."""
    def _raise(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    wanted = (signal.SIGTERM,) if _hup_ignored() else (signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, _raise) for sig in wanted}
    try:
        yield
    finally:
        # While stopping, a second signal must not cut the clean-up short.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)


def _record_path(state_dir: Path, mode: str) -> Path:
    return Path(state_dir) / f"lab-{mode}.json"


def record(state_dir: Path, mode: str, *, url: str, server_pid: int, token: str, base_url: str) -> Path:
    """Write this launcher's record (read by :func:`running_lab`); only its owner can read the token."""
    path = _record_path(state_dir, mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"launcher_pid": os.getpid(), "launcher_start": _start_time(os.getpid()),
            "server_pid": server_pid, "server_start": _start_time(server_pid),
            "url": url, "base_url": base_url, "token": token}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    tmp.replace(path)
    return path


def forget(state_dir: Path, mode: str) -> None:
    """Remove this launcher's record (only if it is ours)."""
    path = _record_path(state_dir, mode)
    try:
        if json.loads(path.read_text()).get("launcher_pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_lab(state_dir: Path, mode: str) -> dict | None:
    """The record of a lab for this course and mode that is alive and answering, else None.

    A stale record (its launcher or server gone, or a PID reused by another program) is deleted.
    """
    path = _record_path(state_dir, mode)
    try:
        data = json.loads(path.read_text())
        alive = (_start_time(data["launcher_pid"]) == data["launcher_start"]
                 and _start_time(data["server_pid"]) == data["server_start"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if alive:
        request = urllib.request.Request(data["base_url"] + "/api/status",
                                         headers={"Authorization": "token " + data["token"]})
        try:
            with urllib.request.urlopen(request, timeout=5):
                return data
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            _replace(data)   # alive but not answering: stop it rather than start a second one beside it
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def _replace(data: dict, timeout: float = 20.0) -> None:
    """SIGTERM a hung lab's launcher (it stops its server and kernels) and wait, bounded, for both."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(data["launcher_pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (
            _start_time(data["launcher_pid"]) == data["launcher_start"]
            or _start_time(data["server_pid"]) == data["server_start"]):
        time.sleep(0.05)


# PIDs: a server's processes, signalled only while they are still the ones we started.

def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the ppid follows the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_group(pid: int, sig: int) -> None:
    try:
        if os.getpgid(pid) == pid:  # only groups our processes lead, never our own
            os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), or None if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


def _reap(known: dict[int, int | None], *, deadline: float) -> None:
    # Kernels are the server's children, so once it is gone they are re-parented and
    # reaped by init; wait (bounded) until none of them is alive any more.
    pending = [pid for pid, started in known.items() if started is not None]
    while pending and time.monotonic() < deadline:
        pending = [pid for pid in pending if _start_time(pid) == known[pid]]
        if pending:
            time.sleep(0.05)

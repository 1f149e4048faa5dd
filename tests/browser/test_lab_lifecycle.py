"""How `make lab` ends: every way of stopping stops the server and its kernels; a second one reuses the first.

Real launchers (``python -m socklab.lab``) on a copy of the course, real JupyterLab servers and
kernels, real signals. Each launcher leads its own session, so a signal reaches only what we started.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from labdriver import alive, kill_server, read_until

pytestmark = pytest.mark.slow

URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/lab/tree\?token=(\w+))")


class Launcher:
    """One `python -m socklab.lab --mode student` process, optionally below a shell that plays `make`."""

    def __init__(self, course: Path, *, under_shell: bool = False, nohup: bool = False) -> None:
        argv = [sys.executable, "-m", "socklab.lab", "--mode", "student", "--root", str(course)]
        if nohup:
            argv = ["nohup", *argv]
        if under_shell:   # `sh -c 'cmd; true'` must stay the parent (no exec), as make does
            argv = ["/bin/sh", "-c", " ".join(map(str, argv)) + "; true"]
        self.course = course
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        env=dict(os.environ, PYTHONUNBUFFERED="1"), start_new_session=True)

    def url(self) -> re.Match:
        return read_until(self.process, URL, time.monotonic() + 60)

    def api(self, match: re.Match, path: str, *, method: str = "GET", body: bytes | None = None):
        request = urllib.request.Request(f"http://127.0.0.1:{match.group(2)}/{path}", method=method, data=body,
                                         headers={"Authorization": f"token {match.group(3)}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")

    def server_and_kernel(self, match: re.Match) -> list[int]:
        """Start a kernel through the API; return [server pid, kernel pids...]."""
        status, _ = self.api(match, "api/kernels", method="POST", body=b'{"name": "python3"}')
        assert status == 201
        record = json.loads((self.course / ".jupyter-runtime" / "lab-student.json").read_text())
        from socklab.lab import _descendants

        kernels = [pid for pid in _descendants(record["server_pid"]) if b"ipykernel" in _cmdline(pid)]
        assert kernels, "the kernel did not start"   # (other children, e.g. jupyter-lsp's npm probe, come and go)
        return [record["server_pid"], *kernels]

    def cleanup(self) -> None:
        try:
            self.process.stdout.close()
        except OSError:
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for info in (self.course / ".jupyter-runtime" / "student" / "runtime").glob("jpserver-*.json"):
            try:
                kill_server(json.loads(info.read_text())["pid"])
            except (OSError, ValueError):
                pass


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _all_gone(pids: list[int], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_terminal_closed_or_kill_stops_server_and_kernels(course, signum):
    """Does closing the terminal (SIGHUP, the terminal gone) or `kill` (SIGTERM) end the server and every kernel?"""
    launcher = Launcher(course)
    try:
        match = launcher.url()
        pids = launcher.server_and_kernel(match)
        if signum == signal.SIGHUP:
            launcher.process.stdout.close()   # the terminal is gone: every later write fails
        launcher.process.send_signal(signum)
        assert launcher.process.wait(timeout=30) == 0
        assert _all_gone(pids), f"still running after {signal.Signals(signum).name}: {[p for p in pids if alive(p)]}"
        assert not (course / ".jupyter-runtime" / "lab-student.json").exists()
    finally:
        launcher.cleanup()


def test_second_make_lab_reuses_the_running_lab(course):
    """Does a second `make lab` print the running lab's address and exit, instead of starting another server?"""
    first = Launcher(course)
    second = None
    try:
        match = first.url()
        pids = first.server_and_kernel(match)
        second = Launcher(course)
        again = read_until(second.process, re.compile(r"already running.*?\n\s*(http://\S+)", re.S),
                           time.monotonic() + 60)
        assert again.group(1) == match.group(1)
        assert second.process.wait(timeout=30) == 0
        servers = list((course / ".jupyter-runtime" / "student" / "runtime").glob("jpserver-*.json"))
        assert [json.loads(p.read_text())["pid"] for p in servers] == [pids[0]], "a second server was started"
        assert all(alive(pid) for pid in pids), "the running lab must keep going"
    finally:
        if second is not None:
            second.cleanup()
        first.cleanup()


def test_make_killed_or_launcher_killed_still_stops_everything(course):
    """When `make` dies (its child gets SIGHUP) or the launcher is SIGKILLed, do the server and kernels end too?"""
    for kill_what in ("parent", "launcher"):
        launcher = Launcher(course, under_shell=True)
        try:
            match = launcher.url()
            pids = launcher.server_and_kernel(match)
            record = json.loads((course / ".jupyter-runtime" / "lab-student.json").read_text())
            victim = launcher.process.pid if kill_what == "parent" else record["launcher_pid"]
            os.kill(victim, signal.SIGKILL)
            assert _all_gone(pids + [record["launcher_pid"]]), \
                f"{kill_what} killed: still running {[p for p in pids if alive(p)]}"
        finally:
            launcher.cleanup()


def test_nohup_lab_outlives_the_terminal(course):
    """Started with `nohup`, does the lab ignore SIGHUP as the user asked, and still stop on SIGTERM?"""
    launcher = Launcher(course, nohup=True)
    try:
        match = launcher.url()
        pids = launcher.server_and_kernel(match)
        status = Path(f"/proc/{launcher.process.pid}/status").read_text()   # nohup execs the launcher
        masks = {line.split(":")[0]: int(line.split()[1], 16) for line in status.splitlines()
                 if line.startswith(("SigIgn", "SigCgt"))}
        assert masks["SigIgn"] & 1 and not masks["SigCgt"] & 1, "SIGHUP must stay ignored (bit 0)"
        launcher.process.send_signal(signal.SIGHUP)
        assert launcher.api(match, "api/status")[0] == 200   # answered after the SIGHUP was delivered
        assert launcher.process.poll() is None and all(alive(pid) for pid in pids)
        launcher.process.send_signal(signal.SIGTERM)
        assert launcher.process.wait(timeout=30) == 0
        assert _all_gone(pids)
    finally:
        launcher.cleanup()

"""One sandboxed child process per submission notebook.

The child runs in fresh user, network, mount and PID namespaces (``unshare``): only ``lo`` exists,
and it pivots into a new root holding an allow-list, read-only (the interpreter, the venv,
socklab's package, ``/etc/services`` and a few other system files, ``/proc`` of its own PID
namespace), plus its own work folder, writable; setrlimit caps CPU seconds, address space,
processes and file size. The parent adds a wall-clock cap and kills the whole PID namespace when
it expires. Inside, the child is the *verifier* (:mod:`socklab.grading.verifier`): it runs the
course's test cells itself and the student's cells in a kernel nested one namespace deeper.

The child starts the student's kernel *before* it is given a notebook, so a runner can keep one
warm sandbox per worker. Where namespaces are unavailable the child runs with limits only, and
:func:`isolation_status` says so in plain words.
"""
from __future__ import annotations

import dataclasses
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

GiB = 1 << 30
MiB = 1 << 20
RESULT_TAG = b"SOCKLAB-RESULT"
KERNEL_START_TIMEOUT = 120.0
_UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--mount-proc",
            "--kill-child"]


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource caps for one sandboxed notebook (kernel included)."""

    cell_timeout: int = 30            # seconds per cell, as nbgrader's Execute.timeout
    wall_seconds: float = 300.0       # the whole notebook, kernel start included
    cpu_seconds: int = 240            # RLIMIT_CPU per process
    memory_bytes: int = 4 * GiB       # RLIMIT_AS per process
    processes: int = 512              # RLIMIT_NPROC (per real uid; root is exempt, see README)
    file_bytes: int = 64 * MiB        # RLIMIT_FSIZE
    output_bytes: int = 1 * MiB       # per cell and stream; the rest is dropped with a note
    result_bytes: int = 256 * MiB     # what the parent accepts back


_probe_cache: dict[str, tuple[bool, str]] = {}


def namespaces_available() -> tuple[bool, str]:
    """Can we create user+net+mount+pid namespaces here? Returns (ok, reason)."""
    if "ns" not in _probe_cache:
        if shutil.which("unshare") is None:
            _probe_cache["ns"] = (False, "the `unshare` command is missing (Debian: apt-get install util-linux)")
        else:
            try:
                proc = subprocess.run(_UNSHARE + ["true"], capture_output=True, timeout=20)
                ok = proc.returncode == 0
                reason = "" if ok else proc.stderr.decode(errors="replace").strip()
            except (OSError, subprocess.TimeoutExpired) as exc:
                ok, reason = False, str(exc)
            if not ok:
                reason = (f"user namespaces are not available ({reason}); enable them with "
                          "`sysctl kernel.unprivileged_userns_clone=1` or run in a VM")
            _probe_cache["ns"] = (ok, reason)
    return _probe_cache["ns"]


def resolve_isolation(isolation: str) -> tuple[str, str]:
    """Map 'auto'|'namespace'|'none' to the mode actually used and a warning ('' when none)."""
    if isolation not in ("auto", "namespace", "none"):
        raise ValueError(f"isolation must be 'auto', 'namespace' or 'none', not {isolation!r}")
    if isolation == "none":
        return "none", ("WARNING: sandbox isolation is OFF: submissions can use the network and read "
                        "other students' files. Only resource limits and time caps apply.")
    ok, reason = namespaces_available()
    if ok:
        return "namespace", ""
    if isolation == "namespace":
        raise RuntimeError(f"namespace sandbox requested but unavailable: {reason}")
    return "none", f"WARNING: grading WITHOUT namespace isolation: {reason}. Only resource limits apply."


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the student's code)."""


class Sandbox:
    """A child process that starts a kernel in `workdir` and then executes one notebook.

    Create, call :meth:`start` early (the kernel warms up meanwhile), then :meth:`run`.
    """

    def __init__(self, workdir: Path, *, hide: list[Path] = (), limits: Limits = Limits(),
                 isolation: str = "namespace", label: str = "autograde", preload: list[str] = ()):
        self.workdir = Path(workdir)
        self.preload = list(preload)   # modules to import while warming up (socklab.grading.warm)
        self.hide = [str(Path(p)) for p in hide]
        self.limits = limits
        self.isolation = isolation
        self.label = label
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self._buf = b""
        self._ready = False
        self.log_path = self.workdir.parent / (self.workdir.name + ".log")
        self.cgroup: Path | None = None

    def start(self) -> "Sandbox":
        seed_workdir(self.workdir)
        config = {"workdir": str(self.workdir), "hide": self.hide, "limits": dataclasses.asdict(self.limits),
                  "isolation": self.isolation, "label": self.label, "preload": self.preload}
        self.cgroup = _pids_cgroup(self.limits.processes)
        student_fd = _student_cgroup(self.cgroup, self.limits.processes) if self.cgroup is not None else None
        if student_fd is not None:
            config["student_cgroup_fd"] = student_fd
        # -I: no PYTHONPATH, no user site, no work folder on sys.path (a socklab/ in a submission
        # must not shadow the real one).
        cmd = [sys.executable, "-I", "-m", "socklab.grading.sandbox", json.dumps(config)]
        if self.isolation == "namespace":
            cmd = _UNSHARE + cmd
        if self.cgroup is not None:
            # RLIMIT_NPROC does not bind root; a pids cgroup does. Join it before exec.
            cmd = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.cgroup / "cgroup.procs"), *cmd]
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MALLOC_ARENA_MAX="2")
        try:
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                             cwd=self.workdir, env=env, start_new_session=True,
                                             pass_fds=() if student_fd is None else (student_fd,))
        finally:
            if student_fd is not None:
                os.close(student_fd)
        self.started_at = time.monotonic()
        return self

    def _read(self, deadline: float, until) -> bool:
        """Read the child's stdout until until(buf) is true, EOF or the deadline. True if satisfied."""
        fd = self.proc.stdout.fileno()
        while not until(self._buf):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return until(self._buf)
            self._buf += chunk
            if len(self._buf) > self.limits.result_bytes:
                return False
        return True

    def run(self, notebook: dict, *, trusted: list[int] = (), tests: list[int] = ()) -> dict:
        """Execute `notebook` (nbformat dict): `trusted` cells (the course's own, restored from the
        source) in the verifier too, `tests` only there. Returns {status, reason, cells|None, timings}:
        ``cells`` is ``[[index, outputs], ...]``."""
        assert self.proc is not None, "call start() first"
        nonce = secrets.token_hex(16).encode()
        try:
            # A warm sandbox may have waited idle; the wall clock starts with the notebook.
            if not self._read(time.monotonic() + KERNEL_START_TIMEOUT, lambda b: b"READY\n" in b):
                return self._fail("start", "the sandbox did not start its kernel in time")
            self._buf = self._buf.split(b"READY\n", 1)[1]
            started = time.monotonic()
            deadline = started + self.limits.wall_seconds
            try:
                job = {"notebook": notebook, "trusted": list(trusted), "tests": list(tests)}
                self.proc.stdin.write(nonce + b"\n" + json.dumps(job).encode())
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                return self._fail("crash", "the sandbox stopped before it got the notebook")
            head = RESULT_TAG + b" " + nonce + b" "
            if not self._read(deadline, lambda b: _frame(b, head) is not None):
                if time.monotonic() >= deadline:
                    return self._fail("timeout", f"the notebook did not finish within the "
                                                 f"{self.limits.wall_seconds:.0f} s wall-clock cap")
                if len(self._buf) > self.limits.result_bytes:
                    return self._fail("output", "the notebook produced too much output")
                return self._fail("crash", "the sandbox ended without a result (killed by a resource limit?)")
            result = json.loads(_frame(self._buf, head))
            result.setdefault("timings", {})["run_s"] = time.monotonic() - started
            return result
        finally:
            self.close()

    def _fail(self, status: str, reason: str) -> dict:
        tail = ""
        try:
            tail = self.log_path.read_text(errors="replace")[-400:].strip()
        except OSError:
            pass
        return {"status": status, "reason": reason, "cells": None, "log": tail, "timings": {}}

    def close(self) -> None:
        """Kill the child and everything it started (the whole PID namespace)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            _kill_tree(self.proc.pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.cgroup is not None:
            _remove_cgroup(self.cgroup)
            self.cgroup = None


def _pids_cgroup(limit: int) -> Path | None:
    """A fresh pids cgroup capped at `limit` tasks, when we may create one (root, cgroup v1/v2)."""
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if not (base / "cgroup.procs").exists():
            continue
        if base.name == "cgroup" and "pids" not in _read(base / "cgroup.subtree_control"):
            continue
        group = base / f"socklab-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            group.mkdir()
        except OSError:
            continue
        try:
            (group / "pids.max").write_text(str(limit))
            return group
        except OSError:
            _remove_cgroup(group)
    return None


#: Tasks (threads count) the verifier keeps for itself when the student's kernel forks all it may.
VERIFIER_TASKS = 64


def _student_cgroup(group: Path, limit: int) -> int | None:
    """An fd on the cgroup.procs of a sub-group for the student's kernel, capped below the sandbox's
    own cap so a fork flood in the student's kernel leaves the verifier room to run its tests."""
    sub = group / "student"
    try:
        sub.mkdir()
        (sub / "pids.max").write_text(str(max(16, limit - VERIFIER_TASKS)))
        return os.open(sub / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _remove_cgroup(group: Path) -> None:
    # Tasks of a killed PID namespace take a moment to be reaped; bounded polling, then give up.
    if (group / "student").is_dir():
        _remove_cgroup(group / "student")
    deadline = time.monotonic() + 5
    while True:
        for pid in _read(group / "cgroup.procs").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        try:
            group.rmdir()
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def seed_workdir(workdir: Path) -> None:
    """A fresh work folder, with matplotlib's font cache so kernels do not rebuild it."""
    mpl = Path(workdir) / ".home" / ".mpl"
    mpl.mkdir(parents=True, exist_ok=True)
    cache = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    for font_list in cache.glob("fontlist-*.json"):
        shutil.copy(font_list, mpl / font_list.name)


def _frame(buf: bytes, head: bytes) -> bytes | None:
    """The payload of a complete result frame in buf, else None."""
    at = buf.rfind(head)
    if at < 0:
        return None
    rest = buf[at + len(head):]
    line, sep, body = rest.partition(b"\n")
    if not sep or not line.isdigit() or len(body) < int(line):
        return None
    return body[:int(line)]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _kill_tree(pid: int) -> None:
    # In namespace mode killing PID 1 of the namespace (our child's child) kills everything in it;
    # the walk also covers the fallback mode, where kernels run in their own sessions.
    seen, stack = [], [pid]
    while stack:
        p = stack.pop()
        seen.append(p)
        stack.extend(_children(p))
    for p in reversed(seen):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    from socklab.grading import _child

    sys.exit(_child.main(json.loads(sys.argv[1])))

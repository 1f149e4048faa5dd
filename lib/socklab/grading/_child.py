"""Inside the sandbox: lock the process down, start a kernel, run one notebook, report back.

Runs as ``python -m socklab.grading.sandbox CONFIG`` (under ``unshare`` in namespace mode).
Protocol on stdout: ``READY\\n`` once the kernel answers, then one result frame
``SOCKLAB-RESULT <nonce> <length>\\n<json>``. The nonce arrives on stdin, after the kernel
started, so student code cannot read it from the command line.
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import socket
import struct
import sys
import time
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC = 32, 4096, 16384
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
_KEEP_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
               "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    if _libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def loopback_up() -> None:
    """Bring `lo` up in our fresh network namespace (ioctl, no iproute2 needed)."""
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", flags | IFF_UP))


def _mountinfo() -> list[tuple[str, str]]:
    """(mount point, per-mount options) for every mount we can see."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")
        out.append((point, fields[5]))
    return out


def _runtime_paths_under(path: str, hide: list[str]) -> list[str]:
    """Folders this interpreter needs (venv, socklab's source, sys.path) that lie inside `path`,
    outermost first, excluding anything inside a folder we are asked to hide."""
    import socklab

    root = os.path.realpath(path)
    candidates = {sys.prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(socklab.__file__)),
                  *(p for p in sys.path if p and os.path.isdir(p))}
    hidden = [os.path.realpath(h) for h in hide]
    keep = []
    for c in sorted({os.path.realpath(c) for c in candidates}, key=len):
        inside = c.startswith(root + os.sep)
        secret = any(c == h or c.startswith(h + os.sep) or h.startswith(c + os.sep) for h in hidden)
        covered = any(c.startswith(k + os.sep) for k in keep)
        if inside and not secret and not covered:
            keep.append(c)
    return keep


def lock_filesystem(workdir: Path, hide: list[str]) -> list[str]:
    """Hide private folders under empty tmpfs, make every other mount read-only but workdir.

    Returns a list of notes about steps that could not be applied (best effort, never fatal).
    """
    notes = []
    keep_fd = os.open(workdir, os.O_PATH | os.O_DIRECTORY)
    writable = {str(workdir)}
    for path in ["/tmp", "/dev/shm", *hide]:
        if not os.path.isdir(path):
            continue
        # The course checkout (and so socklab and its venv) may itself live under /tmp: keep what
        # this interpreter runs from, and nothing else, visible through the new empty tmpfs.
        needed = _runtime_paths_under(path, hide)
        needed_fds = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in needed]
        try:
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
            if path == "/dev/shm":   # /tmp stays read-only: TMPDIR points into workdir
                writable.add(path)
            for p, fd in needed_fds:
                os.makedirs(p, exist_ok=True)
                _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
        except OSError as exc:
            notes.append(str(exc))
        finally:
            for _p, fd in needed_fds:
                os.close(fd)
    # Put our own folder back where it was, over whatever now hides it.
    os.makedirs(workdir, exist_ok=True)
    _mount(f"/proc/self/fd/{keep_fd}", str(workdir), None, MS_BIND)
    os.close(keep_fd)
    try:
        _mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    except OSError as exc:
        notes.append(str(exc))
    for point, opts in _mountinfo():
        if point in writable or point.startswith(("/proc", "/sys", "/dev")) and point != "/dev/shm":
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in opts.split(","):
            flags |= _KEEP_FLAGS.get(opt, 0)
        try:
            _mount(None, point, None, flags)
        except OSError as exc:
            notes.append(str(exc))
    os.chdir(workdir)
    return notes


def set_limits(limits: dict) -> None:
    """setrlimit for this process and, by inheritance, the kernel and anything it starts."""
    def cap(which, value, slack=0):
        resource.setrlimit(which, (value, value + slack))
    cap(resource.RLIMIT_CPU, int(limits["cpu_seconds"]), 5)
    cap(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    cap(resource.RLIMIT_NPROC, int(limits["processes"]))
    cap(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    cap(resource.RLIMIT_CORE, 0)


def main(config: dict) -> int:
    # Keep the result channel to ourselves: fd 1 moves to a private close-on-exec descriptor and
    # the kernel inherits a log file instead.
    result_fd = os.dup(1)
    os.set_inheritable(result_fd, False)
    os.dup2(2, 1)
    workdir = Path(config["workdir"])
    notes: list[str] = []
    if config["isolation"] == "namespace":
        loopback_up()
        notes += lock_filesystem(workdir, config["hide"])
    set_limits(config["limits"])
    # jsonschema (via nbformat) imports rfc3987_syntax when installed, which builds a grammar for
    # 1.6 s; notebooks never use those string formats, and we pay start-up once per notebook.
    sys.modules.setdefault("rfc3987_syntax", None)
    from socklab.grading import kernels

    t0 = time.monotonic()
    session = kernels.KernelSession(workdir, label=config["label"], limits=config["limits"])
    try:
        session.start()
        kernel_start_s = time.monotonic() - t0
        os.write(result_fd, b"READY\n")
        data = sys.stdin.buffer.read()
        nonce, _, body = data.partition(b"\n")
        result = session.execute(body.decode("utf-8"))
        result["notes"] = notes
        result.setdefault("timings", {})["kernel_start_s"] = kernel_start_s
        # Report first: the parent kills this whole sandbox (kernel included) once it has the result.
        payload = json.dumps(result).encode()
        frame = b"SOCKLAB-RESULT " + nonce + b" " + str(len(payload)).encode() + b"\n" + payload
        view = memoryview(frame)
        while view:
            view = view[os.write(result_fd, view):]
        os.close(result_fd)
    finally:
        session.stop()
    return 0

"""Inside the sandbox: lock the process down, start the student's kernel, verify one notebook.

Runs as ``python -I -m socklab.grading.sandbox CONFIG`` (under ``unshare`` in namespace mode).
Protocol on stdout: ``READY\\n`` once the kernel answers, then one result frame
``SOCKLAB-RESULT <nonce> <length>\\n<json>`` holding only per-cell outputs. The nonce arrives on
stdin, after the kernel started; the kernel, in nested namespaces, cannot see this process at all.
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


#: System files exercises and the interpreter read; everything else outside the allow-list is absent.
SYSTEM_FILES = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
                "/etc/services", "/etc/protocols", "/etc/ethertypes", "/etc/hosts", "/etc/nsswitch.conf",
                "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
                "/etc/group", "/etc/alternatives", "/etc/mime.types", "/etc/ssl/certs", "/etc/resolv.conf"]
DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}


def runtime_paths() -> list[str]:
    """What this interpreter runs from: the venv, the base Python, socklab's own package folder."""
    import socklab

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.realpath(socklab.__file__))}
    return sorted(os.path.realpath(p) for p in paths if p and os.path.exists(p))


def _bind(src: str, root: str, *, writable: bool = False) -> None:
    target = root + src
    if os.path.islink(src):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(src), target)
        return
    if os.path.isdir(src):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    _mount(src, target, None, MS_BIND | MS_REC)
    if not writable:
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
        for point, opts in _mountinfo():
            if point == target:
                for opt in opts.split(","):
                    flags |= _KEEP_FLAGS.get(opt, 0)
        _mount(None, target, None, flags)


def lock_filesystem(workdir: Path, hide: list[str], allow: list[str] | None = None) -> list[str]:
    """Pivot into a fresh root holding only an allow-list, read-only: the interpreter, the venv,
    socklab's package, :data:`SYSTEM_FILES`, a few devices, /proc of our PID namespace, a fresh
    /sys; and `workdir`, writable. The course's .git, its sources, other copies of the course and
    other students' work are not hidden: they are simply not there. `hide` still covers anything
    inside an allowed folder.

    Returns notes about steps that could not be applied (an allowed path that is missing is fine).
    """
    notes = []
    workdir = Path(os.path.realpath(workdir))
    root = str(workdir.parent / f".{workdir.name}-root")
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    for path in sorted({*SYSTEM_FILES, *runtime_paths(), *(allow or [])}, key=len):
        if os.path.lexists(path):
            try:
                _bind(path, root)
            except OSError as exc:
                notes.append(f"{path}: {exc}")
    for h in hide:
        if os.path.isdir(root + h):
            _mount("tmpfs", root + h, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=1m")
    _bind(str(workdir), root, writable=True)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("/proc", root + "/proc", None, MS_BIND | MS_REC)
    os.makedirs(root + "/sys", exist_ok=True)
    try:
        _mount("sysfs", root + "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    except OSError as exc:
        notes.append(str(exc))
    for dev in DEVICES:
        if os.path.exists(dev):
            try:
                _bind(dev, root, writable=True)
            except OSError as exc:
                notes.append(f"{dev}: {exc}")
    os.makedirs(root + "/dev/shm", exist_ok=True)
    _mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    for empty in ("/tmp", "/home", "/root", "/var/tmp"):
        os.makedirs(root + empty, exist_ok=True)
    os.makedirs(root + "/.old", exist_ok=True)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(f"pivot_root: unknown architecture {os.uname().machine}")
    os.chdir(root)
    if _libc.syscall(number, b".", b".old") != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pivot_root: {os.strerror(err)}")
    os.chdir("/")
    if _libc.umount2(b"/.old", MNT_DETACH) != 0:
        notes.append(f"umount old root: {os.strerror(ctypes.get_errno())}")
    os.rmdir("/.old")
    try:
        _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
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


def same_ports_for_all() -> list[str]:
    """Let the student's kernel bind what the verifier (root in this sandbox) may bind.

    The verifier is root here; the student's kernel, in its nested user namespace, has no
    capability over this network namespace, so without this it would get EACCES below port 1024
    where the test expects root's "ok". The setting is per network namespace: ours alone."""
    try:
        Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").write_text("0")
        return []
    except OSError as exc:
        return [f"ip_unprivileged_port_start: {exc}"]


def unusual_port_range() -> list[str]:
    """Give this network namespace an ephemeral port range no system ships by default.

    Exercises ask students to *read* the kernel's range; an answer that types in Linux's
    32768-60999 passes on a default machine and must not pass here. Per network namespace: ours
    alone. Random per sandbox, even start and odd end (the kernel prefers different parities)."""
    import secrets

    low = 20000 + 2 * secrets.randbelow(5000)          # 20000..29998
    high = low + 20001 + 2 * secrets.randbelow(5000)   # ..59997, at least 20001 ports
    try:
        Path("/proc/sys/net/ipv4/ip_local_port_range").write_text(f"{low} {high}")
        return []
    except OSError as exc:
        return [f"ip_local_port_range: {exc}"]


def not_dumpable() -> None:
    """PR_SET_DUMPABLE 0: no ptrace attach, no /proc/<pid>/mem, no core dump of the verifier."""
    PR_SET_DUMPABLE = 4
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def main(config: dict) -> int:
    # Keep the result channel to ourselves: fd 1 moves to a private close-on-exec descriptor and
    # the kernel inherits a log file instead.
    result_fd = os.dup(1)
    os.set_inheritable(result_fd, False)
    os.dup2(2, 1)
    not_dumpable()
    workdir = Path(config["workdir"])
    notes: list[str] = []
    if config["isolation"] == "namespace":
        loopback_up()
        notes += same_ports_for_all()
        notes += unusual_port_range()
        notes += lock_filesystem(workdir, config["hide"], config.get("allow"))
    set_limits(config["limits"])
    os.environ["NBGRADER_EXECUTION"] = config["label"]   # test cells see what student cells see
    # jsonschema (via nbformat) imports rfc3987_syntax when installed, which builds a grammar for
    # 1.6 s; notebooks never use those string formats, and we pay start-up once per notebook.
    sys.modules.setdefault("rfc3987_syntax", None)
    import nbformat

    from socklab.grading import warm
    from socklab.grading.verifier import Verifier

    t0 = time.monotonic()
    learned = [n for n in config.get("preload", []) if type(n) is str]
    verifier = Verifier(workdir, limits=config["limits"], label=config["label"],
                        nested=config["isolation"] == "namespace", cgroup_fd=config.get("student_cgroup_fd"),
                        preload=warm.for_kernel(learned))
    try:
        verifier.start()
        # nbformat compiles its output schema on the first output it checks: do it now, not mid-notebook
        nbformat.v4.new_output("stream", name="stdout", text="")
        warm.preload(learned)
        kernel_start_s = time.monotonic() - t0
        before = set(sys.modules)
        os.write(result_fd, b"READY\n")
        data = sys.stdin.buffer.read()
        nonce, _, body = data.partition(b"\n")
        job = json.loads(body.decode("utf-8"))
        nb = nbformat.from_dict(job["notebook"])
        result = verifier.run(nb, set(job["trusted"]), set(job["tests"]))
        result["notes"] = notes
        result["modules"] = warm.loaded_since(before)
        result.setdefault("timings", {})["kernel_start_s"] = kernel_start_s
        # Report first: the parent kills this whole sandbox (kernel included) once it has the result.
        payload = json.dumps(result).encode()
        frame = b"SOCKLAB-RESULT " + nonce + b" " + str(len(payload)).encode() + b"\n" + payload
        view = memoryview(frame)
        while view:
            view = view[os.write(result_fd, view):]
        os.close(result_fd)
    finally:
        verifier.stop()
    return 0

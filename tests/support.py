"""Shared helpers for socklab's own tests (not for grade cells: those use socklab.testing)."""
import os

import pytest

STRICT = os.environ.get("SOCKLAB_STRICT") == "1"
# The environment variable tests/conftest.py sets to the test process's pid (children inherit it).
RUN_MARK = "SOCKLAB_TEST_RUN"


def strict_skip(reason: str) -> None:
    """Skip with `reason`, but fail instead when SOCKLAB_STRICT=1 (set by .ci/run).

    CI must exercise every tier and the browser; a missing prerequisite there is a
    defect of .ci/run, not a reason to go green.
    """
    if STRICT:
        pytest.fail(f"SOCKLAB_STRICT=1 but this test would skip: {reason}", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, package: str) -> str:
    """The path of command `name`, or a (strict) skip saying which Debian package `.ci/run` installs it from."""
    import shutil

    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        strict_skip(f"{name} is missing: `apt-get install -y {package}` (.ci/run installs it)")
    return path


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
# What a course is, to `socklab release`, `socklab grade` and the lab: map, configs, sources, release.
COURSE_FILES = ("course.toml", "jupytext.toml", "nbgrader_config.py", "README.md", "grader/nbgrader_config.py")
COURSE_FOLDERS = ("solutions", "notebooks")


def copy_course(dst, source=REPO):
    """A scratch copy of the course at `dst` (never the repository's own files); returns its path."""
    import pathlib
    import shutil

    dst, source = pathlib.Path(dst), pathlib.Path(source)
    for name in COURSE_FILES:
        if (source / name).is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dst / name)
    for folder in COURSE_FOLDERS:
        if (source / folder).is_dir():
            shutil.copytree(source / folder, dst / folder,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dst


def ipc_kernel_prefix() -> str:
    """A fresh, short path prefix for a kernel's IPC sockets (`KernelManager(transport="ipc", ip=...)`).

    Tests start kernels from several pytest-xdist workers at once; on TCP, jupyter_client picks a
    free port and binds it later, so two kernels can race for one port (seen: plain `nbgrader
    autograde` failing a student). Unix sockets in a folder of this process cannot collide."""
    global _IPC_DIR, _IPC_COUNT
    if _IPC_DIR is None:
        import atexit
        import shutil
        import tempfile

        _IPC_DIR = tempfile.mkdtemp(prefix="sk-")   # short: a socket path has at most 107 bytes
        atexit.register(shutil.rmtree, _IPC_DIR, ignore_errors=True)
    _IPC_COUNT += 1
    return f"{_IPC_DIR}/k{_IPC_COUNT}"


_IPC_DIR: str | None = None
_IPC_COUNT = 0


def ipc_kernel_config():
    """traitlets config for an nbclient NotebookClient that starts (and owns) an IPC kernel."""
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc", "ip": ipc_kernel_prefix()}})


def nbgrader_ipc_flags() -> list[str]:
    """Command-line flags that make an `nbgrader` run start its kernels on IPC (see ipc_kernel_prefix)."""
    return ["--KernelManager.transport=ipc", f"--KernelManager.ip={ipc_kernel_prefix()}"]

"""Fixtures for grading tests: a tiny nbgrader course built once, copied per test."""
import os
import shutil
from pathlib import Path

import pytest

from grading import course as fx
from socklab.grading.sandbox import namespaces_available
from support import RUN_MARK, strict_skip


@pytest.fixture(scope="session")
def course_template(tmp_path_factory) -> Path:
    return fx.make_course(tmp_path_factory.mktemp("course-template") / "course", timeout=5)


@pytest.fixture
def course(course_template, tmp_path) -> Path:
    """A private copy of the fixture course (sources, release, gradebook with fx01)."""
    root = tmp_path / "course"
    shutil.copytree(course_template, root)
    return root


@pytest.fixture
def need_namespaces():
    ok, reason = namespaces_available()
    if not ok:
        strict_skip(f"namespace sandbox unavailable: {reason}")


def sandbox_processes() -> list[int]:
    """PIDs of sandbox children this test process started that are still alive (none after a run).

    Other xdist workers and other checkouts on the machine grade at the same time: a sandbox is
    ours when it inherited our RUN_MARK (tests/conftest.py)."""
    mark = f"{RUN_MARK}={os.getpid()}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmd = (entry / "cmdline").read_bytes()
                ours = b"socklab.grading.sandbox" in cmd and mark in (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if ours:
                pids.append(int(entry.name))
    return pids


def leftover_cgroups() -> list[str]:
    """pids cgroups this test process created and did not remove."""
    base = Path("/sys/fs/cgroup/pids")
    return sorted(p.name for p in base.glob(f"socklab-{os.getpid()}-*")) if base.is_dir() else []

"""Fixtures for grading tests: a tiny nbgrader course built once, copied per test."""
import os
import shutil
import sys
from pathlib import Path

import pytest

from grading import course as fx
from socklab.grading.sandbox import namespaces_available
from support import strict_skip


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
    """PIDs of this checkout's sandbox children still alive (there should be none after a run).
    Other checkouts on a shared machine run their own venv's python: those are not ours."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"socklab.grading.sandbox" in cmd and sys.executable.encode() in cmd and int(entry.name) != os.getpid():
                pids.append(int(entry.name))
    return pids


def leftover_cgroups() -> list[str]:
    """pids cgroups this test process created and did not remove."""
    base = Path("/sys/fs/cgroup/pids")
    return sorted(p.name for p in base.glob(f"socklab-{os.getpid()}-*")) if base.is_dir() else []

"""Fixtures for the notebook tests (helpers live in nbtools.py)."""
from __future__ import annotations

import os

import pytest

from nbtools import NAMES, ROOT

@pytest.fixture(scope="session")
def regenerated(tmp_path_factory):
    """A copy of the course where notebooks/ was damaged (one file emptied, one stray added) and so
    was solutions/ (one built notebook emptied, one orphan notebook without a text source), then
    regenerated with `release()`, then checked again with ``check=True``: (root, write report, check report).

    Two nbgrader runs in all: the whole release story in one fixture keeps these tests fast.
    """
    from socklab.release import release
    from support import copy_course

    root = copy_course(tmp_path_factory.mktemp("course"), ROOT)
    (root / "notebooks" / "ch03" / NAMES[0]).write_text("{}", encoding="utf-8")
    (root / "notebooks" / "ch03" / "stray.ipynb").write_text("{}", encoding="utf-8")
    stale = root / "solutions" / "ch03" / NAMES[1]
    stale.write_text("{}", encoding="utf-8")
    md = stale.with_suffix(".md").stat()
    os.utime(stale, ns=(md.st_atime_ns, md.st_mtime_ns - 10**9))  # stale: older than its text source
    (root / "solutions" / "ch03" / "03.9-orphan.ipynb").write_text("{}", encoding="utf-8")
    written = release(root=root)
    checked = release(root=root, check=True)
    return root, written, checked

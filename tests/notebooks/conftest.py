"""Fixtures for the notebook tests (helpers live in nbtools.py)."""
from __future__ import annotations

import pytest

from nbtools import NAMES, ROOT

@pytest.fixture(scope="session")
def regenerated(tmp_path_factory):
    """A copy of the course where notebooks/ was damaged (one file emptied, one stray added) and so
    was solutions/ (one built notebook emptied, one orphan notebook without a text source), then
    regenerated with `release()`, then checked again with ``check=True``: (root, write report, check report).

    Two nbgrader runs in all: the whole release story in one fixture keeps these tests fast.
    """
    import shutil

    from socklab.release import release

    root = tmp_path_factory.mktemp("course")
    for part in ("course.toml", "solutions", "notebooks", "grader/nbgrader_config.py", "nbgrader_config.py"):
        src, dst = ROOT / part, root / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst) if src.is_dir() else shutil.copy(src, dst)
    (root / "notebooks" / "ch03" / NAMES[0]).write_text("{}", encoding="utf-8")
    (root / "notebooks" / "ch03" / "stray.ipynb").write_text("{}", encoding="utf-8")
    (root / "solutions" / "ch03" / NAMES[1]).write_text("{}", encoding="utf-8")
    (root / "solutions" / "ch03" / "03.9-orphan.ipynb").write_text("{}", encoding="utf-8")
    written = release(root=root)
    checked = release(root=root, check=True)
    return root, written, checked

"""Suite-wide hooks: how `make test` splits the suite over pytest-xdist workers, and a mark on
every process this test process starts.

`make test` runs `pytest -n 2 --dist loadgroup`. Each test file is one unit of work (its module
fixtures, e.g. a chapter graded once, are built once); every browser test is in one group, so
one worker owns the one Chromium and the JupyterLab servers the browser fixtures share (two
Playwright instances in one process cannot coexist, and two Chromiums would only compete).
"""
from __future__ import annotations

import os

import pytest

from support import RUN_MARK

# Children inherit this: tests find the sandboxes *this* process started (other workers and other
# checkouts on the same machine grade at the same time). See grading/conftest.sandbox_processes.
os.environ[RUN_MARK] = str(os.getpid())


@pytest.hookimpl(tryfirst=True)   # before xdist reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        group = "browser" if path.startswith("tests/browser/") else path
        item.add_marker(pytest.mark.xdist_group(group))

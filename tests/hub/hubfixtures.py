"""Fixtures for the hub tests (imported by tests/browser/test_hub_class.py): a real class hub, JupyterHub as root, real Unix accounts, the shared Python.

The hub's Python is the one `make hub` uses (/opt/socklab-hub, or $SOCKLAB_HUB_PREFIX); it is
built on first use (a few minutes) and reused while lib/ and pyproject.toml are unchanged. The
class folder and the accounts are the test's own and are removed afterwards.
"""
from __future__ import annotations

import os
import pathlib
import pwd
import secrets
import shutil
import subprocess
import tempfile

import pytest


from support import strict_skip

REPO = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "hub"
# Real Unix accounts, named afresh each run: two runs on one machine (two checkouts, or a run
# killed before it removed its accounts) must never share, or delete, each other's users.
_RUN = secrets.token_hex(2)
INSTRUCTOR = f"slt{_RUN}-teacher"
STUDENTS = [f"slt{_RUN}-{name}" for name in ("ana", "ben", "cho")]


def _requirements() -> str | None:
    if os.geteuid() != 0:
        return "the class hub needs root (it creates Unix accounts and starts servers as them)"
    if not os.access("/usr/bin/python3", os.X_OK):
        return "Debian's /usr/bin/python3 (+ python3-venv) is needed for the hub's shared Python"
    if shutil.which("useradd") is None or shutil.which("chpasswd") is None:
        return "useradd/chpasswd (passwd package) are needed to create the class's accounts"
    return None


@pytest.fixture(scope="session")
def hub_plan():
    why = _requirements()
    if why:
        strict_skip(why)
    from socklab.hub import HubPlan

    state = pathlib.Path(tempfile.mkdtemp(prefix="socklab-hub-test-"))
    os.chmod(state, 0o755)   # the accounts must traverse it to reach the exchange
    prefix = pathlib.Path(os.environ.get("SOCKLAB_HUB_PREFIX", "/opt/socklab-hub"))
    plan = HubPlan(repo=REPO, instructor=INSTRUCTOR, students=list(STUDENTS), prefix=prefix, state=state / "class")
    try:
        yield plan
    finally:
        log = plan.hubdir / "jupyterhub.log"
        if log.is_file():   # kept for a failed run: the hub's and every user server's log
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy2(log, ARTIFACTS / "jupyterhub.log")
        for name in plan.users:
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def hub(hub_plan):
    from socklab.hub import start_hub

    running = start_hub(hub_plan, timeout=120)
    try:
        yield running
    finally:
        running.stop()

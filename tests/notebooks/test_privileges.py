"""Exercise 13 grades right whoever runs it: root, an ordinary user, or root inside a user namespace."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

from nbtools import ROOT, SOLUTIONS
from support import strict_skip

# Runs the notebook's setup cell, the reference answer and the whole grade cell (hidden tests too).
SCRIPT = f"""
import json, os, sys
sys.path.insert(0, {str(ROOT / 'lib')!r})
nb = json.load(open({str(SOLUTIONS / '03.3-service-ports.ipynb')!r}, encoding="utf-8"))
src = {{c["metadata"].get("nbgrader", {{}}).get("grade_id"): "".join(c["source"]) for c in nb["cells"]}}
ns = {{"__name__": "__main__"}}
for gid in ("setup_03_3", "q03_13_bind_errors_answer", "q03_13_bind_errors", "q03_13_bind_errors_robust"):
    exec(compile(src[gid], gid, "exec"), ns)
print("euid", os.geteuid(), "low port:", ns["try_bind"]("127.0.0.1", 1023))
"""


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/")


def test_bind_exercise_passes_for_an_ordinary_user_who_gets_eacces():
    """As a non-root user, does the reference answer report EACCES below 1024 and the grade cell agree?"""
    user, python = os.environ.get("SOCKLAB_NONROOT_USER"), os.environ.get("SOCKLAB_NONROOT_PYTHON")
    if not (user and python and shutil.which("runuser")):
        strict_skip("set SOCKLAB_NONROOT_USER and SOCKLAB_NONROOT_PYTHON (.ci/nonroot.sh) to run as a student")
    if os.geteuid() != 0:
        strict_skip("switching to another user needs root")
    out = _run(["runuser", "-u", user, "--", python, "-c", SCRIPT])
    assert out.returncode == 0, out.stdout + out.stderr
    knob = pathlib.Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    start = int(knob.read_text().split()[0]) if knob.exists() else 1024
    assert ("low port: EACCES" if start > 1023 else "low port: ok") in out.stdout, out.stdout


def test_bind_exercise_passes_as_root_of_a_private_user_and_network_namespace():
    """Inside `unshare -rn` (how the grading sandbox runs), does the grade cell pass with 'ok' below 1024?"""
    if not shutil.which("unshare"):
        strict_skip("unshare (util-linux) is not installed")
    probe = _run(["unshare", "-rn", "true"])
    if probe.returncode != 0:
        strict_skip(f"unshare -rn does not work here: {probe.stderr.strip()}")
    out = _run(["unshare", "-rn", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$0" -c "$1"', sys.executable, SCRIPT])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "euid 0 low port: ok" in out.stdout, out.stdout

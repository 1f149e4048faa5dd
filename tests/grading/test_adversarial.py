"""Hostile and broken submissions graded in ONE run next to good ones.

Each hostile program is bounded by itself (the fork flood stops at 3000 processes, the memory hog
at 3 GiB, the output flood at 100 MB), and nothing here sends traffic anywhere but loopback: the
network probe only lists interfaces and routes and asks the kernel for a route (a UDP connect()
sends no packet).
"""
import os
import uuid
from pathlib import Path

import nbformat
import pytest

from grading import course as fx
from grading.conftest import leftover_cgroups, sandbox_processes
from socklab.grading.runner import grade
from socklab.grading.sandbox import GiB, Limits

pytestmark = pytest.mark.slow
S = fx.SOLUTIONS
GOOD = {"alice": S, "bob": {}, "carol": {**S, **fx.VISIBLE_ONLY}, "dave": {"a_add": S["a_add"]}}


def _bad_answers(root: Path, escape: Path) -> dict:
    partial = {k: v for k, v in S.items() if k != "a_echo"}        # ex3 blank: 7 points at most
    probes_read = [root / "grader" / "submitted" / "alice" / "fx01" / "fx01-basics.ipynb",
                   root / "grader" / "gradebook.db", root / "solutions" / "fx01" / "fx01-basics.ipynb"]
    probes_write = [root / "pwned.txt", root / "grader" / "pwned.txt", escape]
    return {
        "hang_accept": {**S, "a_add": "import socket\ndef add(a, b):\n    s = socket.create_server(('127.0.0.1', 0))\n"
                                      "    s.accept()\n    return a + b"},
        "hang_recv": {**S, "a_reverse": "import socket\ndef reverse(s):\n    a, b = socket.socketpair()\n"
                                          "    a.recv(1)\n    return s[::-1]"},
        "swallow": {**S, "a_reverse": "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
                                        "    except KeyboardInterrupt:\n        pass"},
        "os_exit": {**S, "a_reverse": "import os\nos._exit(3)"},
        "forkflood": {**partial, "a_add": (
            "import os, time\nFORKED = 0\nfor _ in range(3000):\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        try:\n            time.sleep(2)\n"
            "        finally:\n            os._exit(0)\n    FORKED += 1\nprint('forked', FORKED)\n"
            "def add(a, b):\n    return a + b")},
        "memhog": {**S, "a_add": "def add(a, b):\n    hog = []\n    for _ in range(12):\n"
                                  "        hog.append(bytes(256 << 20))\n    del hog\n    return a + b"},
        # 8 MB: eight times the per-cell cap, small enough that printing it never nears the time limit.
        "outflood": {**partial, "a_reverse": "import sys\nfor _ in range(8):\n    sys.stdout.write('x' * 1_000_000)\n"
                                             "def reverse(s):\n    return s[::-1]"},
        "netprobe": {**S, "a_add": (
            "import os, socket\nIFACES = sorted(n for _, n in socket.if_nameindex())\n"
            "ROUTES = open('/proc/net/route').read().splitlines()[1:]\nSYSNET = sorted(os.listdir('/sys/class/net'))\n"
            "probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ntry:\n"
            "    probe.connect(('192.0.2.1', 9))  # TEST-NET-1; a route lookup, no packet\n    OUT = 'route'\n"
            "except OSError:\n    OUT = 'none'\nfinally:\n    probe.close()\nprint(IFACES, ROUTES, SYSNET, OUT)\n"
            "def add(a, b):\n    return a + b if (IFACES == SYSNET == ['lo'] and not ROUTES and OUT == 'none') else None")},
        "writeout": {**S, "a_add": (
            f"ESCAPED = []\nfor target in {[str(p) for p in probes_write] + ['../escape.txt']!r}:\n    try:\n"
            "        with open(target, 'w') as fh:\n            fh.write('pwned')\n        ESCAPED.append(target)\n"
            "    except OSError:\n        pass\nprint(ESCAPED)\ndef add(a, b):\n    return a + b if not ESCAPED else None")},
        "readother": {**S, "a_add": (
            f"READ = []\nfor target in {[str(p) for p in probes_read]!r}:\n    try:\n"
            "        with open(target, 'rb') as fh:\n            fh.read(10)\n        READ.append(target)\n"
            "    except OSError:\n        pass\nprint(READ)\ndef add(a, b):\n    return a + b if not READ else None")},
    }


# student -> (expected score, word expected in the reasons or None); hostile ones submit no fx01-extra
EXPECTED = {
    "hang_accept": (8.0, "add() did not finish within"),
    "hang_recv": (7.0, "reverse() did not finish within"),
    "swallow": (2.0, "ignored the interrupt"), "os_exit": (2.0, "kernel died"),
    "forkflood": (5.0, None), "memhog": (8.0, "MemoryError"), "outflood": (5.0, "too much output"),
    "netprobe": (10.0, None), "writeout": (10.0, None), "readother": (10.0, None),
    "deleted_test": (fx.TOTAL - 3, "t_reverse was deleted"), "edited_test": (fx.TOTAL - 2, "t_add was edited"),
    "invalid_json": (2.0, "invalid JSON"), "missing_nb": (2.0, "no fx01-basics.ipynb"),
    "wrong_name": (2.0, "homework.ipynb"),
}


def _submit_broken(root: Path) -> None:
    basics = fx.release(root, "fx01-basics")
    extra = fx.fill(fx.release(root, "fx01-extra"), S)
    deleted = fx.fill(basics, S)
    deleted["cells"] = [c for c in deleted["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "t_reverse"]
    edited = fx.fill(basics, {**S, "a_add": "def add(a, b):\n    return 0", "t_add": "pass"})
    fx.submit(root, "deleted_test", {"fx01-basics": deleted, "fx01-extra": extra})
    fx.submit(root, "edited_test", {"fx01-basics": edited, "fx01-extra": extra})
    fx.submit(root, "invalid_json", {"fx01-basics": '{"cells": [ this is not json', "fx01-extra": extra})
    fx.submit(root, "missing_nb", {"fx01-extra": extra})
    fx.submit(root, "wrong_name", {"homework.ipynb": fx.fill(basics, S), "fx01-extra": extra})


def test_hostile_submissions_never_touch_good_ones(course, need_namespaces, tmp_path):
    """Does every hostile or broken submission get 0/partial with a reason, while good ones score as in a clean run?"""
    limits = Limits(cell_timeout=5, wall_seconds=120, memory_bytes=int(1.5 * GiB), processes=256)
    for student, answers in GOOD.items():
        fx.submit_answers(course, student, answers)
    escape = Path("/var/tmp") / f"socklab-escape-{uuid.uuid4().hex}.txt"
    for student, answers in _bad_answers(course, escape).items():
        # Hostile code lives in fx01-basics; fx01-extra is submitted (and graded) only where it matters.
        fx.submit(course, student, {"fx01-basics": fx.fill(fx.release(course, "fx01-basics"), answers)})
    _submit_broken(course)
    try:
        report = grade(assignment=fx.ASSIGNMENT, root=course, jobs=2, limits=limits, progress=False)
        escaped = escape.exists()
    finally:
        escape.unlink(missing_ok=True)
    assert not escaped

    # expected_score() is what a clean run gives (test_pipeline checks that against the gradebook).
    for student, answers in GOOD.items():
        assert report.student(student).score == fx.expected_score(answers), student
        assert report.student(student).status == "ok"
    for student, (score, word) in EXPECTED.items():
        row = report.student(student)
        assert row.score == score, (student, row.score, row.reasons)
        failures = [f"{gid} failed: {why}" for nb in row.notebooks.values() for gid, why in nb.failed.items()]
        assert row.reasons or failures, student
        if student in ("netprobe", "writeout", "readother"):   # full marks only if nothing leaked
            assert row.notebooks["fx01-basics"].score == 10.0
        if word:
            assert word in " ".join(row.reasons + failures), (student, row.reasons, failures)
    assert not (course / "pwned.txt").exists() and not (course / "grader" / "pwned.txt").exists()
    graded = course / "grader" / "autograded"
    assert (graded / "outflood" / "fx01" / "fx01-basics.ipynb").stat().st_size < 5_000_000
    flood = nbformat.read(graded / "forkflood" / "fx01" / "fx01-basics.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in flood.cells for o in c.get("outputs", []))
    forked = int(printed.split("forked", 1)[1].split()[0])
    if os.geteuid() != 0 or Path("/sys/fs/cgroup/pids").is_dir():
        assert forked < 3000, "the process cap did not hold"
    assert sandbox_processes() == [] and leftover_cgroups() == []

"""Grades a student cannot fake: every cheat of tests/grading/cheats.py, graded in ONE run beside a
solved and a blank submission, scores 0 with a reason, and the good ones keep their marks. The same
submissions then go through plain `nbgrader autograde`, to count how many of the cheats it falls to.
"""
import os
import shutil
import subprocess
import sys

import pytest

from grading import cheats as cx
from grading.conftest import sandbox_processes
from socklab.grading import gradebook as gbk
from socklab.grading.runner import grade
from socklab.grading.sandbox import Limits
from support import nbgrader_ipc_flags

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def cheat_course(tmp_path):
    root = cx.make_course(tmp_path / "course")
    elsewhere = tmp_path / "elsewhere"          # another copy of the course on the machine
    shutil.copytree(root / "solutions", elsewhere / "solutions")
    kinds = cx.cheats(root, elsewhere)
    for kind, cheat in kinds.items():
        cx.submit_cheat(root, kind, cheat)
    cx.submit_good(root, "solver", cx.SOLUTIONS)
    cx.submit_good(root, "blank", {})
    return root, kinds


def test_no_cheat_scores_and_plain_nbgrader_falls_for_many(cheat_course, need_namespaces, capsys):
    """Does every cheat score 0 (with the failed tests named) while solved and blank work score 10 and 0,
    and how many of the same cheats does plain nbgrader autograde give points to?"""
    root, kinds = cheat_course
    plain = root.parent / "plain-course"        # the same course and submissions, for plain nbgrader
    shutil.copytree(root, plain)
    report = grade(assignment=cx.ASSIGNMENT, root=root, jobs=2, limits=Limits(cell_timeout=10, wall_seconds=180),
                   progress=False)
    assert report.student("solver").score == cx.TOTAL, report.text()
    assert report.student("blank").score == 0
    for kind in kinds:
        row = report.student(kind)
        nb = row.notebooks[cx.NAME]
        assert row.score == 0, (kind, row.score, nb.failed, row.reasons)
        assert row.max_score == cx.TOTAL, (kind, row.max_score)          # points x10 never sticks
        assert set(nb.failed) == {"t_add", "t_double", "t_echo", "t_word"}, (kind, nb.failed)
    graded = root / "grader" / "autograded"
    reach = cx.printed(graded / "process_reach_and_forged_frames" / cx.ASSIGNMENT / f"{cx.NAME}.ipynb")
    assert "REACHED 0" in reach, reach        # saw no process but its own (and forged frames earned nothing)
    page = (root / "grader" / "feedback" / "echo_hidden_tests" / cx.ASSIGNMENT / "socklab-feedback.html").read_text()
    assert cx.HIDDEN_LINE not in page and "assert double(-3)" not in page
    assert sandbox_processes() == []

    # The same submissions through plain nbgrader. It refuses some (a partial credit above the
    # maximum): those earn nothing there either, so its exit status does not matter here.
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", cx.ASSIGNMENT, "--force", *nbgrader_ipc_flags()], cwd=plain,
                   capture_output=True, timeout=800, env=env)
    fell = {}
    coursedir = gbk.course_directory(gbk.load_config(plain), cx.ASSIGNMENT)
    for kind in kinds:
        try:
            score = gbk.scores(coursedir, cx.ASSIGNMENT, kind)["score"]
        except Exception:  # noqa: BLE001 - nbgrader gave up on this submission: no score
            score = 0.0
        path = plain / "grader" / "autograded" / kind / cx.ASSIGNMENT / f"{cx.NAME}.ipynb"
        text = cx.printed(path) if path.is_file() else ""
        reached = kind.startswith("process_reach") and "REACHED 0" not in text
        if score > 0 or reached:
            fell[kind] = score
    with capsys.disabled():
        print(f"\nplain nbgrader autograde falls to {len(fell)} of {len(kinds)} cheat kinds: {fell}")
    assert len(fell) >= len(kinds) // 2, fell   # the anchor's gap is real, so this suite proves something

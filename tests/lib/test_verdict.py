"""The verdict of `socklab check` / Validate: which tests ran, and what is graded by hand."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from socklab import workspace
from socklab.verdict import hand_graded, summary_lines

REPO = Path(__file__).resolve().parents[2]


def test_hand_graded_exercise_is_found_with_its_number_and_points():
    """Is exercise 9 of 03.2, a written answer, listed as "연습 9 (5점): 강사 채점 / graded by hand"?"""
    (only,) = hand_graded(REPO / "notebooks" / "ch03" / "03.2-network-models.ipynb")
    assert only.line() == "연습 9 (5점): 강사 채점 / graded by hand (q03_9_models_written)"
    assert hand_graded(REPO / "notebooks" / "ch03" / "03.1-what-is-a-socket.ipynb") == []


@pytest.mark.slow
def test_check_from_the_workspace_runs_hidden_tests_and_lists_hand_grading(tmp_path):
    """Does `socklab check work/ch03/03.2-...` find the hidden tests in solutions/ and name the hand-graded exercise?"""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", root)
    for folder in ("solutions", "notebooks"):
        shutil.copytree(REPO / folder, root / folder)
    workspace.sync(root=root)
    done = subprocess.run([sys.executable, "-m", "socklab.cli", "check", "work/ch03/03.2-network-models.ipynb"],
                          cwd=root, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr   # a blank notebook fails
    assert "with hidden tests" in done.stdout
    assert "✎ 연습 9 (5점): 강사 채점 / graded by hand" in done.stdout


@pytest.mark.slow
def test_verdict_without_sources_says_only_visible_tests_ran(tmp_path):
    """Where solutions/ is absent (a class), does the verdict say only the visible tests ran?"""
    from socklab.grading.check import check

    notebook = tmp_path / "ch03" / "03.3-service-ports.ipynb"
    notebook.parent.mkdir()
    shutil.copy2(REPO / "notebooks" / "ch03" / notebook.name, notebook)
    report = check(notebook=notebook, quiet=True)
    lines = summary_lines(report, notebook)
    assert not report.hidden_tests
    assert lines[0].endswith("only the visible tests ran; the grader adds hidden tests")
    assert lines[1] == f"자동 채점 / autograded: 0 / {report.max_score:g}점"

"""`socklab check`: the student's self-check runs the grader's tests and explains the result."""
import io
import json
import shutil

import pytest

from grading import course as fx
from socklab.cli import main
from socklab.grading.check import check

pytestmark = pytest.mark.slow


def _student_copy(course, answers, name="fx01-basics"):
    path = course / "notebooks" / fx.ASSIGNMENT / f"{name}.ipynb"
    path.write_text(json.dumps(fx.fill(fx.release(course, name), answers)))
    return path


def test_check_uses_hidden_tests_when_the_source_is_present(course, need_namespaces):
    """Does a notebook that only satisfies the visible tests fail the check when the source is present?"""
    path = _student_copy(course, {**fx.SOLUTIONS, **fx.VISIBLE_ONLY})
    out = io.StringIO()
    report = check(notebook=path, out=out)
    assert report.hidden_tests and report.exit_code == 1
    verdict = {e.grade_id: e.passed for e in report.exercises}
    assert verdict == {"t_add": False, "t_reverse": False, "t_echo": True}
    assert report.score == 5 and report.max_score == 10
    text = out.getvalue()
    assert "✗ FAILED" in text and "t_add" in text and "hidden" in text
    assert "add(-1, 1)" not in text


def test_check_passes_a_correct_notebook_and_cli_exit_codes(course, tmp_path, need_namespaces):
    """Does a correct notebook pass (exit 0), and does the CLI return non-zero on failure?"""
    good = _student_copy(course, fx.SOLUTIONS)
    assert check(notebook=good, quiet=True).exit_code == 0
    assert main(["check", str(good)]) == 0
    blank = tmp_path / "fx01" / "fx01-extra.ipynb"       # no source nearby: visible tests only
    blank.parent.mkdir()
    shutil.copy(course / "notebooks" / fx.ASSIGNMENT / "fx01-extra.ipynb", blank)
    report = check(notebook=blank, quiet=True)
    assert not report.hidden_tests and report.exit_code == 1
    assert "NotImplementedError" in report.exercises[0].message or "NameError" in report.exercises[0].message
    assert main(["check", str(blank)]) == 1


def test_check_reports_a_deleted_test_and_bad_paths(course, tmp_path, need_namespaces):
    """Is a deleted test cell reported as a failure, and a missing file as a clear error?"""
    nb = fx.fill(fx.release(course, "fx01-extra"), fx.SOLUTIONS)
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "t_double"]
    path = course / "notebooks" / fx.ASSIGNMENT / "fx01-extra.ipynb"
    path.write_text(json.dumps(nb))
    report = check(notebook=path, quiet=True)
    assert report.exit_code == 1 and any("t_double" in p for p in report.problems)
    with pytest.raises(FileNotFoundError, match="saved .ipynb"):
        check(notebook=tmp_path / "nope.ipynb")
    assert main(["check", str(tmp_path / "nope.ipynb")]) == 2

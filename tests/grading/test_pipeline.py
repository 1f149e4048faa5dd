"""End-to-end grading of the fixture course: gradebook, CSV, nbgrader parity, import, feedback."""
import doctest
import json
import shutil
import zipfile

import pytest

from grading import course as fx
from grading.conftest import sandbox_processes
from socklab.cli import main
from socklab.grading import feedback, gradebook, submissions
from socklab.grading.report import read_csv
from socklab.grading.runner import grade

pytestmark = pytest.mark.slow

STUDENTS = {
    "alice": fx.SOLUTIONS,
    "bob": {},
    "carol": {**fx.SOLUTIONS, **fx.VISIBLE_ONLY},
    "dave": {"a_add": fx.SOLUTIONS["a_add"], "a_double": fx.SOLUTIONS["a_double"]},
}


def _db_scores(root, student):
    config = gradebook.load_config(root)
    return gradebook.scores(gradebook.course_directory(config, fx.ASSIGNMENT), fx.ASSIGNMENT, student)


def test_scores_are_exact_in_gradebook_csv_and_feedback(course, need_namespaces):
    """Do correct, blank and partly correct submissions get exactly their points in gradebook, CSV and feedback?"""
    for student, answers in STUDENTS.items():
        fx.submit_answers(course, student, answers)
    report = grade(assignment=fx.ASSIGNMENT, root=course, jobs=2, progress=False)
    rows = read_csv(report.csv_path)
    for student, answers in STUDENTS.items():
        want = fx.expected_score(answers)
        assert _db_scores(course, student)["score"] == want, student
        assert float(rows[student]["score"]) == want and float(rows[student]["max_score"]) == fx.TOTAL
        assert report.student(student).score == want
        assert report.student(student).status == "ok", report.student(student).reasons
    assert report.isolation == "namespace"
    assert sandbox_processes() == []
    # Feedback: pass/fail, points and hints, never hidden test source.
    page = report.student("carol").feedback.read_text()
    assert "t_add" in page and "0 / 2" in page and "2 / 2" in page and "5 / 5" in page
    assert "passed" in page and "failed" in page and "a hidden test failed" in page
    for secret in ("add(-1, 1)", "reverse('xy')", "BEGIN HIDDEN", "double(-3)", "assert"):
        assert secret not in page


def test_same_scores_as_nbgrader_autograde(course, course_template, tmp_path, need_namespaces):
    """Does socklab grade give every notebook the score nbgrader's own autograde gives?"""
    for student, answers in STUDENTS.items():
        fx.submit_answers(course, student, answers)
    twin = tmp_path / "twin"
    shutil.copytree(course, twin)
    fx.run_nbgrader(twin, "autograde", fx.ASSIGNMENT, "--force")
    grade(assignment=fx.ASSIGNMENT, root=course, jobs=2, progress=False)
    for student in STUDENTS:
        ours, theirs = _db_scores(course, student), _db_scores(twin, student)
        assert ours["score"] == theirs["score"], student
        for name, nb in theirs["notebooks"].items():
            assert ours["notebooks"][name]["grades"] == nb["grades"], (student, name)


def test_regrading_one_student_leaves_the_others(course, need_namespaces):
    """Does `socklab grade --student` regrade just that student?"""
    fx.submit_answers(course, "alice", fx.SOLUTIONS)
    fx.submit_answers(course, "bob", {})
    grade(assignment=fx.ASSIGNMENT, root=course, jobs=2, progress=False)
    fx.submit_answers(course, "bob", {"a_double": fx.SOLUTIONS["a_double"]})
    code = main(["grade", fx.ASSIGNMENT, "--root", str(course), "--student", "bob", "--jobs", "1", "--no-progress"])
    assert code == 0
    rows = read_csv(course / "grader" / "reports" / "fx01-grades.csv")
    assert float(rows["bob"]["score"]) == 2.0 and rows["bob"]["status"] == "ok"
    assert float(rows["alice"]["score"]) == fx.TOTAL and rows["alice"]["status"] == "earlier run"
    assert _db_scores(course, "bob")["score"] == 2.0
    assert _db_scores(course, "alice")["score"] == fx.TOTAL


def test_lms_zip_import_reports_what_it_cannot_match(course, tmp_path, need_namespaces):
    """Does importing an LMS zip take the student id from the file name and report the rest?"""
    export = tmp_path / "export.zip"
    good = fx.fill(fx.release(course, "fx01-basics"), fx.SOLUTIONS)
    extra = fx.fill(fx.release(course, "fx01-extra"), fx.SOLUTIONS)
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("20231234_fx01-basics.ipynb", json.dumps(good))
        zf.writestr("20231234_fx01-extra.ipynb", json.dumps(extra))
        zf.writestr("kim/fx01-extra.ipynb", json.dumps(extra))
        zf.writestr("homework.ipynb", json.dumps(good))
        zf.writestr("notes.txt", "hello")
    report = grade(assignment=fx.ASSIGNMENT, root=course, jobs=2, import_path=export, progress=False)
    assert sorted(report.imported.imported) == [("20231234", "fx01-basics", "20231234_fx01-basics.ipynb"),
                                               ("20231234", "fx01-extra", "20231234_fx01-extra.ipynb"),
                                               ("kim", "fx01-extra", "kim/fx01-extra.ipynb")]
    unmatched = dict(report.imported.unmatched)
    assert "matches no notebook" in unmatched["homework.ipynb"] and "not a notebook" in unmatched["notes.txt"]
    assert report.student("20231234").score == fx.TOTAL
    assert report.student("kim").score == 2.0
    assert "no fx01-basics.ipynb" in " ".join(report.student("kim").reasons)


def test_fallback_without_namespaces_warns_and_still_grades(course):
    """When isolation is off, is there a clear warning and are scores still right?"""
    fx.submit_answers(course, "alice", fx.SOLUTIONS)
    report = grade(assignment=fx.ASSIGNMENT, root=course, jobs=1, isolation="none", progress=False)
    assert report.isolation == "none"
    assert any("isolation is OFF" in w for w in report.warnings)
    assert report.student("alice").score == fx.TOTAL
    assert sandbox_processes() == []


def test_missing_course_and_assignment_errors_say_what_to_do(course, tmp_path):
    """Do a wrong root or assignment name give an error that says what to do?"""
    with pytest.raises(FileNotFoundError, match="nbgrader_config.py"):
        grade(assignment=fx.ASSIGNMENT, root=tmp_path / "nowhere", progress=False)
    with pytest.raises(FileNotFoundError, match="no source folder"):
        grade(assignment="ch99", root=course, progress=False)
    with pytest.raises(FileNotFoundError, match="no submissions"):
        grade(assignment=fx.ASSIGNMENT, root=course, progress=False)


def test_doctests():
    """Do the documented examples in the grading modules hold?"""
    for module in (submissions, feedback):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0

"""ch03 end to end: the real course notebooks graded in the sandbox."""
import pytest

from grading import course as fx
from socklab.grading.runner import grade

pytestmark = pytest.mark.slow
CH03 = fx.Path(__file__).resolve().parents[2] / "solutions" / "ch03"


@pytest.fixture(scope="module")
def ch03_course(tmp_path_factory):
    if not any(CH03.glob("*.ipynb")):
        pytest.skip("solutions/ch03 has no notebooks yet")
    return fx.copy_course(tmp_path_factory.mktemp("ch03") / "course", CH03, timeout=30)


def test_ch03_solutions_earn_every_autograded_point_and_blank_earns_none(ch03_course, need_namespaces):
    """Does the instructor's own work earn every autograded point of ch03, and blank work none?"""
    names = sorted(p.stem for p in CH03.glob("*.ipynb"))
    for student, full in (("solver", True), ("blank", False)):
        fx.submit(ch03_course, student, {
            name: fx.fill(fx.release_of(ch03_course, "ch03", name),
                          fx.solution_answers(ch03_course, "ch03", name) if full else {})
            for name in names}, assignment="ch03")
    report = grade(assignment="ch03", root=ch03_course, jobs=2, progress=False)
    solver, blank = report.student("solver"), report.student("blank")
    assert solver.status == "ok" and blank.max_score >= 50, (solver.reasons, blank.max_score)
    for nb in solver.notebooks.values():
        manual = fx.solution_answers(ch03_course, "ch03", nb.name)   # graded solution cells: by hand
        for grade_id, (score, max_score) in nb.grades.items():
            assert grade_id in manual or score == max_score, (nb.name, grade_id, score, max_score)
    assert blank.score == 0

"""ch06 end to end: the real chapter-6 notebooks graded in the sandbox (forks and threads included)."""
import pytest

from grading import course as fx
from socklab.grading.runner import grade

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")]
CH06 = fx.Path(__file__).resolve().parents[2] / "solutions" / "ch06"

# Three wrong answers, each losing exactly one robustness or concept cell (4 points each).
WRONG = {
    "q06_1_forking_answer": ("    while served < n_clients:\n        reap()", "    while served < n_clients:"),  # zombies
    "q06_2_pool_answer": ("            pool.submit(handle, conn)",
                          "            threading.Thread(target=handle, args=(conn,)).start()"),  # unbounded
    "q06_6_models_answer": ('"Overlapped": "completion"', '"Overlapped": "readiness"'),
}
LOST = {"q06_1_forking_robust": 4, "q06_2_pool_robust": 4, "q06_6_models": 4}


@pytest.fixture(scope="module")
def ch06_course(tmp_path_factory):
    return fx.copy_course(tmp_path_factory.mktemp("ch06") / "course", CH06, timeout=30)


def test_ch06_scores_are_exact_for_a_correct_and_a_partly_wrong_submission(ch06_course, need_namespaces):
    """In the sandbox (pids limit, rlimits), does a correct ch06 submission earn every point and one with
    three known mistakes lose exactly those cells' points?"""
    names = sorted(p.stem for p in CH06.glob("*.ipynb"))
    for student, wrong in (("solver", False), ("partly", True)):
        notebooks = {}
        for name in names:
            answers = fx.solution_answers(ch06_course, "ch06", name)
            if wrong:
                for grade_id, (old, new) in WRONG.items():
                    if grade_id in answers:
                        assert old in answers[grade_id], grade_id
                        answers[grade_id] = answers[grade_id].replace(old, new)
            notebooks[name] = fx.fill(fx.release_of(ch06_course, "ch06", name), answers)
        fx.submit(ch06_course, student, notebooks, assignment="ch06")
    report = grade(assignment="ch06", root=ch06_course, jobs=2, progress=False)
    solver, partly = report.student("solver"), report.student("partly")
    assert solver.status == "ok", solver.reasons
    assert solver.max_score == 59 and solver.score == 59, [(nb.name, nb.grades) for nb in solver.notebooks.values()]
    got = {gid: score for nb in partly.notebooks.values() for gid, (score, _) in nb.grades.items()}
    full = {gid: mx for nb in partly.notebooks.values() for gid, (_, mx) in nb.grades.items()}
    assert {gid for gid in got if got[gid] != full[gid]} == set(LOST), got
    assert partly.score == 59 - sum(LOST.values())

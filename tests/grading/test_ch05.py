"""ch05 end to end: the UDP chapter graded by `socklab grade` in the sandbox, with exact scores."""
import shutil

import pytest

from grading import course as fx
from socklab.grading.runner import grade

pytestmark = pytest.mark.slow
CH05 = fx.Path(__file__).resolve().parents[2] / "solutions" / "ch05"

# Three mistakes, each costing exactly one grade cell: (notebook, answer cell, old, new, grade cell lost).
MISTAKES = [
    ("05.1-udp-sockets", "q05_1_echo_client_answer", "if peer[:2] == (host, port):", "if True:",
     "q05_1_echo_client_robust"),
    ("05.2-loss-and-timeouts", "q05_4_rto_answer",
     "            rttvar = (1 - beta) * rttvar + beta * abs(srtt - r)\n            srtt = (1 - alpha) * srtt + alpha * r",
     "            srtt = (1 - alpha) * srtt + alpha * r\n            rttvar = (1 - beta) * rttvar + beta * abs(srtt - r)",
     "q05_4_rto"),
    ("05.3-reliable-transfer", "q05_7_sliding_window_answer", "next_seq < base + window", "next_seq < base + 1",
     "q05_7_sliding_window_robust"),
]


@pytest.fixture(scope="module")
def ch05_course(tmp_path_factory):
    # Only the notebooks: the .md text sources are not part of what nbgrader releases.
    source = tmp_path_factory.mktemp("src") / "ch05"
    source.mkdir()
    for nb in CH05.glob("*.ipynb"):
        shutil.copy(nb, source / nb.name)
    return fx.copy_course(tmp_path_factory.mktemp("ch05") / "course", source, timeout=30)


def test_ch05_grades_a_correct_a_partly_wrong_and_a_blank_submission_exactly(ch05_course, need_namespaces):
    """Does `socklab grade ch05` give the instructor's answers every point, a submission with three
    mistakes exactly the points of the cells those mistakes do not touch, and a blank one zero?"""
    names = sorted(p.stem for p in CH05.glob("*.ipynb"))
    answers = {name: fx.solution_answers(ch05_course, "ch05", name) for name in names}
    wrong = {name: dict(a) for name, a in answers.items()}
    for name, cell, old, new, _ in MISTAKES:
        assert old in wrong[name][cell], f"the solution changed; update the mistake in {cell}"
        wrong[name][cell] = wrong[name][cell].replace(old, new)
    for student, chosen in (("solver", answers), ("careless", wrong), ("blank", {n: {} for n in names})):
        fx.submit(ch05_course, student, {name: fx.fill(fx.release_of(ch05_course, "ch05", name), chosen[name])
                                         for name in names}, assignment="ch05")
    report = grade(assignment="ch05", root=ch05_course, jobs=2, progress=False)

    solver, careless, blank = (report.student(s) for s in ("solver", "careless", "blank"))
    assert solver.status == "ok", solver.reasons
    assert solver.max_score == 62 and solver.score == 62
    lost = {cell for *_, cell in MISTAKES}
    for nb in careless.notebooks.values():
        for grade_id, (score, max_score) in nb.grades.items():
            assert score == (0 if grade_id in lost else max_score), (nb.name, grade_id, score)
    assert careless.score == 62 - 4 - 4 - 6
    assert blank.score == 0 and blank.max_score == 62

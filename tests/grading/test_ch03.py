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
    """Does the instructor's own work earn every autograded point of ch03, blank work none, and do a
    manual grade and `nbgrader export` see those scores?"""
    names = sorted(p.stem for p in CH03.glob("*.ipynb"))
    for student, full in (("solver", True), ("blank", False)):
        fx.submit(ch03_course, student, {
            name: fx.fill(fx.release_of(ch03_course, "ch03", name),
                          fx.solution_answers(ch03_course, "ch03", name) if full else {})
            for name in names}, assignment="ch03")
    # Exercise 12 asks to read the kernel's ephemeral range: typing in Linux's default must not pass,
    # and the sandbox gives its network namespace a range no system ships.
    ports = "03.3-service-ports"
    answers = fx.solution_answers(ch03_course, "ch03", ports)
    typed = answers["q03_12_ephemeral_answer"]
    start, end = typed.index("    try:\n"), typed.index("def my_ephemeral_port")
    answers["q03_12_ephemeral_answer"] = typed[:start] + "    return 32768, 60999\n\n" + typed[end:]
    fx.submit(ch03_course, "typist", {ports: fx.fill(fx.release_of(ch03_course, "ch03", ports), answers)},
              assignment="ch03")
    report = grade(assignment="ch03", root=ch03_course, jobs=2, progress=False)
    solver, blank = report.student("solver"), report.student("blank")
    typist = report.student("typist").notebooks[ports].grades
    assert typist["q03_12_ephemeral"][0] == 0, typist
    assert all(score == top for gid, (score, top) in typist.items() if gid not in ("q03_12_ephemeral", *answers)), typist
    assert solver.status == "ok" and blank.max_score >= 50, (solver.reasons, blank.max_score)
    for nb in solver.notebooks.values():
        manual = fx.solution_answers(ch03_course, "ch03", nb.name)   # graded solution cells: by hand
        for grade_id, (score, max_score) in nb.grades.items():
            assert grade_id in manual or score == max_score, (nb.name, grade_id, score, max_score)
    assert blank.score == 0

    # The instructor's side keeps working on our gradebook: a manual grade for the written answer
    # (what formgrader stores) and the real `nbgrader export` both see socklab's scores.
    import csv

    from nbgrader.api import Gradebook
    autograded = solver.score
    with Gradebook(f"sqlite:///{ch03_course / 'grader' / 'gradebook.db'}") as gb:
        written = gb.find_grade("q03_9_models_written", "03.2-network-models", "ch03", "solver")
        assert written.max_score > 0 and written.needs_manual_grade
        written.manual_score = written.max_score - 1
        gb.db.commit()
        expected_total = autograded + written.max_score - 1
    out = ch03_course / "grades.csv"
    fx.run_nbgrader(ch03_course, "export", "--to", str(out))
    with out.open(newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert float(rows["solver"]["score"]) == expected_total, rows["solver"]
    assert float(rows["blank"]["score"]) == 0

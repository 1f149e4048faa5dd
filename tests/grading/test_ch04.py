"""ch04 end to end: the real chapter-4 notebooks graded in the sandbox, with exact scores."""
import shutil

import pytest

from grading import course as fx
from socklab.grading.runner import grade

pytestmark = pytest.mark.slow
CH04 = fx.Path(__file__).resolve().parents[2] / "solutions" / "ch04"

# A submission with one realistic bug per exercise (or no answer), and the points it must earn.
BUGS = {
    "q04_1_addresses_answer": ('(("IPv4", socket.AF_INET), ("IPv6", socket.AF_INET6))', '(("IPv4", socket.AF_INET),)'),   # 0 of 4
    "q04_2_dual_stack_answer": ("            last_error = exc\n            sock.close()\n            continue",
                                "            sock.close()\n            raise"),                                         # 3 of 6
    "q04_3_calc_packets_answer": None,                                                                                   # 0 of 4
    "q04_4_calc_server_answer": ("if version != 1:\n                        status = 3\n                    elif op == 1:", "if op == 1:"),  # 5 of 10
    "q04_5_framing_answer": ('sock.sendall(struct.pack("!I", len(payload)) + payload)', 'sock.send(struct.pack("!I", len(payload)) + payload)'),  # 5 of 10
    "q04_6_line_server_answer": ('line = raw.decode("utf-8").removesuffix("\\r")', 'line = raw.decode("utf-8")'),       # 4 of 8
    "q04_7_errors_answer": ('return errno.errorcode.get(exc.errno, f"errno {exc.errno}"), received',
                            'return errno.errorcode.get(exc.errno, f"errno {exc.errno}"), b""'),                          # 4 of 8
    "q04_8_restart_answer": ('sock.bind(("127.0.0.1", port))', 'sock.bind(("", port))'),                                # 3 of 6
}
BUGGY_SCORES = {"q04_1_addresses": 0, "q04_2_dual_stack": 3, "q04_2_dual_stack_robust": 0, "q04_3_calc_packets": 0,
                "q04_4_calc_server": 5, "q04_4_calc_server_robust": 0, "q04_5_framing": 5, "q04_5_framing_robust": 0,
                "q04_6_line_server": 0, "q04_6_line_server_robust": 4, "q04_7_errors": 4, "q04_7_errors_robust": 0,
                "q04_8_restart": 3, "q04_8_restart_robust": 0}


@pytest.fixture(scope="module")
def ch04_course(tmp_path_factory):
    notebooks_only = tmp_path_factory.mktemp("ch04-src") / "ch04"
    notebooks_only.mkdir()
    for nb in CH04.glob("*.ipynb"):          # the notebooks, not their MyST sources
        shutil.copy(nb, notebooks_only / nb.name)
    return fx.copy_course(tmp_path_factory.mktemp("ch04") / "course", notebooks_only, timeout=30)


def _buggy(answers: dict[str, str]) -> dict[str, str]:
    out = {}
    for grade_id, text in answers.items():
        if grade_id not in BUGS:
            out[grade_id] = text
        elif BUGS[grade_id] is not None:
            old, new = BUGS[grade_id]
            assert old in text, grade_id
            out[grade_id] = text.replace(old, new, 1)
    return out


def test_ch04_solutions_earn_every_point_and_a_buggy_submission_earns_exactly_its_share(ch04_course, need_namespaces):
    """In the sandbox, does the instructor's work earn all ch04 points, and a submission with one bug per
    exercise exactly the basic/robustness points its bugs leave (blank work none)?"""
    names = sorted(p.stem for p in CH04.glob("*.ipynb"))
    for student, make in (("solver", lambda a: a), ("buggy", _buggy), ("blank", lambda a: {})):
        fx.submit(ch04_course, student, {
            name: fx.fill(fx.release_of(ch04_course, "ch04", name), make(fx.solution_answers(ch04_course, "ch04", name)))
            for name in names}, assignment="ch04")
    report = grade(assignment="ch04", root=ch04_course, jobs=2, progress=False)
    solver, buggy, blank = report.student("solver"), report.student("buggy"), report.student("blank")
    assert solver.status == "ok", solver.reasons
    assert solver.max_score == 56 and solver.score == 56, [(nb.name, nb.grades) for nb in solver.notebooks.values()]
    got = {gid: score for nb in buggy.notebooks.values() for gid, (score, _) in nb.grades.items()}
    assert got == BUGGY_SCORES
    assert buggy.score == sum(BUGGY_SCORES.values()) == 24
    assert blank.score == 0

"""The README's "Adding an exercise", followed word for word in a scratch copy of the course."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grading import course as fx
from socklab.cli import main
from support import copy_course

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "03.3-service-ports"
# Plausible and wrong: one recv() gets a short reply whole, never 100 KiB.
WRONG = '''import socket

def echo_once(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        return sock.recv(4096)
'''


def readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Adding an exercise\n(.*?)^## (?!연습)", text, re.S | re.M)
    assert match, "README has no 'Adding an exercise' section"
    return match.group(1)


def test_readme_exercise_releases_and_grades_right_and_wrong(tmp_path, capsys):
    """Appending the README's cells, raising the map's points and releasing: does `socklab grade` give the
    reference answer the new points and a single-recv answer none of them?"""
    section = readme_section()
    target = re.search(r"appended to the end of `(solutions/ch\d\d/[^`]+\.md)`", section).group(1)
    assert target == f"solutions/ch03/{NOTEBOOK}.md"
    cells = re.search(r"^````markdown\n(.*?)^````$", section, re.S | re.M).group(1)
    added = int(re.search(r"raise `points` of `" + re.escape(NOTEBOOK) + r"` by the grade cell's points \((\d+)\)",
                          section).group(1))
    assert re.search(rf"grade: true\n  grade_id: (\w+)\n  locked: true\n  points: {added}\n", cells)
    grade_id = re.search(r"grade: true\n  grade_id: (\w+)\n", cells).group(1)
    assert "socklab grade ch03" in section and "make release" in section

    root = copy_course(tmp_path / "course", REPO)

    # 1. the cells, at the end of the notebook's source
    md = root / target
    md.write_text(md.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + cells, encoding="utf-8")
    # 2. the map: this notebook's points, raised by the new grade cell's
    toml = root / "course.toml"
    block = re.compile(r'(file = "' + re.escape(NOTEBOOK) + r'"(?:\n[^\[\n].*)*?\n\s*points = )(\d+)')
    old = int(block.search(toml.read_text(encoding="utf-8")).group(2))
    toml.write_text(block.sub(lambda m: m.group(1) + str(old + added), toml.read_text(encoding="utf-8"), count=1),
                    encoding="utf-8")
    # 3. make release (= socklab release)
    assert main(["release", "--root", str(root)]) == 0, capsys.readouterr().out
    student = json.loads((root / "notebooks" / "ch03" / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8"))
    shown = "".join("".join(c["source"]) for c in student["cells"])
    assert "echo_once" in shown and "BEGIN SOLUTION" not in shown and "bytes(range(256))" not in shown

    # 4. two submissions of this notebook: the reference answers, and the same with a wrong exercise 15
    answers = fx.solution_answers(root, "ch03", NOTEBOOK)
    assert f"{grade_id}_answer" in answers
    released = fx.release_of(root, "ch03", NOTEBOOK)
    fx.submit(root, "right", {NOTEBOOK: fx.fill(released, answers)}, assignment="ch03")
    fx.submit(root, "wrong", {NOTEBOOK: fx.fill(released, {**answers, f"{grade_id}_answer": WRONG})}, assignment="ch03")
    assert main(["grade", "ch03", "--root", str(root), "--jobs", "2", "--no-progress"]) == 0, capsys.readouterr()

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'grader' / 'gradebook.db'}") as gb:
        new = {s: gb.find_grade(grade_id, NOTEBOOK, "ch03", s).score for s in ("right", "wrong")}
        total = {s: gb.find_submission_notebook(NOTEBOOK, "ch03", s).score for s in ("right", "wrong")}
    assert new == {"right": added, "wrong": 0}, new
    assert total == {"right": old + added, "wrong": old}, total

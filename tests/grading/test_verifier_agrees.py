"""The same test cell, two places: the student's own kernel (instant feedback) and the verifier
(the official verdict, through `socklab grade`). They must agree, cell by cell, on every good,
wrong and blank answer of every chapter: the solutions, the released blanks, and the wrong
answers the chapter's tests keep (tests/notebooks/test_hidden_tests.py for ch03, the buggy
submissions of tests/grading/test_ch04/05/06.py).
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from grading import course as fx
from grading import test_ch04, test_ch05, test_ch06
from socklab.grading.runner import grade

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "notebooks"))
import nbtools  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]
CHAPTERS = ["ch03", "ch04", "ch05", "ch06"]


def _ch03_wrong(name: str, answers: dict[str, str]) -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("hidden_wrong", ROOT / "tests" / "notebooks" / "test_hidden_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    wrong = {f"{gid}_answer": make() for gid, make in module.WRONG.items()}
    return {gid: wrong.get(gid, text) for gid, text in answers.items()}


def _edits(answers: dict[str, str], edits: dict[str, tuple[str, str]]) -> dict[str, str]:
    out = dict(answers)
    for gid, (old, new) in edits.items():
        if gid in out:
            assert old in out[gid], f"the solution changed; update the wrong answer of {gid}"
            out[gid] = out[gid].replace(old, new, 1)
    return out


def _wrong(chapter: str, name: str, answers: dict[str, str]) -> dict[str, str]:
    """The chapter's wrong corpus applied to the solution answers of notebook `name`."""
    if chapter == "ch03":
        return _ch03_wrong(name, answers)
    if chapter == "ch04":
        return test_ch04._buggy(answers)
    if chapter == "ch05":
        return _edits(answers, {cell: (old, new) for nb, cell, old, new, _ in test_ch05.MISTAKES if nb == name})
    return _edits(answers, test_ch06.WRONG)


def _in_kernel(chapter: str, name: str, answers: dict[str, str], folder: Path) -> dict[str, bool]:
    """Each test cell's verdict in a plain kernel: the solution notebook (hidden tests included, as
    the verifier restores them) with its answer cells set to `answers` (released blanks elsewhere)."""
    nb = nbtools.load(ROOT / "solutions" / chapter / f"{name}.ipynb")
    blank = {nbtools.nbgrader_meta(c).get("grade_id"): nbtools.source(c)
             for c in nbtools.load(ROOT / "notebooks" / chapter / f"{name}.ipynb")["cells"]}
    for cell in nb["cells"]:
        meta = nbtools.nbgrader_meta(cell)
        if meta.get("solution"):
            cell["source"] = answers.get(meta["grade_id"], blank[meta["grade_id"]])
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    run = nbtools.execute(path, nbgrader="autograde", timeout=30)
    return {nbtools.nbgrader_meta(c)["grade_id"]: not run.errors(c) for c in run.nb.cells
            if c.cell_type == "code" and nbtools.nbgrader_meta(c).get("grade")
            and not nbtools.nbgrader_meta(c).get("solution")}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_kernel_and_verifier_agree(tmp_path, need_namespaces, chapter):
    """Does every test cell of the chapter give the same verdict in the student's kernel and in the
    verifier, for the solutions (all pass), the blanks (none pass) and the wrong answers (not all pass)?"""
    source = tmp_path / "src" / chapter
    source.mkdir(parents=True)
    names = sorted(p.stem for p in (ROOT / "solutions" / chapter).glob("*.ipynb"))
    for name in names:
        (source / f"{name}.ipynb").write_bytes((ROOT / "solutions" / chapter / f"{name}.ipynb").read_bytes())
    course = fx.copy_course(tmp_path / "course", source, timeout=30)
    variants = {}
    for name in names:
        solved = fx.solution_answers(course, chapter, name)
        variants[("solved", name)] = solved
        variants[("blank", name)] = {}
        variants[("wrong", name)] = _wrong(chapter, name, solved)
    for kind in ("solved", "blank", "wrong"):
        fx.submit(course, kind, {name: fx.fill(fx.release_of(course, chapter, name), variants[(kind, name)])
                                 for name in names}, assignment=chapter)
    report = grade(assignment=chapter, root=course, jobs=2, progress=False)
    scratch = tmp_path / "kernel" / chapter
    scratch.mkdir(parents=True)
    for kind in ("solved", "blank", "wrong"):
        row = report.student(kind)
        in_verifier, in_kernel = {}, {}
        for name in names:
            in_verifier.update({gid: score == top > 0 for gid, (score, top) in row.notebooks[name].grades.items()})
            in_kernel.update(_in_kernel(chapter, name, variants[(kind, name)], scratch))
        in_verifier = {gid: ok for gid, ok in in_verifier.items() if gid in in_kernel}   # not written answers
        assert in_verifier == in_kernel, (kind, {g: (in_kernel[g], in_verifier.get(g)) for g in in_kernel
                                                 if in_kernel[g] != in_verifier.get(g)}, report.text())
        if kind == "solved":
            assert all(in_verifier.values()), report.text()
        elif kind == "blank":
            assert not any(in_verifier.values()), report.text()
        else:   # the wrong corpus breaks some answers; cells of untouched answers still pass
            assert not all(in_verifier.values()) and any(in_verifier.values()), report.text()

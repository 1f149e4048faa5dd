"""The same test cell, two places: the student's own kernel (instant feedback) and the verifier
(the official verdict, through `socklab check`). They must agree on every good, wrong and blank
answer of chapter 3: the solutions, the released blanks, and every visible-only wrong answer kept
in tests/notebooks/test_hidden_tests.py.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "notebooks"))
import nbtools  # noqa: E402

pytestmark = pytest.mark.slow


def _wrong_answers() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("hidden_wrong", ROOT / "tests" / "notebooks" / "test_hidden_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {f"{gid}_answer": make() for gid, make in module.WRONG.items()}


def _variant(name: str, kind: str) -> dict:
    """The solution notebook with its answer cells as solved, blank (as released) or wrong."""
    nb = nbtools.load(nbtools.SOLUTIONS / name)
    blank = {nbtools.nbgrader_meta(c).get("grade_id"): nbtools.source(c)
             for c in nbtools.load(nbtools.RELEASED / name)["cells"]}
    wrong = _wrong_answers() if kind == "wrong" else {}
    for cell in nb["cells"]:
        meta = nbtools.nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        if kind == "blank":
            cell["source"] = blank[meta["grade_id"]]
        elif kind == "wrong" and meta["grade_id"] in wrong:
            cell["source"] = wrong[meta["grade_id"]]
    return nb


def _kernel_verdicts(path: Path) -> dict[str, bool]:
    run = nbtools.execute(path, nbgrader="validate", timeout=30)
    return {nbtools.nbgrader_meta(c)["grade_id"]: not run.errors(c) for c in run.nb.cells
            if c.cell_type == "code" and nbtools.nbgrader_meta(c).get("grade")
            and not nbtools.nbgrader_meta(c).get("solution")}


@pytest.mark.parametrize("kind", ["solved", "blank", "wrong"])
@pytest.mark.parametrize("name", nbtools.NAMES)
def test_kernel_and_verifier_agree(tmp_path, need_namespaces, name, kind):
    """Does every ch03 test cell give the same verdict in the student's kernel and in the verifier?"""
    from socklab.grading.check import check

    folder = tmp_path / "ch03"
    folder.mkdir()
    path = folder / name
    path.write_text(json.dumps(_variant(name, kind)))
    in_kernel = _kernel_verdicts(path)
    report = check(notebook=path, source=nbtools.SOLUTIONS / name, quiet=True)
    assert not report.problems, report.problems
    in_verifier = {e.grade_id: e.passed for e in report.exercises}
    assert in_verifier == in_kernel, report.text()
    if kind == "solved":
        assert all(in_verifier.values()), report.text()
    elif kind == "blank":
        assert not any(in_verifier.values()), report.text()
    else:   # the wrong-answer corpus breaks some answers; cells of untouched answers still pass
        assert not all(in_verifier.values()), report.text()

"""Chapter-5 notebooks in a real kernel: solutions pass every grade cell, blank student notebooks fail cleanly."""
from __future__ import annotations

import pytest

from ch05tools import NAMES, RELEASED, SOLUTIONS
from nbtools import autograded, execute, nbgrader_meta, source

pytestmark = pytest.mark.slow
OUR_ERRORS = {"ExerciseFailed", "TimeLimit"}


@pytest.mark.parametrize("name", NAMES)
def test_ch05_solutions_run_top_to_bottom_with_every_grade_cell_passing(name):
    """Does the solutions notebook, demos and pictures included, run with no error and a ✓ for every grade cell?"""
    run = execute(SOLUTIONS / name, timeout=60)
    failed = [(nbgrader_meta(c).get("grade_id", f"cell {i}"), [f"{e['ename']}: {e['evalue'][:300]}" for e in run.errors(c)])
              for i, c in enumerate(run.nb.cells) if c.cell_type == "code" and run.errors(c)]
    assert not failed, f"{name}: cells with errors: {failed}"
    grade_cells = [c for c in run.nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("grade")]
    assert grade_cells and all("✓" in run.text(c) for c in grade_cells)
    shown = [nbgrader_meta(c)["grade_id"] for c in grade_cells
             if any(o.get("output_type") in ("execute_result", "display_data") for o in c.outputs)]
    assert not shown, f"grade cells that display a value (nbgrader would read it as a score): {shown}"
    pictures = [c for c in run.nb.cells if c.cell_type == "code" and any(
        word in source(c) for word in (".show(", "show_figure("))]
    assert pictures and all(any("image/png" in o.get("data", {}) for o in c.outputs) for c in pictures), \
        "every picture cell draws a PNG"
    # Budget: the bench measures <= 8 s; a loaded CI machine gets generous headroom here.
    assert run.elapsed < 45, f"{name} took {run.elapsed:.1f} s"


@pytest.mark.parametrize("name", NAMES)
def test_ch05_blank_student_notebook_fails_every_grade_cell_cleanly(name):
    """Does an unanswered student notebook, autograded, fail each grade cell with a ko/en message, demos silent?"""
    run = execute(RELEASED / name, nbgrader="autograde", timeout=30)
    cells = autograded(run.nb)
    assert cells
    for cell in cells:
        gid = nbgrader_meta(cell)["grade_id"]
        errors = run.errors(cell)
        assert errors and {e["ename"] for e in errors} <= OUR_ERRORS, (gid, [e["ename"] for e in errors])
        text = errors[0]["evalue"]
        assert text.startswith("✗ ") and "\n  " in text and "hint:" in text, f"{gid}: {text[:300]!r}"
        assert "Traceback" not in "".join(errors[0]["traceback"])
    for i, cell in enumerate(run.nb.cells):
        if cell.cell_type != "code" or nbgrader_meta(cell).get("grade"):
            continue
        assert not run.errors(cell), (name, i)
        if "under_nbgrader()" in source(cell):
            assert not cell.outputs, f"{name} cell {i}: a demo produced output under nbgrader"
    assert run.elapsed < 60, f"{name}: blank notebook took {run.elapsed:.1f} s to fail"

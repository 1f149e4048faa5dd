"""Every notebook of the course map in a real kernel: solutions pass, blank student notebooks fail cleanly."""
from __future__ import annotations

import pytest

from nbtools import ALL_IDS, ALL_NOTEBOOKS, ROOT, autograded, execute, nbgrader_meta, source

pytestmark = pytest.mark.slow

# Our failures are ExerciseFailed (TimeLimit is a subclass): ko/en text, never a raw traceback wall.
OUR_ERRORS = {"ExerciseFailed", "TimeLimit"}


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=ALL_IDS)
def test_solutions_run_top_to_bottom_with_every_grade_cell_passing(notebook):
    """Does the solutions notebook, demos and widgets included, run with no error in any cell?"""
    name = notebook.file
    run = execute(ROOT / notebook.solution)
    failed = [(nbgrader_meta(c).get("grade_id", f"cell {i}"), [f"{e['ename']}: {e['evalue'][:300]}" for e in run.errors(c)])
              for i, c in enumerate(run.nb.cells) if c.cell_type == "code" and run.errors(c)]
    assert not failed, f"{name}: cells with errors: {failed}"
    grade_cells = [c for c in run.nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("grade")]
    assert grade_cells and all(c.get("execution_count") for c in grade_cells), "every grade cell must have run"
    # nbgrader reads a grade cell's result value as partial credit: passing cells must show none.
    shown = [nbgrader_meta(c)["grade_id"] for c in grade_cells
             if any(o.get("output_type") in ("execute_result", "display_data") for o in c.outputs)]
    assert not shown, f"grade cells that display a value (nbgrader would try to read it as a score): {shown}"
    traced = [c for c in run.nb.cells if c.cell_type == "code" and "trace.trace()" in source(c)]
    for cell in traced:
        assert any("image/svg+xml" in o.get("data", {}) for o in cell.outputs), "the sequence diagram is not an image"
    pictures = [c for c in run.nb.cells if c.cell_type == "code" and ("show_figure(" in source(c) or ".show(" in source(c))]
    for cell in pictures:  # figures drawn from live data (ch05's timelines, histograms) come out as pictures
        assert any("image/svg+xml" in o.get("data", {}) for o in cell.outputs), f"{name}: a figure is not an image"
    # Budget: the bench measures <= 8 s; a loaded CI machine gets generous headroom here.
    assert run.elapsed < 45, f"{name} took {run.elapsed:.1f} s"


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=ALL_IDS)
def test_blank_student_notebook_fails_every_grade_cell_cleanly_and_quickly(notebook):
    """Does an unanswered student notebook, autograded, fail each test with our ko/en message, in bounded time?"""
    name = notebook.file
    run = execute(ROOT / notebook.student, nbgrader="autograde", timeout=30)
    cells = autograded(run.nb)
    assert cells, f"{name} has no autograded cells"
    for cell in cells:
        gid = nbgrader_meta(cell)["grade_id"]
        errors = run.errors(cell)
        assert errors, f"{gid}: an unanswered exercise must fail"
        assert {e["ename"] for e in errors} <= OUR_ERRORS, f"{gid}: raw error {[e['ename'] for e in errors]}"
        text = errors[0]["evalue"]
        assert text.startswith("✗ ") and "\n  " in text, f"{gid}: message is not ko/en: {text[:200]!r}"
        assert "Traceback" not in "".join(errors[0]["traceback"]), f"{gid}: a traceback wall is shown"
    # Everything that is not a grade cell (setup, demos, answer stubs) must not error, and demos stay
    # silent under nbgrader: no server, no widget, no output.
    for i, cell in enumerate(run.nb.cells):
        if cell.cell_type != "code" or nbgrader_meta(cell).get("grade"):
            continue
        gid = nbgrader_meta(cell).get("grade_id", f"cell {i}")
        assert not run.errors(cell), f"{gid}: {[e['ename'] for e in run.errors(cell)]}"
        if "under_nbgrader()" in source(cell):
            assert not cell.outputs, f"{gid}: a demo produced output under nbgrader"
    assert run.elapsed < 60, f"{name}: blank notebook took {run.elapsed:.1f} s to fail"

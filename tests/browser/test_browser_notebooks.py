"""Every ch03 notebook, opened in JupyterLab in Chromium and Run All: what does a student see?"""
from __future__ import annotations

import re

import pytest
from labdriver import (
    WIDGET_MIME, assert_page_clean, course_notebooks, image_drawn, open_notebook, read_cells, report, run_all,
    run_all_past_errors, screenshot_cells, widget_drawn,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STUDENT = course_notebooks("notebooks")
SOLUTIONS = course_notebooks("solutions")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TRACEBACK_WALL = ("Traceback (most recent call last)", "----> ", "File /", 'File "')


def test_course_has_notebooks():
    """Are there ch03 notebooks to open, and does notebooks/ mirror solutions/?"""
    assert SOLUTIONS, "solutions/ch03 has no notebooks"
    assert [p.split("/", 1)[1] for p in STUDENT] == [p.split("/", 1)[1] for p in SOLUTIONS], \
        "notebooks/ch03 does not mirror solutions/ch03: run `make release`"


def _shot_name(relpath: str, what: str) -> str:
    return relpath.replace("/", "_").removesuffix(".ipynb") + f"-{what}.png"


def _check_rendering(page, cells, relpath):
    """Widgets drew themselves and every figure became a visible image."""
    for cell in cells:
        mimes = cell.shown.get("mimes", [])
        if WIDGET_MIME in mimes:
            assert cell.shown["widget_errors"] == 0, f"{relpath} {cell.label()}: {cell.shown['output_text'][:300]}"
            assert widget_drawn(page, cell), f"{relpath} {cell.label()}: widget output but no widget on the page"
        if "image/png" in mimes or "image/svg+xml" in mimes:
            assert image_drawn(page, cell), f"{relpath} {cell.label()}: a picture output that was not drawn"
    # A demo that traces and draws (t.show()) must show the diagram; one that prints the trace as text need not.
    traced = [cell for cell in cells if cell.role == "demo" and "trace(" in cell.source and ".show(" in cell.source]
    if traced:
        assert any("image/svg+xml" in cell.shown["mimes"] for cell in traced), \
            f"{relpath}: the socket-call sequence diagram did not appear: " + \
            "; ".join(f"{c.label()} -> {c.shown['mimes']} {c.shown['output_text'][-300:]!r}" for c in traced)


def _shoot(page, cells, relpath, artifacts):
    page.screenshot(path=str(artifacts / _shot_name(relpath, "top")))
    screenshot_cells(page, cells, artifacts / _shot_name(relpath, "widget"),
                     predicate=lambda c: WIDGET_MIME in c.shown.get("mimes", []), focus=".jupyter-widgets")
    screenshot_cells(page, cells, artifacts / _shot_name(relpath, "figure"),
                     predicate=lambda c: c.shown.get("images"), focus=".jp-OutputArea-output img")
    screenshot_cells(page, cells, artifacts / _shot_name(relpath, "exercise"),
                     predicate=lambda c: c.role == "grade" and (c.has_error or not any(x.has_error for x in cells)),
                     focus=".jp-OutputArea-output")


def _run_every_cell(page, lab, course, artifacts, relpath, runner):
    """Open `relpath`, run it with `runner`, screenshot it; return (cells, code cells), all of which ran."""
    cells = read_cells(course / relpath)
    open_notebook(page, lab, relpath)
    runner(page)
    report(page, cells)
    _shoot(page, cells, relpath, artifacts)
    code = [c for c in cells if c.type == "code" and c.source.strip()]
    not_run = [c.label() for c in code if c.shown["execution_count"] is None]
    assert not not_run, f"{relpath}: cells never ran: {not_run}"
    return cells, code


@pytest.mark.parametrize("relpath", SOLUTIONS)
def test_solution_notebook_runs_clean(notebook_page, lab, course, artifacts, relpath):
    """Does Run All on the solutions notebook pass every test with no error anywhere?"""
    page = notebook_page
    cells, code = _run_every_cell(page, lab, course, artifacts, relpath, run_all)
    failures = [f"{c.label()}\n{c.shown['error_text'][:400]}" for c in code if c.has_error]
    assert not failures, f"{relpath}: error outputs:\n" + "\n".join(failures)
    _check_rendering(page, cells, relpath)
    assert_page_clean(page)


@pytest.mark.parametrize("relpath", STUDENT)
def test_student_notebook_shows_hints(notebook_page, lab, course, artifacts, relpath):
    """Does the student notebook run its demos cleanly and answer each unsolved exercise with a short ko/en hint?"""
    page = notebook_page
    cells, code = _run_every_cell(page, lab, course, artifacts, relpath, run_all_past_errors)
    broken = [f"{c.label()}\n{c.shown['error_text'][:400]}" for c in code
              if c.has_error and c.role in ("demo", "setup")]
    assert not broken, f"{relpath}: demo/setup cells failed:\n" + "\n".join(broken)

    graded = [c for c in code if c.role == "grade"]
    assert graded, f"{relpath} has no grade cells"
    failing = [c for c in graded if c.has_error]
    assert failing, f"{relpath}: with the stubs unsolved, no grade cell failed"
    for cell in failing:
        text = cell.shown["error_text"]
        where = f"{relpath} {cell.label()}"
        assert set(cell.shown["enames"]) <= {"ExerciseFailed", "TimeLimit"}, \
            f"{where}: failed with {cell.shown['enames']}, not socklab's ExerciseFailed:\n{text[:600]}"
        assert "✗" in text and HANGUL.search(text) and re.search(r"[A-Za-z]{3}", text), \
            f"{where}: not a ko/en hint:\n{text[:600]}"
        assert not any(mark in text for mark in TRACEBACK_WALL), f"{where}: a raw traceback:\n{text[:600]}"
        assert len(text.splitlines()) <= 15, f"{where}: hint is {len(text.splitlines())} lines long:\n{text[:900]}"
    from socklab.packets import tier

    if tier().name != "offline":   # a live tier works: a beginner must not be sent to an admin
        advice = [c.label() for c in code if "ask your admin" in c.shown["output_text"]]
        assert not advice, f"{relpath}: 'ask your admin' although the {tier().name} tier works: {advice}"
    _check_rendering(page, cells, relpath)
    assert_page_clean(page)

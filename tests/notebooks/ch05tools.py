"""Helpers for the chapter-5 notebook tests: run a grade cell in this process with a given answer.

Grade cells run here (real sockets, real lossy channels and reference peers, no kernel) to keep the
suite fast; the kernel runs are in test_ch05_execution.py.
"""
from __future__ import annotations

import pathlib
import re
import socket

from nbtools import ROOT, load, nbgrader_meta, source

SOLUTIONS = ROOT / "solutions" / "ch05"
RELEASED = ROOT / "notebooks" / "ch05"
NAMES = sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)


def cells_of(grade_id: str) -> tuple[list[dict], dict[str, str]]:
    """(the notebook's cells, {grade_id: source}) of the notebook that holds `grade_id`."""
    for name in NAMES:
        cells = load(SOLUTIONS / name)["cells"]
        by_id = {nbgrader_meta(c).get("grade_id"): source(c) for c in cells if nbgrader_meta(c)}
        if grade_id in by_id:
            return cells, by_id
    raise KeyError(grade_id)


def visible(cell: str) -> str:
    return HIDDEN.sub("", cell)


def run_cell(grade_id: str, answer: str | None = None, *, hidden: bool = True) -> None:
    """Run the notebook's setup and every solution cell (the instructor's answers), then `answer`
    (defining the names it replaces), then the grade cell `grade_id` (hidden tests kept or removed)."""
    from socklab import servers

    cells, by_id = cells_of(grade_id)
    cell = by_id[grade_id] if hidden else visible(by_id[grade_id])
    ns: dict = {"__name__": "__main__", "display": print}
    try:
        for c in cells:
            meta = nbgrader_meta(c)
            if c["cell_type"] == "code" and (meta.get("solution") or (meta.get("locked") and not meta.get("grade"))):
                exec(compile(source(c), f"<{meta.get('grade_id')}>", "exec"), ns)
        if answer is not None:
            exec(compile(answer, "<student answer>", "exec"), ns)
        exec(compile(cell, f"<{grade_id}>", "exec"), ns)
    finally:
        for value in list(ns.values()):
            if isinstance(value, socket.socket):
                value.close()
        servers.stop_all()


def solution_of(grade_id: str) -> str:
    return cells_of(grade_id)[1][f"{grade_id.removesuffix('_robust')}_answer"]


def edit(grade_id: str, *edits: tuple[str, str]) -> str:
    """The instructor's answer for `grade_id` with each (old, new) replaced (old must be there)."""
    text = solution_of(grade_id)
    for old, new in edits:
        assert old in text, f"the solution changed; update this wrong answer: {old!r}"
        text = text.replace(old, new)
    return text


__all__ = ["SOLUTIONS", "RELEASED", "NAMES", "cells_of", "visible", "run_cell", "solution_of", "edit",
           "pathlib"]

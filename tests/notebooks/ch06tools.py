"""Chapter-6 notebook helpers: its folders, and running one exercise's cells in this process."""
from __future__ import annotations

import socket

from nbtools import ROOT, load, nbgrader_meta, source

SOLUTIONS = ROOT / "solutions" / "ch06"
RELEASED = ROOT / "notebooks" / "ch06"
NAMES = sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))
HIDDEN_START, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def cells_of(grade_id: str) -> tuple[list[str], dict[str, str]]:
    """(locked setup/data cells of the notebook holding `grade_id`, {grade_id: source})."""
    for name in NAMES:
        cells = load(SOLUTIONS / name)["cells"]
        by_id = {nbgrader_meta(c).get("grade_id"): source(c) for c in cells if nbgrader_meta(c)}
        if grade_id in by_id:
            fixed = [source(c) for c in cells if c["cell_type"] == "code" and nbgrader_meta(c).get("locked")
                     and not nbgrader_meta(c).get("grade")]
            return fixed, by_id
    raise KeyError(grade_id)


def solution(exercise: str) -> str:
    """The reference answer cell of an exercise (e.g. 'q06_1_forking')."""
    return cells_of(exercise)[1][f"{exercise}_answer"]


def edit(text: str, *changes: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced; fails loudly if the solution no longer contains `old`."""
    for old, new in changes:
        assert old in text, f"the solution changed; update this answer: {old!r}"
        text = text.replace(old, new)
    return text


def run(grade_id: str, answer: str, *, hidden: bool = True) -> None:
    """Run the notebook's setup cell, `answer`, then the grade cell; raises what the cell raises."""
    from socklab import servers

    fixed, by_id = cells_of(grade_id)
    cell = by_id[grade_id]
    if not hidden:
        before, rest = cell.split(HIDDEN_START, 1)
        cell = before + rest.split(HIDDEN_END, 1)[1]
    ns: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    try:
        for code in fixed:
            exec(compile(code, "<setup>", "exec"), ns)
        exec(compile(answer, "<student answer>", "exec"), ns)
        exec(compile(cell, f"<{grade_id}>", "exec"), ns)
    finally:
        for value in list(ns.values()):
            if isinstance(value, socket.socket):
                value.close()
        servers.stop_all()

"""Run one grade cell of a chapter-3 solutions notebook against a given answer, in this process.

The notebook's locked cells (setup, data) run first, then the answer's source, then the grade cell
(hidden tests included unless ``hidden=False``). Real sockets and reference peers, no kernel: fast
enough to try many answers. Whatever the answer left behind is swept away afterwards.
"""
from __future__ import annotations

import socket

from nbtools import NAMES, SOLUTIONS, load, nbgrader_meta, source

HIDDEN_START, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def cells_of(grade_id: str) -> tuple[dict[str, str], list[str]]:
    """({grade_id: source} of the notebook holding `grade_id`, its locked setup/data cells in order)."""
    for name in NAMES:
        cells = load(SOLUTIONS / name)["cells"]
        by_id = {nbgrader_meta(c).get("grade_id"): source(c) for c in cells if nbgrader_meta(c)}
        if grade_id in by_id:
            fixed = [source(c) for c in cells if c["cell_type"] == "code" and nbgrader_meta(c).get("locked")
                     and not nbgrader_meta(c).get("grade")]
            return by_id, fixed
    raise KeyError(grade_id)


def visible_only(cell: str) -> str:
    before, rest = cell.split(HIDDEN_START, 1)
    return before + rest.split(HIDDEN_END, 1)[1]


def run_cell(grade_id: str, answer: str, *, hidden: bool = True) -> None:
    """Run the grade cell `grade_id` against `answer` (Python source); raises what the cell raises."""
    from socklab import servers, testing

    by_id, fixed = cells_of(grade_id)
    cell = by_id[grade_id] if hidden else visible_only(by_id[grade_id])
    ns: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    try:
        for code in fixed:
            exec(compile(code, "<setup>", "exec"), ns)
        exec(compile(answer, "<student answer>", "exec"), ns)
        exec(compile(cell, f"<{grade_id}>", "exec"), ns)
    finally:
        # A failing cell stops before its own clean-up lines: close what it left open.
        for value in list(ns.values()):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, socket.socket):
                    item.close()
        servers.stop_all()
        testing.sweep()
        testing.thread_errors(clear=True)


def solution_of(grade_id: str) -> str:
    """The solution cell's source for an exercise (``<grade_id>_answer``, or the basic cell's)."""
    by_id, _ = cells_of(grade_id)
    base = grade_id.removesuffix("_robust").removesuffix("_checksum")
    return by_id.get(f"{grade_id}_answer") or by_id[f"{base}_answer"]


def _shift(block: str, spaces: int) -> str:
    return "\n".join(line[spaces:] if line.startswith(" " * spaces) else line for line in block.split("\n"))


def edited(grade_id: str, *edits: tuple[str, str]) -> str:
    """The solution with each (old, new) replaced; fails loudly when the solution changed.

    Edits may be written at the solution's indentation or 4/8 spaces deeper (as in a builder).
    """
    text = solution_of(grade_id)
    for old, new in edits:
        for spaces in (0, 4, 8):
            if _shift(old, spaces) in text:
                text = text.replace(_shift(old, spaces), _shift(new, spaces))
                break
        else:
            raise AssertionError(f"the solution of {grade_id} changed; update this wrong answer: {old!r}")
    return text

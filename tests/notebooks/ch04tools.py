"""Helpers for the chapter-4 notebook tests: run a notebook's locked cells, an answer and a grade cell
in this process (real sockets and reference peers, no kernel), and say which check failed."""
from __future__ import annotations

import gc
import pathlib
import socket
import traceback
import warnings

from nbtools import load, source  # shared with the chapter-3 tests
from nbtools import nbgrader_meta as meta

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions" / "ch04"
RELEASED = ROOT / "notebooks" / "ch04"
NAMES = sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))

HIDDEN_START, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def notebook_of(grade_id: str) -> tuple[str, dict[str, str], list[str]]:
    """(notebook, {grade_id: source}, the locked setup/data cells in order) of the notebook holding grade_id."""
    for name in NAMES:
        cells = load(SOLUTIONS / name)["cells"]
        by_id = {meta(c).get("grade_id"): source(c) for c in cells if meta(c)}
        if grade_id in by_id:
            fixed = [source(c) for c in cells if c["cell_type"] == "code" and meta(c).get("locked")
                     and not meta(c).get("grade")]
            return name, by_id, fixed
    raise KeyError(grade_id)


def grade_ids() -> list[str]:
    return [meta(c)["grade_id"] for name in NAMES for c in load(SOLUTIONS / name)["cells"]
            if c["cell_type"] == "code" and meta(c).get("grade")]


def visible_only(cell: str) -> str:
    before, rest = cell.split(HIDDEN_START, 1)
    return before + rest.split(HIDDEN_END, 1)[1]


def solution(answer_id: str) -> str:
    return notebook_of(answer_id)[1][answer_id]


def edited(answer_id: str, *edits: tuple[str, str]) -> str:
    """The solution of `answer_id` with each (old, new) replaced once (old must be there)."""
    text = solution(answer_id)
    for old, new in edits:
        assert old in text, f"the solution changed; update this answer: {old!r}"
        text = text.replace(old, new, 1)
    return text


def run(grade_id: str, answer: str, *, hidden: bool = True) -> None:
    """Run the locked cells, `answer`, then the grade cell (with or without its hidden tests)."""
    from socklab import servers

    _, by_id, fixed = notebook_of(grade_id)
    cell = by_id[grade_id] if hidden else visible_only(by_id[grade_id])
    ns: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    try:
        for code in fixed:
            exec(compile(code, "<setup>", "exec"), ns)
        exec(compile(answer, "<student answer>", "exec"), ns)
        exec(compile(cell, f"<{grade_id}>", "exec"), ns)
    finally:
        for value in list(ns.values()):   # a failing cell stops before its own clean-up lines
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, socket.socket):
                    item.close()
                elif hasattr(item, "stop") and type(item).__module__.startswith("socklab"):
                    try:
                        item.stop()
                    except Exception:
                        pass
        servers.stop_all()
        # Wrong answers may drop sockets without closing them; collect them here, quietly, so the
        # ResourceWarning is not blamed on whichever test runs when the collector wakes up.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def where_it_failed(grade_id: str, exc: BaseException) -> tuple[str, bool]:
    """(the failure's message plus the grade-cell lines it passed through, whether the failing
    statement lies in the hidden region)."""
    _, by_id, _ = notebook_of(grade_id)
    lines = by_id[grade_id].splitlines()
    numbers = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
               if f.filename == f"<{grade_id}>" and f.lineno and f.lineno <= len(lines)]
    hidden_from = next(i for i, line in enumerate(lines, 1) if line.strip() == HIDDEN_START)
    in_hidden = bool(numbers) and numbers[0] > hidden_from
    return str(exc) + "\n" + "\n".join(lines[n - 1] for n in numbers), in_hidden

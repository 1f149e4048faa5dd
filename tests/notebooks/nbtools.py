"""Helpers for the notebook tests: the course map, paths, parsed notebooks, and a real-kernel runner."""
from __future__ import annotations

import json
import os
import pathlib
import time

from socklab.course import load_course

ROOT = pathlib.Path(__file__).resolve().parents[2]
COURSE = load_course(root=ROOT)
# Every notebook of every chapter in course.toml, for tests that hold for any chapter.
ALL_NOTEBOOKS = COURSE.notebooks()
ALL_IDS = [f"{nb.chapter}/{nb.file}" for nb in ALL_NOTEBOOKS]
# Chapter 3's own content tests (exercise numbers, prose) use these.
SOLUTIONS = ROOT / "solutions" / "ch03"
RELEASED = ROOT / "notebooks" / "ch03"
NAMES = [f"{nb.file}.ipynb" for nb in COURSE.chapter("ch03").notebooks]
HIDDEN_START, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def folders(chapter: str) -> tuple[pathlib.Path, pathlib.Path, list[str]]:
    """(solutions/chNN, notebooks/chNN, the .ipynb files in solutions/chNN sorted by name) of a chapter.

    The names come from the disk, not from course.toml, so tests can compare the two.
    """
    solutions = ROOT / "solutions" / chapter
    return solutions, ROOT / "notebooks" / chapter, sorted(p.name for p in solutions.glob("*.ipynb"))


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def autograded(nb: dict) -> list[dict]:
    """Grade cells that nbgrader runs (code cells with grade=true)."""
    return [c for c in nb["cells"] if c["cell_type"] == "code" and nbgrader_meta(c).get("grade")]


class Executed:
    """A notebook after a real kernel ran it top to bottom."""

    def __init__(self, nb, elapsed: float) -> None:
        self.nb = nb
        self.elapsed = elapsed

    def errors(self, cell) -> list:
        return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]

    def text(self, cell) -> str:
        return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def execute(path: pathlib.Path, *, nbgrader: str | None = None, timeout: int = 30) -> Executed:
    """Run a notebook in a fresh python3 kernel (the venv's ipykernel), optionally as nbgrader would.

    Errors are kept in the outputs (allow_errors) so a test can look at each cell's result.
    """
    import nbformat
    from nbclient import NotebookClient

    from support import ipc_kernel_config

    nb = nbformat.read(str(path), as_version=4)
    saved = os.environ.get("NBGRADER_EXECUTION")
    if nbgrader:
        os.environ["NBGRADER_EXECUTION"] = nbgrader
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    t0 = time.monotonic()
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, config=ipc_kernel_config(),
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    finally:
        if saved is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = saved
    return Executed(nb, time.monotonic() - t0)

"""Cell builders for the chapter-3 source notebooks (nbgrader schema 3 metadata).

Each builder returns one nbformat cell dict. Cell ids come from the nbgrader grade_id (or a
running counter for plain cells) so that regenerating a notebook gives the same bytes.
"""
from __future__ import annotations

import json
import re
import textwrap

KERNEL = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}

GRADE_ID = re.compile(r"^q03_(\d+)_[a-z0-9_]+$")


def _src(text: str) -> list[str]:
    text = textwrap.dedent(text).strip("\n")
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def _nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, task=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return meta


class Notebook:
    """Collects cells; ids are stable (derived from grade ids and a per-notebook counter)."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.cells: list[dict] = []
        self._n = 0

    def _id(self, stem: str | None) -> str:
        self._n += 1
        return (stem or f"{self.slug}-c{self._n:02d}").replace("_", "-")[:64]

    def md(self, text: str, *, locked: bool = True, grade_id: str | None = None) -> None:
        """A markdown cell; prose is locked (read-only) so students do not lose the task text."""
        cell = {"cell_type": "markdown", "id": None, "metadata": {}, "source": _src(text)}
        if locked:
            gid = grade_id or f"md_{self.slug}_{self._n + 1:02d}"
            cell["metadata"]["nbgrader"] = _nbgrader(gid, locked=True)
            cell["id"] = self._id(gid)
        else:
            cell["id"] = self._id(None)
        self.cells.append(cell)

    def code(self, text: str, *, tags: list[str] | None = None) -> None:
        """A plain, editable code cell (demos)."""
        cell = {"cell_type": "code", "execution_count": None, "id": self._id(None), "metadata": {},
                "outputs": [], "source": _src(text)}
        if tags:
            cell["metadata"]["tags"] = tags
        self.cells.append(cell)

    def setup(self, text: str) -> None:
        """The locked, read-only setup cell every notebook starts with."""
        gid = f"setup_{self.slug}"
        self.cells.append({"cell_type": "code", "execution_count": None, "id": self._id(gid),
                           "metadata": {"nbgrader": _nbgrader(gid, locked=True), "editable": False,
                                        "deletable": False},
                           "outputs": [], "source": _src(text)})

    def fixed(self, grade_id: str, text: str) -> None:
        """A locked code cell with data the tests rely on (students read it but cannot change it)."""
        self.cells.append({"cell_type": "code", "execution_count": None, "id": self._id(grade_id),
                           "metadata": {"nbgrader": _nbgrader(grade_id, locked=True), "editable": False,
                                        "deletable": False},
                           "outputs": [], "source": _src(text)})

    def solution(self, grade_id: str, text: str) -> None:
        """Where the student writes code: ### BEGIN/END SOLUTION marks what nbgrader removes."""
        gid = f"{grade_id}_answer"
        self.cells.append({"cell_type": "code", "execution_count": None, "id": self._id(gid),
                           "metadata": {"nbgrader": _nbgrader(gid, solution=True)},
                           "outputs": [], "source": _src(text)})

    def grade(self, grade_id: str, points: int, text: str) -> None:
        """An autograded test cell: visible tests first, hidden tests last."""
        assert GRADE_ID.match(grade_id), grade_id
        self.cells.append({"cell_type": "code", "execution_count": None, "id": self._id(grade_id),
                           "metadata": {"nbgrader": _nbgrader(grade_id, grade=True, locked=True, points=points),
                                        "editable": False, "deletable": False},
                           "outputs": [], "source": _src(text)})

    def written(self, grade_id: str, points: int, text: str) -> None:
        """A manually graded written answer (markdown; the rubric sits inside the solution region)."""
        assert GRADE_ID.match(grade_id), grade_id
        self.cells.append({"cell_type": "markdown", "id": self._id(grade_id),
                           "metadata": {"nbgrader": _nbgrader(grade_id, grade=True, solution=True, points=points)},
                           "source": _src(text)})

    def json(self) -> str:
        nb = {"cells": self.cells, "metadata": dict(KERNEL), "nbformat": 4, "nbformat_minor": 5}
        return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def details(english: str) -> str:
    """The English version of a section, folded."""
    body = textwrap.dedent(english).strip("\n")
    return f"<details><summary>English</summary>\n\n{body}\n\n</details>"


def section(korean: str, english: str) -> str:
    """Korean prose followed by its folded English version."""
    return textwrap.dedent(korean).strip("\n") + "\n\n" + details(english)

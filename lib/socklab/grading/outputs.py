"""What the parent keeps from a sandbox: outputs, for exactly the cells it sent, in its own copy.

The sandbox returns ``[[index, outputs], ...]``, never a notebook: cell sources, metadata and
points stay those of the parent's sanitized notebook (restored from the course's source by
nbgrader). A test cell keeps only text streams and error records (no ``execute_result``, which
nbgrader would read as partial credit); a graded cell that is not one of the course's test cells
gets an error instead of whatever outputs it claims.
"""
from __future__ import annotations

import copy

from nbformat import NotebookNode

__all__ = ["course_cells", "strip_tags", "merge", "limit_notes"]

_TEXT_LIMIT = 2 << 20


def course_cells(nb, source: dict[str, dict]) -> tuple[list[int], list[int]]:
    """(trusted, tests): indices of the course's locked cells (first of each grade_id) and of
    those that are graded tests. `source` is grade_id -> {locked, grade, ...} of the source."""
    trusted, tests, seen = [], [], set()
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.get("cell_type") != "code" or gid not in source or gid in seen:
            continue
        seen.add(gid)
        info = source[gid]
        if info.get("locked") and not meta.get("solution"):
            trusted.append(index)
            if info.get("grade"):
                tests.append(index)
    return trusted, tests


def strip_tags(nb) -> None:
    """Drop cell tags (``skip-execution``, ``raises-exception``, ...): the grader runs every cell."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("tags", None)


def _text(value, limit: int = _TEXT_LIMIT) -> str:
    if isinstance(value, list):
        value = "".join(v for v in value if type(v) is str)
    return value[:limit] if type(value) is str else ""


def _clean(out, *, test: bool) -> NotebookNode | None:
    if not isinstance(out, dict):
        return None
    kind = out.get("output_type")
    if kind == "stream" and out.get("name") in ("stdout", "stderr"):
        return NotebookNode(output_type="stream", name=out["name"], text=_text(out.get("text")))
    if kind == "error":
        tb = out.get("traceback")
        tb = [t[:_TEXT_LIMIT] for t in tb if type(t) is str][:200] if isinstance(tb, list) else []
        return NotebookNode(output_type="error", ename=_text(out.get("ename"), 200) or "Error",
                            evalue=_text(out.get("evalue")), traceback=tb)
    if test or kind not in ("display_data", "execute_result"):
        return None
    data = out.get("data")
    data = {k: v for k, v in data.items() if type(k) is str and type(v) in (str, list, dict)} \
        if isinstance(data, dict) else {}
    node = NotebookNode(output_type=kind, data=data, metadata={})
    if kind == "execute_result":
        count = out.get("execution_count")
        node.execution_count = count if type(count) is int else None
    return node


def merge(nb, cells, *, tests: list[int]):
    """A copy of `nb` with the returned outputs of the cells it has; every other output cleared."""
    from nbgrader.utils import is_grade, is_solution

    mine = copy.deepcopy(nb)
    for cell in mine.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    tests, given = set(tests), set()
    for item in cells if isinstance(cells, list) else []:
        if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int and isinstance(item[1], list)):
            continue
        index, outs = item
        if not 0 <= index < len(mine.cells) or mine.cells[index].cell_type != "code":
            continue
        cell = mine.cells[index]
        if index not in tests and is_grade(cell) and not is_solution(cell):
            cell.outputs = [NotebookNode(output_type="error", ename="NotACourseTest",
                                         evalue="this graded cell is not one of the course's test cells",
                                         traceback=[])]
            continue
        cell.outputs = [o for o in (_clean(out, test=index in tests) for out in outs) if o is not None]
        given.add(index)
    for index in tests - given:   # no verdict is no pass
        mine.cells[index].outputs = [NotebookNode(output_type="error", ename="NoVerdict",
                                                  evalue="the verifier returned no verdict for this test",
                                                  traceback=[])]
    return mine


def limit_notes(nb: dict, truncated: list[int]) -> list[str]:
    """Reasons for cells the sandbox's limits stopped (time, memory, output)."""
    notes = []
    for index, cell in enumerate(nb.get("cells", [])):
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
        if index in truncated:
            notes.append(f"{name}: printed too much output; the rest was dropped")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "CellTimeoutError":
                notes.append(f"{name}: stopped at the per-cell time limit (stuck in accept()/recv() or a loop?)")
            elif out.get("output_type") == "error" and out.get("ename") == "MemoryError":
                notes.append(f"{name}: MemoryError: the memory limit was reached")
    return list(dict.fromkeys(notes))

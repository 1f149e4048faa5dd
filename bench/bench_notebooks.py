"""How long each solutions notebook (chapters 3, 4, 5 and 6) takes to run top to bottom, kernel start included.

Goal: <= 8 s per notebook; chapter 6's live comparison of I/O models: <= 5 s for its cell. The baseline, measured in the same run, is a one-cell notebook in a
fresh kernel (kernel start + one round trip), so the ratio shows what our cells cost on top of it.
"""
from __future__ import annotations

import os
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions" / "ch03"
CHAPTERS = ("ch03", "ch04", "ch05", "ch06")
GOAL_S = 8.0
COMPARISON_GOAL_S = 5.0


def _run(nb, cwd: pathlib.Path) -> float:
    from nbclient import NotebookClient

    t0 = time.perf_counter()
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - t0


def _cell_seconds(nb, marker: str) -> float | None:
    """Run time of the first cell whose source contains `marker` (from nbclient's timing record)."""
    import datetime
    for cell in nb.cells:
        if cell.cell_type == "code" and marker in cell.source:
            ex = cell.metadata.get("execution", {})
            at = lambda key: datetime.datetime.fromisoformat(ex[key].replace("Z", "+00:00"))  # noqa: E731
            return (at("shell.execute_reply") - at("iopub.execute_input")).total_seconds()
    return None


def _empty():
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    return nb


def run() -> list[dict]:
    import nbformat

    os.environ.pop("NBGRADER_EXECUTION", None)  # demos and widgets run, as for a student
    baseline = min(_run(_empty(), SOLUTIONS) for _ in range(2))
    rows = [{"name": "notebooks: empty notebook (kernel start)", "value": baseline, "unit": "s", "baseline": None,
             "ratio": None, "goal": "reference"}]
    for chapter in CHAPTERS:
        folder = ROOT / "solutions" / chapter
        paths = sorted(folder.glob("*.ipynb"))
        total = 0.0
        for path in paths:
            nb = nbformat.read(str(path), as_version=4)
            value = _run(nb, folder)
            total += value
            rows.append({"name": f"notebooks: {path.stem} (solutions, run all)", "value": value, "unit": "s",
                         "baseline": baseline, "ratio": value / baseline, "goal": f"<= {GOAL_S:g} s"})
            compared = _cell_seconds(nb, "iomodels.compare(")
            if compared is not None:
                rows.append({"name": f"notebooks: {path.stem} I/O-model comparison cell", "value": compared,
                             "unit": "s", "baseline": None, "ratio": None, "goal": f"<= {COMPARISON_GOAL_S:g} s"})
        if paths:
            rows.append({"name": f"notebooks: {chapter} total ({len(paths)} notebooks)", "value": total, "unit": "s",
                         "baseline": None, "ratio": None, "goal": f"<= {len(paths) * GOAL_S:g} s"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

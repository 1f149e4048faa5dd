"""How long each solutions notebook (chapters 3, 4 and 5) takes to run top to bottom, kernel start included.

Goal: <= 8 s per notebook. The baseline, measured in the same run, is a one-cell notebook in a
fresh kernel (kernel start + one round trip), so the ratio shows what our cells cost on top of it.
"""
from __future__ import annotations

import os
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions" / "ch03"
CHAPTERS = ("ch03", "ch04", "ch05")
GOAL_S = 8.0


def _run(nb, cwd: pathlib.Path) -> float:
    from nbclient import NotebookClient

    t0 = time.perf_counter()
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - t0


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
        if paths:
            rows.append({"name": f"notebooks: {chapter} total ({len(paths)} notebooks)", "value": total, "unit": "s",
                         "baseline": None, "ratio": None, "goal": f"<= {len(paths) * GOAL_S:g} s"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

"""How long each solutions notebook (chapters 3, 4, 5 and 6) takes to run top to bottom, kernel start included.

Goals (issues 10, 14, 15, 16): <= 8 s wall per notebook, as nbclient runs it (start a kernel, run
every cell, shut the kernel down); chapter 6's live comparison of I/O models: <= 5 s for its cell.
The baseline, measured in the same run, is a one-cell notebook in a fresh kernel (kernel start +
one round trip), so the ratio shows what our cells cost on top of it.

Wall time moves with the machine's load, so each notebook also gets a row with the kernel's CPU
seconds (all its threads and reaped children, kernel start included): the number to compare when
the load differs. The load average is reported before and after.

    python bench/run.py notebooks                          # every notebook once (what the goal is about)
    SOCKLAB_BENCH_RUNS=3 python bench/run.py notebooks     # each 3 times, median reported
    SOCKLAB_BENCH_NOTEBOOKS=ch06 python bench/run.py notebooks   # only chapters/notebooks matching
"""
from __future__ import annotations

import os
import pathlib
import statistics
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions" / "ch03"
CHAPTERS = ("ch03", "ch04", "ch05", "ch06")
GOAL_S = 8.0
COMPARISON_GOAL_S = 5.0
COMPARISON_MARKER = "iomodels.compare("
# Appended to the notebook run (not to the file): the kernel's own CPU time, printed last.
_CPU_PROBE = ("import os as _socklab_os\n_t = _socklab_os.times()\n"
              "print('socklab-bench-cpu', _t.user + _t.system + _t.children_user + _t.children_system)")


def _run(nb, cwd: pathlib.Path) -> float:
    from nbclient import NotebookClient

    t0 = time.perf_counter()
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - t0


def _measure(path: pathlib.Path) -> tuple[float, float, float | None]:
    """(wall s, kernel CPU s, comparison cell s or None) for one run of the notebook at `path`."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_CPU_PROBE))
    wall = _run(nb, path.parent)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs).split()
    cpu = float(printed[printed.index("socklab-bench-cpu") + 1])
    return wall, cpu, _cell_seconds(nb, COMPARISON_MARKER)


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


def _load_row(when: str) -> dict:
    return {"name": f"notebooks: load average (1 min), {when}", "value": os.getloadavg()[0], "unit": "", "baseline": None,
            "ratio": None, "goal": f"info ({os.cpu_count()} CPUs)"}


def run() -> list[dict]:
    runs = max(1, int(os.environ.get("SOCKLAB_BENCH_RUNS", "1")))
    only = os.environ.get("SOCKLAB_BENCH_NOTEBOOKS", "")
    os.environ.pop("NBGRADER_EXECUTION", None)  # demos and widgets run, as for a student
    rows = [_load_row("before")]
    baseline = min(_run(_empty(), SOLUTIONS) for _ in range(2))
    rows.append({"name": "notebooks: empty notebook (kernel start)", "value": baseline, "unit": "s", "baseline": None,
                 "ratio": None, "goal": "reference"})
    each = f", median of {runs}" if runs > 1 else ""
    for chapter in CHAPTERS:
        paths = [p for p in sorted((ROOT / "solutions" / chapter).glob("*.ipynb")) if only in str(p)]
        total = 0.0
        for path in paths:
            walls, cpus, compared = [], [], []
            for _ in range(runs):
                wall, cpu, cell = _measure(path)
                walls.append(wall)
                cpus.append(cpu)
                if cell is not None:
                    compared.append(cell)
            value = statistics.median(walls)
            total += value
            rows.append({"name": f"notebooks: {path.stem} (solutions, run all{each})", "value": value, "unit": "s",
                         "baseline": baseline, "ratio": value / baseline, "goal": f"<= {GOAL_S:g} s"})
            rows.append({"name": f"notebooks: {path.stem} kernel CPU{each}", "value": statistics.median(cpus),
                         "unit": "s", "baseline": None, "ratio": None, "goal": "info (load-independent)"})
            if compared:
                rows.append({"name": f"notebooks: {path.stem} comparison cell{each}",
                             "value": statistics.median(compared), "unit": "s", "baseline": None, "ratio": None,
                             "goal": f"<= {COMPARISON_GOAL_S:g} s"})
        if paths:
            rows.append({"name": f"notebooks: {chapter} total ({len(paths)} notebooks)", "value": total, "unit": "s",
                         "baseline": None, "ratio": None, "goal": f"<= {len(paths) * GOAL_S:g} s"})
    rows.append(_load_row("after"))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

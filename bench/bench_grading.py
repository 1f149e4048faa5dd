"""Grading benchmark: socklab grade (sandboxed, --jobs 2) vs `nbgrader autograde`, side by side.

20 submissions of ch03 (the fixture course while ch03 is absent): a mix of correct, blank and
half-done work, graded by both tools from identical copies of one course; scores must match.
Then the per-notebook cost of `socklab grade --jobs 1` against a bare nbclient run of the same
notebooks (kernel start included in both).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from grading import course as fx  # noqa: E402

N_SUBMISSIONS = 20


def _course(tmp: Path) -> tuple[Path, str, list[str]]:
    ch03 = REPO / "solutions" / "ch03"
    if ch03.is_dir() and any(ch03.glob("*.ipynb")):
        root = fx.copy_course(tmp / "course", ch03, timeout=30)
        return root, "ch03", sorted(p.stem for p in ch03.glob("*.ipynb"))
    root = fx.make_course(tmp / "course", timeout=30)
    return root, fx.ASSIGNMENT, sorted(fx.POINTS)


def _submit_all(root: Path, assignment: str, names: list[str]) -> None:
    for i in range(N_SUBMISSIONS):
        student = f"s{i:02d}"
        folder = root / "grader" / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            release = json.loads((root / "notebooks" / assignment / f"{name}.ipynb").read_text())
            answers = fx.solution_answers(root, assignment, name)
            if i % 4 == 1:
                answers = {}                                              # blank
            elif i % 4 == 2:
                answers = dict(list(answers.items())[: len(answers) // 2])  # half done
            (folder / f"{name}.ipynb").write_text(json.dumps(fx.fill(release, answers)))


def _scores(root: Path, assignment: str) -> dict:
    from socklab.grading import gradebook

    coursedir = gradebook.course_directory(gradebook.load_config(root), assignment)
    return {f"s{i:02d}": gradebook.scores(coursedir, assignment, f"s{i:02d}")["score"] for i in range(N_SUBMISSIONS)}


def _bare_nbclient(root: Path, assignment: str, names: list[str]) -> tuple[float, int]:
    """Execute every submitted notebook with plain nbclient, one kernel each; (seconds, notebooks)."""
    import nbformat
    from nbclient import NotebookClient

    env_before = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    t0, count = time.monotonic(), 0
    try:
        for i in range(N_SUBMISSIONS):
            folder = root / "grader" / "submitted" / f"s{i:02d}" / assignment
            for name in names:
                nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
                NotebookClient(nb, timeout=30, allow_errors=True, kernel_name="python3",
                               resources={"metadata": {"path": str(folder)}}).execute()
                count += 1
    finally:
        if env_before is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = env_before
    return time.monotonic() - t0, count


def run() -> list[dict]:
    from socklab.grading.runner import grade

    tmp = Path(tempfile.mkdtemp(prefix="socklab-bench-grading-"))
    try:
        root, assignment, names = _course(tmp)
        _submit_all(root, assignment, names)
        twin = tmp / "twin"
        shutil.copytree(root, twin)
        solo = tmp / "solo"
        shutil.copytree(root, solo)

        t0 = time.monotonic()
        fx.run_nbgrader(twin, "autograde", assignment, "--force", timeout=3600)
        t_nbgrader = time.monotonic() - t0

        t0 = time.monotonic()
        report = grade(assignment=assignment, root=root, jobs=2, progress=False)
        t_ours = time.monotonic() - t0
        ours, theirs = _scores(root, assignment), _scores(twin, assignment)
        same = ours == theirs
        if not same:   # say who differs, so a mismatch can be looked into
            print("scores differ:", {s: (ours[s], theirs[s]) for s in ours if ours[s] != theirs.get(s)}, file=sys.stderr)

        t0 = time.monotonic()
        grade(assignment=assignment, root=solo, jobs=1, progress=False)
        t_ours1 = time.monotonic() - t0
        t_bare, n = _bare_nbclient(root, assignment, names)
        label = f"{assignment}, {N_SUBMISSIONS} submissions"
        return [
            {"name": f"grade --jobs 2 vs nbgrader autograde ({label})", "value": t_ours, "unit": "s",
             "baseline": t_nbgrader, "ratio": t_ours / t_nbgrader, "goal": "<= 0.6"},
            {"name": "same scores as nbgrader autograde", "value": float(same), "unit": "bool",
             "baseline": None, "ratio": None, "goal": "== 1"},
            {"name": "per notebook: grade --jobs 1 vs bare nbclient", "value": t_ours1 / n, "unit": "s",
             "baseline": t_bare / n, "ratio": t_ours1 / t_bare, "goal": "<= 1.2"},
            {"name": f"sandbox isolation ({report.isolation})", "value": float(report.isolation == "namespace"),
             "unit": "bool", "baseline": None, "ratio": None, "goal": "== 1"},
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    for row in run():
        print(row)

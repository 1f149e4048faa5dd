"""The grades CSV: one row per student, totals from the gradebook, and why anything went wrong."""
from __future__ import annotations

import csv
from pathlib import Path


def reports_dir(coursedir) -> Path:
    """``grader/reports`` next to the autograded folder."""
    return Path(coursedir.format_path(coursedir.autograded_directory, ".", ".")).resolve().parent / "reports"


def write_csv(coursedir, assignment: str, rows) -> Path:
    """Write ``reports/<assignment>-grades.csv``; rows are runner.StudentResult objects."""
    path = reports_dir(coursedir) / f"{assignment}-grades.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    notebooks = sorted({name for row in rows for name in row.notebooks})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student_id", "assignment", "score", "max_score", "status", *notebooks, "reasons"])
        for row in sorted(rows, key=lambda r: r.student):
            writer.writerow([row.student, assignment, f"{row.score:g}", f"{row.max_score:g}", row.status,
                             *(f"{row.notebooks[n].score:g}" if n in row.notebooks else "" for n in notebooks),
                             " | ".join(row.reasons)])
    return path


def read_csv(path: Path) -> dict[str, dict]:
    """student_id -> row dict (for tests and scripts)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}

"""The nbgrader gradebook, as the grading pipeline needs it (parent process only, serially).

Everything goes through nbgrader's own API (``nbgrader.api.Gradebook``), so the formgrader and
``nbgrader export`` see exactly what ``nbgrader autograde`` would have written.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


def load_config(root: Path) -> Config:
    """The course's nbgrader config (``ROOT/nbgrader_config.py``), with the root pinned to `root`."""
    root = Path(root).resolve()
    _venv_on_path()
    path = root / "nbgrader_config.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: is {root} an nbgrader course root? "
                                "(pass root=... / --root, or run from the repository)")
    config = PyFileConfigLoader(path.name, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return config


def _venv_on_path() -> None:
    # nbgrader creates a new gradebook by running the `alembic` command, which lives next to our
    # interpreter; `.venv/bin/socklab` alone does not put that folder on PATH.
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def course_directory(config: Config, assignment: str) -> CourseDirectory:
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    return coursedir


def ensure_assignment(config: Config, coursedir: CourseDirectory, assignment: str) -> list[str]:
    """Make sure the gradebook knows `assignment`; returns its notebook names.

    A fresh clone has no gradebook: we run nbgrader's generate_assignment into a throwaway
    release folder, which records the source cells (and their checksums) in the gradebook
    without touching ``notebooks/``.
    """
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    if not source.is_dir():
        raise FileNotFoundError(f"no source folder {source} for assignment {assignment!r}")
    wanted = sorted(p.stem for p in source.glob("*.ipynb"))
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            known = sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            known = []
    if known and set(wanted) <= set(known):
        return known
    from nbgrader.apps import GenerateAssignmentApp

    with tempfile.TemporaryDirectory(prefix="socklab-release-") as tmp:
        cfg = Config(config)
        cfg.CourseDirectory.release_directory = os.path.relpath(tmp, coursedir.root)
        cfg.GenerateAssignment.force = True
        app = GenerateAssignmentApp(config=cfg)
        app.initialize([])
        app.coursedir.assignment_id = assignment
        app.start()
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)


def source_cells(coursedir: CourseDirectory, assignment: str, notebook: str) -> dict[str, dict]:
    """grade_id -> {checksum, locked, grade, points} of the source notebook's cells."""
    out = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        nb = gb.find_notebook(notebook, assignment)
        graded = {c.name: c.max_score for c in nb.grade_cells}
        for cell in nb.source_cells:
            out[cell.name] = {"checksum": cell.checksum, "locked": cell.locked,
                              "grade": cell.name in graded, "points": graded.get(cell.name, 0.0)}
    return out


def ensure_submission(coursedir: CourseDirectory, assignment: str, student: str) -> None:
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student)


def zero_notebook(coursedir: CourseDirectory, assignment: str, student: str, notebook: str) -> None:
    """Score 0 for every grade of one submitted notebook (what nbgrader does for a missing one)."""
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        sub = gb.find_submission_notebook(notebook, assignment, student)
        for grade in sub.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
        gb.db.commit()


def zero_grades(coursedir: CourseDirectory, assignment: str, student: str, notebook: str,
                grade_ids: list[str]) -> None:
    """Score 0 for the named grade cells (tests a student deleted)."""
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        sub = gb.find_submission_notebook(notebook, assignment, student)
        for grade in sub.grades:
            if grade.name in grade_ids:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gb.db.commit()


def cap_scores(coursedir: CourseDirectory, assignment: str, student: str, notebook: str) -> None:
    """Clamp every automatic score of one notebook into [0, the cell's maximum] (from the source)."""
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        sub = gb.find_submission_notebook(notebook, assignment, student)
        for grade in sub.grades:
            if grade.auto_score is not None:
                grade.auto_score = min(max(float(grade.auto_score), 0.0), float(grade.max_score))
        gb.db.commit()


def scores(coursedir: CourseDirectory, assignment: str, student: str) -> dict:
    """{score, max_score, needs_manual, notebooks: {name: {score, max_score, grades: {id: (s, max)}}}}."""
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        sub = gb.find_submission(assignment, student)
        out = {"score": float(sub.score), "max_score": float(sub.max_score),
               "needs_manual": bool(sub.needs_manual_grade), "notebooks": {}}
        for nb in sub.notebooks:
            out["notebooks"][nb.name] = {
                "score": float(nb.score), "max_score": float(nb.max_score),
                "grades": {g.name: (None if g.score is None else float(g.score), float(g.max_score))
                           for g in nb.grades}}
        return out

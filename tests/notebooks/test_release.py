"""`socklab release`: notebooks/ is what nbgrader generates from solutions/, byte for byte."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from nbtools import NAMES, RELEASED, ROOT, SOLUTIONS
from socklab.release import ReleaseError, normalise_notebook, release


def test_regenerating_into_a_scratch_course_gives_the_committed_bytes(regenerated):
    """Does regenerating notebooks/ in a scratch copy give byte-identical files and the same file list?"""
    root, written, _ = regenerated
    fresh = root / "notebooks" / "ch03"
    assert sorted(p.name for p in fresh.iterdir()) == sorted(p.name for p in RELEASED.iterdir())
    stale = [p.name for p in RELEASED.glob("*.ipynb") if (fresh / p.name).read_bytes() != p.read_bytes()]
    assert not stale, f"notebooks/ is stale, run `make release`: {stale}"


def test_release_rewrites_only_what_changed_and_removes_strays(regenerated):
    """Does release rewrite just the damaged notebook and delete the stray file?"""
    root, written, _ = regenerated
    assert written.written == [f"notebooks/ch03/{NAMES[0]}"] and written.removed == ["notebooks/ch03/stray.ipynb"]


def test_release_registers_the_notebooks_in_the_course_gradebook(regenerated):
    """Like nbgrader generate_assignment, does release put ch03's notebooks and grade cells in the gradebook?"""
    root, _, _ = regenerated
    db = root / "grader" / "gradebook.db"
    assert db.is_file(), "formgrader and autograde need the assignment in grader/gradebook.db"
    con = sqlite3.connect(db)
    try:
        notebooks = con.execute("select notebook.name from notebook join assignment "
                                "on notebook.assignment_id = assignment.id where assignment.name = 'ch03'").fetchall()
        cells, points = con.execute(  # ch03's cells only: other chapters are released into the same gradebook
            "select count(*), sum(grade_cells.max_score) from grade_cells join base_cell on grade_cells.id = base_cell.id "
            "join notebook on base_cell.notebook_id = notebook.id join assignment on notebook.assignment_id = assignment.id where assignment.name = 'ch03'").fetchone()
    finally:
        con.close()
    assert sorted(n for (n,) in notebooks) == sorted(name.removesuffix(".ipynb") for name in NAMES)
    assert cells == 14 and points >= 50


def test_check_mode_reports_clean_after_a_release_without_writing(regenerated):
    """Right after a release, does check=True report nothing stale (and write nothing)?"""
    _, _, checked = regenerated
    assert checked.check and not checked.stale and "ch03" in checked.assignments, checked.text()
    assert "up to date" in checked.text()


def test_the_two_trees_list_the_same_files():
    """Do solutions/ch03 and notebooks/ch03 hold exactly the same file names?"""
    def names(folder):
        # Hidden entries (.ipynb_checkpoints from a JupyterLab session) are git-ignored and nbgrader skips them.
        rels = (p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
        return sorted(r for r in rels if not any(part.startswith(".") for part in r.parts))
    assert [r.as_posix() for r in names(SOLUTIONS)] == [r.as_posix() for r in names(RELEASED)]


def test_source_notebooks_match_their_generator():
    """Are the committed source notebooks exactly what tools/ch03_source.py writes?"""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "ch03_source.py"), "--check"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_unknown_assignment_gets_a_clear_error():
    """Does asking for a chapter that does not exist say which ones do?"""
    with pytest.raises(ReleaseError, match="ch03"):
        release(root=ROOT, assignments=["ch99"], check=True)


def test_normalise_strips_outputs_but_keeps_nbgrader_metadata():
    """Does normalising drop outputs and counts yet keep nbgrader metadata and tags, idempotently?"""
    nb = {"cells": [{"cell_type": "code", "execution_count": 7, "id": "x",
                     "metadata": {"nbgrader": {"grade": True, "grade_id": "q03_1_x", "points": 2}, "tags": ["t"],
                                  "execution": {"iopub.status.busy": "2026"}},
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi"}], "source": "1"}],
          "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}
    once = normalise_notebook(json.dumps(nb))
    cell = json.loads(once)["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None and "execution" not in cell["metadata"]
    assert cell["metadata"]["nbgrader"]["points"] == 2 and cell["metadata"]["tags"] == ["t"]
    assert normalise_notebook(once) == once and once.endswith("}\n")


def test_cli_release_is_registered_and_reports_errors_plainly(capsys):
    """Is `socklab release` registered, and does a bad chapter name exit 2 with a readable message?"""
    from socklab.cli import main
    assert main(["release", "ch99", "--check", "--root", str(ROOT)]) == 2
    assert "no source folder solutions/ch99" in capsys.readouterr().out

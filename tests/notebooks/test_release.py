"""`socklab release`: solutions/*.ipynb is what the text sources build, notebooks/ what nbgrader
generates from them, byte for byte."""
from __future__ import annotations

import json
import sqlite3

import pytest

from nbtools import COURSE, NAMES, RELEASED, ROOT, SOLUTIONS, load, nbgrader_meta
from socklab.release import ReleaseError, normalise_notebook, release
from support import copy_course


@pytest.mark.parametrize("tree", ["solutions", "notebooks"])
def test_regenerating_into_a_scratch_course_gives_the_committed_bytes(regenerated, tree):
    """Does regenerating solutions/*.ipynb and notebooks/ in a scratch copy give the committed bytes and file list?"""
    root, written, _ = regenerated
    for chapter in ("ch03",):
        fresh, committed = root / tree / chapter, ROOT / tree / chapter
        assert sorted(p.name for p in fresh.iterdir()) == sorted(p.name for p in committed.iterdir())
        stale = [p.name for p in committed.glob("*.ipynb") if (fresh / p.name).read_bytes() != p.read_bytes()]
        assert not stale, f"{tree}/{chapter} is stale, run `make release`: {stale}"


def test_release_rewrites_only_what_changed_and_removes_strays(regenerated):
    """Does release rewrite just the damaged notebooks (a built source and a student copy) and delete strays?"""
    root, written, _ = regenerated
    assert sorted(written.written) == [f"notebooks/ch03/{NAMES[0]}", f"solutions/ch03/{NAMES[1]}"], written.text()
    assert sorted(written.removed) == ["notebooks/ch03/stray.ipynb", "solutions/ch03/03.9-orphan.ipynb"]
    assert not (root / "solutions" / "ch03" / "03.9-orphan.ipynb").exists()


def test_text_sources_never_reach_the_student_folder(regenerated):
    """Does nbgrader's copy of the source folder leave the .md text sources out of notebooks/?"""
    root, _, _ = regenerated
    assert list((root / "solutions" / "ch03").glob("*.md")), "the scratch course has no text sources"
    assert not list((root / "notebooks").rglob("*.md"))


def test_check_mode_reports_a_stale_built_source_without_writing(tmp_path):
    """When a text source changed but its .ipynb was not rebuilt, does --check say so and write nothing?"""
    from socklab.cli import main
    root = copy_course(tmp_path / "course", ROOT)
    md = root / "solutions" / "ch03" / "03.3-service-ports.md"
    md.write_text(md.read_text(encoding="utf-8").replace("# 03.3 인터넷 서비스 포트", "# 03.3 인터넷 서비스 포트!", 1),
                  encoding="utf-8")
    before = {p: p.read_bytes() for p in root.rglob("*.ipynb")}
    report = release(root=root, assignments=["ch03"], check=True, gradebook=False)
    assert sorted(report.written) == ["notebooks/ch03/03.3-service-ports.ipynb", "solutions/ch03/03.3-service-ports.ipynb"]
    assert report.stale and "would write solutions/ch03/03.3-service-ports.ipynb" in report.text()
    assert {p: p.read_bytes() for p in root.rglob("*.ipynb")} == before
    assert main(["release", "--check", "--root", str(root), "--no-gradebook"]) == 1


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
    graded = [nbgrader_meta(c) for name in NAMES for c in load(SOLUTIONS / name)["cells"] if nbgrader_meta(c).get("grade")]
    assert cells == len(graded) and points == sum(m["points"] for m in graded) >= 50


def test_check_mode_reports_clean_after_a_release_without_writing(regenerated):
    """Right after a release, does check=True report nothing stale (and write nothing)?"""
    _, _, checked = regenerated
    assert checked.check and not checked.stale and "ch03" in checked.assignments, checked.text()
    assert "up to date" in checked.text()


def test_the_two_trees_list_the_same_files():
    """Do solutions/ch03 (text sources aside) and notebooks/ch03 hold exactly the same file names?"""
    def names(folder):
        # Hidden entries (.ipynb_checkpoints from a JupyterLab session) are git-ignored and nbgrader skips them.
        rels = (p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
        return sorted(r for r in rels if not any(part.startswith(".") for part in r.parts))
    sources = {f"{nb.file}.md" for nb in COURSE.chapter("ch03").notebooks}
    assert sources <= {r.as_posix() for r in names(SOLUTIONS)}
    assert [r.as_posix() for r in names(SOLUTIONS) if r.as_posix() not in sources] == \
        [r.as_posix() for r in names(RELEASED)]


def test_unknown_assignment_gets_a_clear_error():
    """Does asking for a chapter that is not in course.toml say which ones are?"""
    with pytest.raises(ReleaseError, match=r"'ch99' is not a chapter of .*course.toml \(chapters: ch03"):
        release(root=ROOT, assignments=["ch99"], check=True)


def test_normalise_strips_outputs_but_keeps_nbgrader_metadata():
    """Does normalising drop outputs, counts and jupytext pairing yet keep nbgrader metadata and tags, idempotently?"""
    nb = {"cells": [{"cell_type": "code", "execution_count": 7, "id": "x",
                     "metadata": {"nbgrader": {"grade": True, "grade_id": "q03_1_x", "points": 2}, "tags": ["t"],
                                  "execution": {"iopub.status.busy": "2026"}},
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi"}], "source": "1"}],
          "metadata": {"widgets": {"state": {}}, "jupytext": {"formats": "ipynb,md:myst"}}, "nbformat": 4, "nbformat_minor": 5}
    once = normalise_notebook(json.dumps(nb))
    assert json.loads(once)["metadata"] == {}, "a jupytext pairing must never reach a generated notebook (jupytext#157)"
    cell = json.loads(once)["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None and "execution" not in cell["metadata"]
    assert cell["metadata"]["nbgrader"]["points"] == 2 and cell["metadata"]["tags"] == ["t"]
    assert normalise_notebook(once) == once and once.endswith("}\n")


def test_cli_release_is_registered_and_reports_errors_plainly(capsys):
    """Is `socklab release` registered, and does a bad chapter name exit 2 with a readable message?"""
    from socklab.cli import main
    assert main(["release", "ch99", "--check", "--root", str(ROOT)]) == 2
    assert "'ch99' is not a chapter of" in capsys.readouterr().out

"""The chapter-5 notebooks' anatomy: MyST sources, ids, points, goals, setup, English sections, hidden tests."""
from __future__ import annotations

import re
import tomllib

import pytest

from nbtools import ROOT, folders, load, nbgrader_meta, source

SOLUTIONS, RELEASED, NAMES = folders("ch05")

GRADE_ID = re.compile(r"^q05_(\d+)_[a-z][a-z0-9_]*$")


def graded():
    return [(name, c) for name in NAMES for c in load(SOLUTIONS / name)["cells"] if nbgrader_meta(c).get("grade")]


def test_every_notebook_has_its_myst_source():
    """Does each solutions notebook come from a jupytext MyST source (test_sources checks the bytes)?"""
    assert len(NAMES) >= 3 and sorted(p.stem for p in SOLUTIONS.glob("*.md")) == [n[:-6] for n in NAMES]
    for md in SOLUTIONS.glob("*.md"):
        assert "format_name: myst" in md.read_text(encoding="utf-8").split("---", 2)[1]


def test_grade_ids_number_the_exercises_with_basic_and_robustness_cells():
    """Are grade cells q05_N_*, in order 1..7, unique, with a robustness cell after the systems exercises' basic cell?"""
    ids = [nbgrader_meta(c)["grade_id"] for _, c in graded()]
    assert all(GRADE_ID.match(i) for i in ids) and len(ids) == len(set(ids)), ids
    numbers = [int(GRADE_ID.match(i).group(1)) for i in ids]
    assert numbers == sorted(numbers) and set(numbers) == set(range(1, 8)), ids
    robust = {int(GRADE_ID.match(i).group(1)) for i in ids if i.endswith("_robust")}
    assert {1, 2, 3, 5, 6, 7} <= robust, robust
    every_id = [nbgrader_meta(c)["grade_id"] for name in NAMES for c in load(SOLUTIONS / name)["cells"] if nbgrader_meta(c)]
    assert len(every_id) == len(set(every_id))


def test_points_in_the_prose_match_the_metadata_the_intro_and_the_course_map():
    """Does every exercise heading state its points (ko and en), each intro its total, and course.toml the same?"""
    course = tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))
    ch05 = next(c for c in course["chapters"] if c["id"] == "ch05")
    assert ch05["book_mapping"] == "provisional" and ch05["book_note"]
    mapped = {nb["file"]: nb["points"] for nb in ch05["notebooks"]}
    assert sorted(mapped) == [n[:-6] for n in NAMES]
    total = 0
    for name in NAMES:
        cells = load(SOLUTIONS / name)["cells"]
        text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
        per_exercise: dict[int, int] = {}
        for c in cells:
            meta = nbgrader_meta(c)
            if meta.get("grade"):
                n = int(GRADE_ID.match(meta["grade_id"]).group(1))
                per_exercise[n] = per_exercise.get(n, 0) + meta["points"]
        for n, points in per_exercise.items():
            assert re.search(rf"연습 {n} \({points}점\)", text) and re.search(rf"Exercise {n} \({points} points\)", text), (name, n)
        notebook_points = sum(per_exercise.values())
        intro = source(cells[0])
        assert "학습 목표" in intro and "Learning goals" in intro
        assert f"= {notebook_points}점" in intro and f"= {notebook_points}." in intro, name
        assert mapped[name[:-6]] == notebook_points, name
        total += notebook_points
    assert total >= 50 and len({n for _, c in graded() for n in [GRADE_ID.match(nbgrader_meta(c)["grade_id"]).group(1)]}) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_setup_is_locked_sections_are_bilingual_and_demos_stay_silent_under_nbgrader(name):
    """Is the first code cell a locked setup cell, every prose section followed by English, every demo guarded?"""
    cells = load(SOLUTIONS / name)["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    setup = code[0]
    assert nbgrader_meta(setup).get("locked") and setup["metadata"].get("editable") is False
    assert "install_hint_display()" in source(setup)
    for c in cells:
        text = source(c)
        if c["cell_type"] == "markdown" and re.search(r"^#+ ", text, re.M):
            assert "<details><summary>English</summary>" in text, text[:80]
            assert not re.search(r"\*\*[^*]*\([A-Za-z][^*]*\)\*\*", text), f"gloss inside the bold: {text[:80]}"
        meta = nbgrader_meta(c)
        if c["cell_type"] == "code" and not meta:
            assert "if not env.under_nbgrader():" in text, f"a demo cell runs under nbgrader: {text[:80]}"
        assert not c.get("outputs"), "notebooks in git carry no outputs"


def test_released_notebooks_hold_no_solutions_hidden_tests_or_sources():
    """Do notebooks/ch05 mirror the solutions without answers, hidden tests or the .md sources?"""
    assert sorted(p.name for p in RELEASED.iterdir()) == NAMES
    for name in NAMES:
        text = (RELEASED / name).read_text(encoding="utf-8")
        for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "lost twice", "trap = lossy.Schedule"):
            assert marker not in text, (name, marker)

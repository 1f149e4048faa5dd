"""The chapter-3 notebooks' anatomy: ids, points, goals, setup, English sections, widgets, hidden tests."""
from __future__ import annotations

import re

import pytest

from nbtools import NAMES, RELEASED, SOLUTIONS, autograded, load, nbgrader_meta, source

GRADE_ID = re.compile(r"^q03_(\d+)_[a-z][a-z0-9_]*$")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def all_cells(folder):
    return [(name, cell) for name in NAMES for cell in load(folder / name)["cells"]]


def graded(folder=SOLUTIONS):
    """(notebook, cell, exercise number) for every graded cell, code or written."""
    out = []
    for name, cell in all_cells(folder):
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            m = GRADE_ID.match(meta.get("grade_id", ""))
            out.append((name, cell, int(m.group(1)) if m else None))
    return out


def test_grade_ids_are_unique_well_formed_and_cover_exercises_1_to_14_in_order():
    """Are the graded cells q03_1_* ... q03_14_*, in notebook order (an exercise may have a basic and a
    robustness cell, next to each other)?"""
    cells = graded()
    ids = [nbgrader_meta(c)["grade_id"] for _, c, _ in cells]
    assert all(GRADE_ID.match(i) for i in ids), ids
    numbers = [n for _, _, n in cells]
    assert numbers == sorted(numbers) and sorted(set(numbers)) == list(range(1, 15)), ids
    every_id = [nbgrader_meta(c)["grade_id"] for _, c in all_cells(SOLUTIONS) if nbgrader_meta(c)]
    assert len(every_id) == len(set(every_id)), "nbgrader grade_ids must be unique across the assignment"


def test_points_stated_in_markdown_match_the_metadata_and_total_at_least_50():
    """Does each exercise's heading state exactly the points nbgrader will award (the sum of its basic
    and robustness cells), adding up to >= 50?"""
    total = 0
    per_exercise: dict[tuple[str, int], int] = {}
    for name, cell, number in graded():
        assert nbgrader_meta(cell)["points"] > 0
        per_exercise[(name, number)] = per_exercise.get((name, number), 0) + nbgrader_meta(cell)["points"]
    for (name, number), points in per_exercise.items():
        text = "\n".join(source(c) for c in load(SOLUTIONS / name)["cells"] if c["cell_type"] == "markdown")
        stated = re.findall(rf"연습 {number} \((\d+)점", text)
        assert stated and all(int(p) == points for p in stated), f"exercise {number}: markdown {stated} vs {points}"
        english = re.findall(rf"Exercise {number} \((\d+) points", text)
        assert english and int(english[0]) == points, f"exercise {number}: English heading {english} vs {points}"
        total += points
    assert total >= 50, total


@pytest.mark.parametrize("name", NAMES)
def test_each_notebook_states_its_total_in_the_goals(name):
    """Does the introduction's points line add up to the notebook's grade cells?"""
    nb = load(SOLUTIONS / name)
    intro = source(nb["cells"][0])
    assert "학습 목표" in intro and "Learning goals" in intro
    points = sum(nbgrader_meta(c)["points"] for c in nb["cells"] if nbgrader_meta(c).get("grade"))
    assert f"= {points}점" in intro and f"= {points}." in intro, f"{name}: intro does not say {points}"


@pytest.mark.parametrize("name", NAMES)
def test_setup_cell_is_locked_read_only_and_installs_the_hint_display(name):
    """Is the first code cell a locked, read-only setup cell that installs ko/en failure display?"""
    code = [c for c in load(SOLUTIONS / name)["cells"] if c["cell_type"] == "code"]
    setup = code[0]
    meta = nbgrader_meta(setup)
    assert meta.get("locked") and not meta.get("solution") and not meta.get("grade")
    assert setup["metadata"].get("editable") is False and setup["metadata"].get("deletable") is False
    assert "install_hint_display()" in source(setup)


@pytest.mark.parametrize("name", NAMES)
def test_every_korean_section_has_an_english_details_block(name):
    """Does every prose section (a markdown cell with a heading) carry its English version in <details>?"""
    for cell in load(SOLUTIONS / name)["cells"]:
        text = source(cell)
        if cell["cell_type"] == "markdown" and re.search(r"^#+ ", text, re.M) and not nbgrader_meta(cell).get("grade"):
            assert "<details><summary>English</summary>" in text, text[:80]
            korean, english = text.split("<details><summary>English</summary>", 1)
            assert re.search(r"[\uac00-\ud7a3]", korean), "the section before <details> should be Korean"
            assert "</details>" in english


@pytest.mark.parametrize("name", NAMES)
def test_prose_and_tests_are_locked_and_answers_are_not(name):
    """Can students edit only their answers (prose, setup and tests are locked)?"""
    for cell in load(SOLUTIONS / name)["cells"]:
        meta = nbgrader_meta(cell)
        if cell["cell_type"] == "markdown" and not meta.get("solution"):
            assert meta.get("locked"), source(cell)[:60]
        if meta.get("grade") and cell["cell_type"] == "code":
            assert meta.get("locked") and not meta.get("solution")
        if meta.get("solution"):
            assert not meta.get("locked")
            assert "### BEGIN SOLUTION" in source(cell) and "### END SOLUTION" in source(cell)


@pytest.mark.parametrize("name", NAMES)
def test_demos_and_widgets_are_guarded_against_nbgrader(name):
    """Does every cell that starts a server or a widget check under_nbgrader(), with at least one widget?"""
    cells = [c for c in load(SOLUTIONS / name)["cells"] if c["cell_type"] == "code" and not nbgrader_meta(c)]
    widgets = [c for c in cells if "widgets." in source(c)]
    assert widgets, f"{name}: no widget"
    for cell in cells:
        text = source(cell)
        if any(k in text for k in ("widgets.", "servers.", "snmp.agent", "p2p.peer", "packets.ping")):
            assert "if not env.under_nbgrader():" in text, text[:80]


def test_trace_sequence_diagram_and_live_ping_demos_exist():
    """Do the demos show the traced sequence diagram of both ends and a live ping at the best tier?"""
    text = "\n".join(source(c) for c in load(SOLUTIONS / NAMES[0])["cells"])
    assert "trace.trace()" in text and ("t.show(" in text or "t.figure(" in text)
    assert "packets.ping(" in text and "packets.tier()" in text


def test_seed_corrections_are_taught():
    """Are the seed's simplifications corrected (4.2BSD 1983 / Net/1 1989; Linux vs IANA ephemeral ranges)?"""
    everything = "\n".join(source(c) for name in NAMES for c in load(SOLUTIONS / name)["cells"])
    for fact in ("4.2BSD", "1983", "Net/1", "1989", "32768–60999", "49152–65535", "ip_unprivileged_port_start"):
        assert fact in everything, fact


def test_every_autograded_cell_has_visible_then_hidden_tests():
    """Does each autograded cell test something visibly, then hold a non-empty hidden region?"""
    for name in NAMES:
        for cell in autograded(load(SOLUTIONS / name)):
            text = source(cell)
            gid = nbgrader_meta(cell)["grade_id"]
            assert text.lstrip().startswith('"""'), f"{gid}: a grade cell starts with a one-line docstring"
            assert all(h in text for h in HIDDEN), gid
            visible, rest = text.split(HIDDEN[0], 1)
            hidden = rest.split(HIDDEN[1], 1)[0]
            assert "expect_equal" in visible or "check" in visible, f"{gid}: no visible test"
            assert len(hidden.strip().splitlines()) >= 1, f"{gid}: empty hidden region"
            assert len(text.splitlines()) <= 30, f"{gid}: grade cells stay short"


def test_written_answer_is_manually_graded_with_a_rubric_only_in_the_source():
    """Is exercise 9 a manually graded answer whose rubric is stripped from the student notebook?"""
    written = [(n, c) for n, c, num in graded() if c["cell_type"] == "markdown"]
    assert [nbgrader_meta(c)["grade_id"] for _, c in written] == ["q03_9_models_written"]
    name, cell = written[0]
    assert "채점 기준" in source(cell) and "rubric" in source(cell)
    released = {nbgrader_meta(c).get("grade_id"): c for c in load(RELEASED / name)["cells"]}
    assert "rubric" not in source(released["q03_9_models_written"])


@pytest.mark.parametrize("folder", [SOLUTIONS, RELEASED], ids=["solutions", "notebooks"])
def test_committed_notebooks_carry_no_outputs(folder):
    """Are outputs and execution counts stripped from every committed notebook?"""
    for name, cell in all_cells(folder):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{name}: {source(cell)[:60]}"


def test_student_notebooks_hide_solutions_and_hidden_tests():
    """Do the released notebooks lack every solution and hidden test but keep the visible tests?"""
    for name in NAMES:
        text = (RELEASED / name).read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "lab-secret", "채점 기준"):
            assert marker not in text, f"{name}: {marker}"
        assert "raise NotImplementedError()" in text

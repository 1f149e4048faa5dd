"""Chapter 4's notebooks: anatomy (ids, points, goals, Korean + English, locks, hidden tests, course map),
MyST sources in step with the notebooks, and real kernels running them (solutions pass, blanks fail cleanly)."""
from __future__ import annotations

import re
import tomllib

import pytest

from nbtools import HIDDEN_END, HIDDEN_START, ROOT, folders, load, source
from nbtools import nbgrader_meta as meta

SOLUTIONS, RELEASED, NAMES = folders("ch04")

GRADE_ID = re.compile(r"^q04_(\d+)_[a-z][a-z0-9_]*$")


def graded(name):
    return [c for c in load(SOLUTIONS / name)["cells"] if meta(c).get("grade")]


def test_three_notebooks_with_at_least_six_exercises_and_fifty_points():
    """Are there 04.1–04.3 with >= 6 exercises, >= 50 points, and unique well-formed grade ids?"""
    assert NAMES == ["04.1-addresses-and-byte-order.ipynb", "04.2-streams-and-framing.ipynb", "04.3-errors-and-restarts.ipynb"]
    ids = [meta(c)["grade_id"] for n in NAMES for c in graded(n)]
    assert all(GRADE_ID.match(i) for i in ids) and len(ids) == len(set(ids)), ids
    exercises = sorted({int(GRADE_ID.match(i).group(1)) for i in ids})
    assert exercises == list(range(1, len(exercises) + 1)) and len(exercises) >= 6
    assert sum(meta(c)["points"] for n in NAMES for c in graded(n)) >= 50
    every = [meta(c)["grade_id"] for n in NAMES for c in load(SOLUTIONS / n)["cells"] if meta(c)]
    assert len(every) == len(set(every))


@pytest.mark.parametrize("name", NAMES)
def test_points_stated_match_the_grade_cells_and_the_course_map(name):
    """Does each exercise heading (ko and en), the intro total and course.toml state the points nbgrader awards?"""
    cells = load(SOLUTIONS / name)["cells"]
    text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    per_exercise: dict[int, int] = {}
    for c in graded(name):
        n = int(GRADE_ID.match(meta(c)["grade_id"]).group(1))
        per_exercise[n] = per_exercise.get(n, 0) + meta(c)["points"]
    for n, points in per_exercise.items():
        assert set(re.findall(rf"연습 {n} \((\d+)점", text)) == {str(points)}, n
        assert set(re.findall(rf"Exercise {n} \((\d+) points", text)) == {str(points)}, n
    total = sum(per_exercise.values())
    intro = source(cells[0])
    assert "학습 목표" in intro and "Learning goals" in intro and f"= {total}점" in intro and f"= {total}." in intro
    course = tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))
    (ch04,) = [c for c in course["chapters"] if c["id"] == "ch04"]
    entry = {nb["file"]: nb for nb in ch04["notebooks"]}[name.removesuffix(".ipynb")]
    assert entry["points"] == total
    assert ch04["book_mapping"] == "provisional" and "byte order" in ch04["book_note"] and "struct" in ch04["book_note"]


@pytest.mark.parametrize("name", NAMES)
def test_cells_are_locked_bilingual_and_guarded(name):
    """Setup locked and first; prose locked with an English <details>; answers editable; demos guarded from nbgrader."""
    cells = load(SOLUTIONS / name)["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    setup = code[0]
    assert meta(setup).get("locked") and setup["metadata"].get("editable") is False
    assert "install_hint_display()" in source(setup)
    for c in cells:
        m, text = meta(c), source(c)
        if c["cell_type"] == "markdown":
            assert m.get("locked"), text[:60]
            if re.search(r"^#+ ", text, re.M):
                korean, english = text.split("<details><summary>English</summary>", 1)
                assert re.search(r"[\uac00-\ud7a3]", korean) and "</details>" in english
                assert not re.search(r"\*\*[^*]*\([A-Za-z][^*]*\)\*\*", korean), "gloss inside the bold"
        elif m.get("solution"):
            assert not m.get("locked") and "### BEGIN SOLUTION" in text and "### END SOLUTION" in text
        elif m.get("grade"):
            assert m.get("locked") and text.lstrip().startswith('"""') and HIDDEN_START in text and HIDDEN_END in text
            assert text.split(HIDDEN_START, 1)[1].split(HIDDEN_END, 1)[0].strip(), "empty hidden region"
            assert len(text.splitlines()) <= 32, meta(c)["grade_id"]
        elif not m:
            if any(k in text for k in ("servers.", "relay.", "Relay(", "slowpeer.", "faults.", "live_view", "packets.", "same_port")):
                assert "if not env.under_nbgrader():" in text, text[:80]


@pytest.mark.parametrize("name", NAMES)
def test_a_worked_listing_comes_before_the_exercises_that_need_it(name):
    """Does plain socket code (a traced or commented worked listing) come before the first exercise prompt?"""
    cells = load(SOLUTIONS / name)["cells"]
    first_prompt = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "### 연습" in source(c))
    listings = [c for c in cells[:first_prompt] if c["cell_type"] == "code" and "worked listing" in source(c)]
    assert any("socket.socket(" in source(c) for c in listings), name


def test_myst_sources_and_notebooks_hold_the_same_cells():
    """Is every solutions/ch04 notebook what jupytext builds from its MyST source (same cells, same nbgrader metadata)?"""
    import jupytext

    for name in NAMES:
        text_nb = jupytext.read(SOLUTIONS / name.replace(".ipynb", ".md"))
        stored = load(SOLUTIONS / name)
        assert [(c.cell_type, c.source.strip()) for c in text_nb.cells] == \
               [(c["cell_type"], source(c).strip()) for c in stored["cells"]], name
        assert [meta(c) for c in text_nb.cells] == [meta(c) for c in stored["cells"]], name


def test_released_notebooks_hide_solutions_and_carry_no_outputs():
    """Do notebooks/ch04 exist for each source, without solutions, hidden tests, MyST sources or outputs?"""
    assert sorted(p.name for p in RELEASED.iterdir()) == NAMES
    for name in NAMES:
        text = (RELEASED / name).read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text
        assert "raise NotImplementedError()" in text
        for folder in (SOLUTIONS, RELEASED):
            for c in load(folder / name)["cells"]:
                if c["cell_type"] == "code":
                    assert c["outputs"] == [] and c["execution_count"] is None


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_solutions_run_with_every_grade_cell_passing_and_pictures_drawn(name):
    """Does the solutions notebook, demos included, run with no error, every grade cell passing and printing ✓?"""
    from nbtools import execute

    run = execute(SOLUTIONS / name, timeout=60)
    failed = [(meta(c).get("grade_id", i), [f"{e['ename']}: {e['evalue'][:300]}" for e in run.errors(c)])
              for i, c in enumerate(run.nb.cells) if c.cell_type == "code" and run.errors(c)]
    assert not failed, failed
    grade_cells = [c for c in run.nb.cells if c.cell_type == "code" and meta(c).get("grade")]
    for c in grade_cells:
        assert "✓" in run.text(c), meta(c)["grade_id"]
        assert not any(o.get("output_type") in ("execute_result", "display_data") for o in c.outputs)
    pictures = sum("image/svg+xml" in o.get("data", {}) for c in run.nb.cells for o in c.get("outputs", []))
    assert pictures >= {"04.1": 1, "04.2": 2, "04.3": 1}[name[:4]], f"{name}: {pictures} pictures"
    assert run.elapsed < 45, f"{name} took {run.elapsed:.1f} s"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_blank_student_notebook_fails_every_grade_cell_cleanly(name):
    """Does an unanswered student notebook, autograded, fail each grade cell with our ko/en message, demos silent?"""
    from nbtools import execute

    run = execute(RELEASED / name, nbgrader="autograde", timeout=30)
    for c in run.nb.cells:
        if c.cell_type != "code":
            continue
        errors = run.errors(c)
        if meta(c).get("grade"):
            assert errors and {e["ename"] for e in errors} <= {"ExerciseFailed", "TimeLimit"}, meta(c)["grade_id"]
            assert errors[0]["evalue"].startswith("✗ ") and "hint:" in errors[0]["evalue"]
            assert "Traceback" not in "".join(errors[0]["traceback"])
        else:
            assert not errors, source(c)[:60]
            if "under_nbgrader()" in source(c):
                assert not c.outputs, source(c)[:60]
    assert run.elapsed < 60

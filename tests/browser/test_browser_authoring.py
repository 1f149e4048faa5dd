"""An instructor edits a MyST text source in `make lab-instructor`: what reaches the students?

One scratch copy of the course, its own instructor lab (jupytext server extension, nbgrader's
Create Assignment panel), real Chromium. Never the repository's own files.
"""
from __future__ import annotations

import json
import time

import pytest

from labdriver import _PANEL, REPO, assert_page_clean, open_lab, open_notebook, running_lab, unsaved_after_kernel_start
from support import copy_course

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SOURCE_MD = "solutions/ch03/03.1-what-is-a-socket.md"
STUDENT = "notebooks/ch03/03.1-what-is-a-socket.ipynb"
PROMPT_MARK = "(socklab 편집 시험 / edited in the lab)"
GRADE_ID = "q03_1_layers"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return copy_course(tmp_path_factory.mktemp("authoring"), REPO)


@pytest.fixture(scope="module")
def author_lab(scratch, tmp_path_factory, artifacts):
    with running_lab(scratch, "instructor", state_dir=tmp_path_factory.mktemp("author-state"),
                     log_path=artifacts / "jupyterlab-authoring.log") as server:
        yield server


@pytest.fixture
def author_page(author_lab, blank_tab):
    return blank_tab


def _cells(md_text: str, root) -> list[dict]:
    from socklab.sources import build_notebook
    path = root / "scratch-build.md"
    path.write_text(md_text, encoding="utf-8")
    try:
        return json.loads(build_notebook(path))["cells"]
    finally:
        path.unlink()


def _prompt_index(cells: list[dict]) -> int:
    """The Markdown prompt just before exercise 1's answer cell."""
    answer = next(i for i, c in enumerate(cells) if c["metadata"].get("nbgrader", {}).get("grade_id") == f"{GRADE_ID}_answer")
    return max(i for i in range(answer) if cells[i]["cell_type"] == "markdown")


def test_a_source_opens_as_a_notebook_and_saving_writes_only_the_md(author_page, author_lab, scratch):
    """Opened by a plain double-click action, is the .md a notebook that stays "saved" once its kernel
    has started, and does saving it unchanged keep its bytes?"""
    before_md = (scratch / SOURCE_MD).read_bytes()
    before_ipynb = (scratch / SOURCE_MD).with_suffix(".ipynb").read_bytes()
    open_notebook(author_page, author_lab, SOURCE_MD)  # docmanager:open with no factory: the default viewer
    kind = author_page.evaluate(f"() => {_PANEL}.constructor.name + ' ' + {_PANEL}.content.widgets.length")
    assert kind.split()[1] == str(len(_cells(before_md.decode(), scratch))), kind
    assert unsaved_after_kernel_start(author_page) is False, "the source shows as unsaved the moment it opens"
    author_page.evaluate(f"() => {_PANEL}.context.save()")
    assert (scratch / SOURCE_MD).read_bytes() == before_md, "an unchanged save must not rewrite the source"
    assert (scratch / SOURCE_MD).with_suffix(".ipynb").read_bytes() == before_ipynb, "jupytext paired the .md with the .ipynb"
    assert_page_clean(author_page)


def test_prompt_and_points_edited_in_the_lab_reach_the_student_notebook(author_page, author_lab, scratch, artifacts):
    """Change a prompt in the editor and a grade cell's points in Create Assignment, save, release: does the
    student notebook show both, with every other cell unchanged?"""
    from socklab.release import release

    md = scratch / SOURCE_MD
    before = _cells(md.read_text(encoding="utf-8"), scratch)
    prompt = _prompt_index(before)
    grade = next(i for i, c in enumerate(before) if c["metadata"].get("nbgrader", {}).get("grade_id") == GRADE_ID)
    old_points = before[grade]["metadata"]["nbgrader"]["points"]

    open_lab(author_page, author_lab)
    open_notebook(author_page, author_lab, SOURCE_MD)
    page = author_page
    # The prompt: a double-click opens the Markdown cell's editor, as a person would edit it.
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(prompt)
    cell.scroll_into_view_if_needed()
    cell.dblclick()
    editor = cell.locator(".cm-content")
    editor.wait_for(state="visible")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n\n" + PROMPT_MARK)
    page.keyboard.press("Shift+Enter")  # render it again
    # The points: nbgrader's Create Assignment panel, the cell's Points box.
    page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-create-assignment')")
    panel = page.locator("#nbgrader-create_assignemnt")
    panel.wait_for(state="visible")
    widgets = panel.locator(".nbgrader-CellWidget")
    widgets.first.wait_for(state="attached")
    # The panel lists one widget per cell, in notebook order; the ID box holds the grade_id.
    assert widgets.count() == len(before), f"Create Assignment lists {widgets.count()} cells, the notebook has {len(before)}"
    widget = widgets.nth(grade)
    assert widget.locator(".nbgrader-CellId input").input_value() == GRADE_ID
    points_input = widget.locator(".nbgrader-CellPoints input")
    points_input.scroll_into_view_if_needed()
    assert points_input.input_value() == str(old_points)
    points_input.fill(str(old_points + 1))
    points_input.press("Tab")  # nbgrader writes the metadata on change
    page.wait_for_function(f"""() => {{
        const cell = {_PANEL}.content.widgets[{grade}].model;
        const nb = cell.getMetadata('nbgrader');
        return nb && nb.points === {old_points + 1};
    }}""")
    page.screenshot(path=str(artifacts / "authoring-create-assignment.png"))
    mtime = md.stat().st_mtime_ns
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 20
    while md.stat().st_mtime_ns == mtime and time.monotonic() < deadline:
        time.sleep(0.1)
    assert md.stat().st_mtime_ns != mtime, "saving did not write the .md"

    after = _cells(md.read_text(encoding="utf-8"), scratch)
    assert len(after) == len(before)
    changed = [i for i, (a, b) in enumerate(zip(after, before)) if a != b]
    assert changed == sorted({prompt, grade}), f"cells changed by the edit: {changed} (wanted {prompt}, {grade})"
    assert "".join(after[prompt]["source"]).endswith(PROMPT_MARK)
    assert after[grade]["metadata"]["nbgrader"]["points"] == old_points + 1

    # The map holds the points too: release refuses until it agrees, then the students get the change.
    import re

    from socklab.course import load_course
    from socklab.release import ReleaseError
    toml = scratch / "course.toml"
    mapped = next(nb.points for nb in load_course(root=scratch).notebooks() if nb.solution == SOURCE_MD.replace(".md", ".ipynb"))
    with pytest.raises(ReleaseError, match=f"course.toml says points = {mapped} "):
        release(root=scratch, gradebook=False)
    stem = re.escape(SOURCE_MD.rsplit("/", 1)[1].removesuffix(".md"))
    block = re.compile(r'(file = "' + stem + r'"(?:\n[^\[\n].*)*?\n\s*points = )(\d+)')
    toml.write_text(block.sub(lambda m: m.group(1) + str(mapped + 1), toml.read_text(encoding="utf-8"), count=1),
                    encoding="utf-8")
    report = release(root=scratch, gradebook=False)
    assert {STUDENT, "solutions/ch03/03.1-what-is-a-socket.ipynb", "README.md"} <= set(report.written), report.text()
    student = json.loads((scratch / STUDENT).read_text(encoding="utf-8"))["cells"]
    assert "".join(student[prompt]["source"]).endswith(PROMPT_MARK)
    assert student[grade]["metadata"]["nbgrader"]["points"] == old_points + 1
    assert not list((scratch / "notebooks").rglob("*.md"))


def test_saving_a_student_notebook_writes_no_text_twin(author_lab, scratch):
    """Saved through the lab's own contents manager (jupytext's), does a notebook under notebooks/ stay a lone .ipynb?"""
    folder = scratch / "notebooks" / "ch03"

    def files():  # JupyterLab's own .ipynb_checkpoints/ is git-ignored and never released
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    before = files()
    model = author_lab.api(f"api/contents/{STUDENT}")
    model["content"]["cells"][0]["source"] += "\n"
    author_lab.api(f"api/contents/{STUDENT}", method="PUT",
                   body={"type": "notebook", "format": "json", "content": model["content"]})
    assert files() == before, "jupytext wrote a text twin under notebooks/"
    saved = json.loads((scratch / STUDENT).read_text(encoding="utf-8"))
    assert "formats" not in saved["metadata"].get("jupytext", {})

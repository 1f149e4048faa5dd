"""The student lab (`make lab`) in Chromium: only the student's own work, an honest Validate, a working terminal."""
from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
from pathlib import Path

import pytest
from labdriver import (_PANEL, _RUN_FINISHED, assert_page_clean, open_lab, open_notebook, read_cells,
                       unsaved_after_kernel_start, watch)

pytestmark = pytest.mark.browser

STUDENT_PLUGINS = ["@jupyter/nbgrader:validate-assignment", "socklab-lab:validate-verdict"]
INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                      "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:assignment-list",
                      "@jupyter/nbgrader:menu"]
NB1 = "ch03/03.1-what-is-a-socket.ipynb"
NB2 = "ch03/03.2-network-models.ipynb"
NB3 = "ch03/03.3-service-ports.ipynb"
# Passes exercise 1's visible tests (four known things), fails its hidden ones.
LAYERS_VISIBLE_ONLY = '''def layer_of(name):
    return {"HTTP": "application", "TCP": "transport", "IP": "internet", "Ethernet": "link"}[name]
'''


def _chapters(course: Path) -> set[str]:
    """The released chapters (notebooks/chNN/): exactly what a student's root may list."""
    return {p.name for p in (course / "notebooks").iterdir() if p.is_dir() and list(p.glob("*.ipynb"))}


def _status(server, path: str) -> int:
    try:
        server.api(path)
        return 200
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_contents_api_reaches_only_the_workspace(student_lab, course):
    """Does the student server's contents API list only work/, and refuse solutions/, grader/ and formgrader?"""
    assert student_lab.server_root == course / "work"
    names = {e["name"] for e in student_lab.api("api/contents/")["content"]}
    assert names == _chapters(course), names
    assert (course / "solutions" / NB1).is_file() and (course / "grader" / "nbgrader_config.py").is_file()
    for path in ["api/contents/../solutions", "api/contents/..%2Fsolutions/" + NB1, "api/contents/solutions",
                 "api/contents/../grader/nbgrader_config.py", "api/contents/../notebooks",
                 "formgrader", "formgrader/api/assignments", "assignments", "courses"]:
        assert _status(student_lab, path) == 404, path


def test_student_page_has_no_instructor_parts(student_page, student_lab, course, artifacts):
    """Does the student page load Validate and socklab's verdict plugin but no formgrader, course list, Nbgrader
    menu or Create Assignment panel, and does the file browser show only the released chapters?"""
    page = student_page
    active = page.evaluate("(ids) => ids.filter(id => window.jupyterapp.isPluginActivated(id))",
                           STUDENT_PLUGINS + INSTRUCTOR_PLUGINS)
    assert active == STUDENT_PLUGINS
    assert page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).count() == 0
    assert page.locator(".jp-SideBar .lm-TabBar-tab", has_text="Create Assignment").count() == 0
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:go-to-path', {path: '/'})")
    page.locator(".jp-DirListing-item").first.wait_for()
    listed = page.locator(".jp-DirListing-itemName").all_inner_texts()
    page.screenshot(path=str(artifacts / "student-lab-file-browser.png"))
    assert [name.strip() for name in listed] == sorted(_chapters(course))
    assert_page_clean(page)


def _fill(path: Path, course: Path, answers: dict[str, str] | None = None) -> None:
    """Put the solutions' answers (or `answers`, by grade_id) into the student's copy at `path`."""
    solution = json.loads((course / "solutions" / path.parent.name / path.name).read_text())
    by_id = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in solution["cells"]
             if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    by_id.update(answers or {})
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and gid in by_id:
            cell["source"] = by_id[gid]
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False))


def _validate(page, server, relpath: str):
    """Click Validate; return the dialog once socklab's verdict is in it."""
    open_notebook(page, server, relpath)
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=150_000)
    page.wait_for_function("""() => { const m = document.getElementById('validation-message');
        return !!m && !!m.dataset.socklab && m.dataset.socklab !== 'pending'; }""", timeout=20_000)
    assert page.evaluate("() => document.getElementById('validation-message').dataset.socklab") == "shown"
    return dialog


@pytest.mark.slow
def test_validate_catches_a_bug_only_hidden_tests_see(student_page, student_lab, course, artifacts):
    """With a bug only the hidden tests catch, does Validate say so (which tests ran, which exercise) and
    never "Success"?"""
    page = student_page
    _fill(course / "work" / NB1, course, {"q03_1_layers_answer": LAYERS_VISIBLE_ONLY})
    dialog = _validate(page, student_lab, NB1)
    page.screenshot(path=str(artifacts / "student-validate-hidden-bug.png"))
    body = dialog.inner_text()
    assert "Success" not in body and dialog.locator(".validation-failed").count() == 1, body[:2000]
    assert "visible and hidden tests ran" in body and "숨겨진 테스트까지" in body
    assert "[q03_1_layers]" in body and re.search(r"0/\d+점", body), body[:2000]
    failed = re.findall(r"\[(q03_\w+)\]", body)
    assert failed == ["q03_1_layers"], f"only exercise 1 is wrong, the dialog lists {failed}"
    dialog.get_by_role("button", name="Ok").click()
    assert_page_clean(page)


@pytest.mark.slow
def test_validate_pass_lists_hand_graded_exercise(student_page, student_lab, course, artifacts):
    """When every autograded test passes, does Validate say that exercise 9 (5 points) is still graded by hand,
    instead of nbgrader's "Success! Your notebook passes all the tests."?"""
    page = student_page
    _fill(course / "work" / NB2, course)
    dialog = _validate(page, student_lab, NB2)
    page.screenshot(path=str(artifacts / "student-validate-pass-hand-graded.png"))
    body = dialog.inner_text()
    assert dialog.locator(".validation-success.socklab-incomplete").count() == 1, body[:2000]
    assert "Success! Your notebook passes all the tests." not in body
    assert "연습 9 (5점): 강사 채점 / graded by hand" in body
    assert re.search(r"autograded: (\d+) / \1점", body), body[:2000]
    dialog.get_by_role("button", name="Ok").click()
    assert_page_clean(page)


def _wait_file(path: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text().endswith("\n"):
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{path} was not written within {timeout:.0f} s")


def test_lab_terminal_runs_socklab(student_page, student_lab, course, artifacts):
    """In a terminal opened from the lab, is `socklab` on PATH (the venv's) and does `socklab --help` run?"""
    import sys

    page = student_page
    page.evaluate("() => window.jupyterapp.commands.execute('terminal:create-new')")
    page.locator(".jp-Terminal .xterm-helper-textarea").wait_for(state="attached")
    page.locator(".jp-Terminal").first.click()
    out = course / "work" / "socklab-help.txt"
    done = course / "work" / "socklab-help.done"
    try:
        page.keyboard.type(f"command -v socklab > {out.name}; socklab --help >> {out.name} 2>&1; "
                           f"echo $? > {done.name}\n")
        assert _wait_file(done).strip() == "0", out.read_text() if out.exists() else "no output"
        page.screenshot(path=str(artifacts / "student-terminal.png"))
        text = out.read_text()
        assert text.splitlines()[0] == str(Path(sys.executable).parent / "socklab")
        assert "usage: socklab" in text and "check" in text
    finally:
        out.unlink(missing_ok=True)
        done.unlink(missing_ok=True)
    assert_page_clean(page)


def _run_cell(page, index: int) -> dict:
    page.evaluate(f"""async (i) => {{
        const panel = {_PANEL};
        panel.content.activeCellIndex = i;
        await window.jupyterapp.commands.execute('notebook:run-cell');
    }}""", index)
    page.wait_for_function(_RUN_FINISHED, timeout=60_000)
    return page.evaluate(f"(i) => {_PANEL}.content.widgets[i].model.outputs.toJSON()", index)


def test_name_error_after_restart_says_run_setup_first(student_page, student_lab, course, artifacts):
    """After a kernel restart, does a test cell's NameError come with the "run the setup cell first" hint (ko/en),
    while still failing as an error?"""
    page = student_page
    cells = read_cells(course / "work" / NB3)
    setup = next(c for c in cells if c.role == "setup")
    test = next(c for c in cells if c.role == "grade")
    open_notebook(page, student_lab, NB3)
    _run_cell(page, setup.index)
    page.evaluate(f"async () => {{ await {_PANEL}.sessionContext.session.kernel.restart(); }}")
    page.wait_for_function(f"""() => {{ const k = {_PANEL}.sessionContext.session.kernel;
        return k.status === 'idle'; }}""", timeout=60_000)
    outputs = _run_cell(page, test.index)
    page.screenshot(path=str(artifacts / "student-name-error-hint.png"))
    assert [o["ename"] for o in outputs if o["output_type"] == "error"] == ["NameError"]
    hint = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "준비 셀을 먼저 실행하세요" in hint and "run the setup cell first" in hint, outputs
    assert_page_clean(page)


def test_notebook_opens_without_unsaved_mark(student_page, student_lab, course):
    """Does a workspace notebook open, start its kernel and stay "saved" (no dot on its tab), where a raw copy of
    the release would turn unsaved at once?"""
    page = student_page
    raw = course / "work" / "ch03" / "raw-release-copy.ipynb"
    shutil.copy2(course / "notebooks" / NB3, raw)
    try:
        for relpath, expect_dirty in [(NB3, False), ("ch03/raw-release-copy.ipynb", True)]:
            open_notebook(page, student_lab, relpath)
            assert unsaved_after_kernel_start(page) is expect_dirty, relpath
    finally:
        raw.unlink(missing_ok=True)


def test_work_survives_formgrader_generate(lab, student_lab, course):
    """When the instructor's formgrader regenerates notebooks/ (Generate), is the student's edited work/ copy kept
    byte for byte, also by the next sync?"""
    from socklab.workspace import sync

    mine = course / "work" / NB3
    notebook = json.loads(mine.read_text())
    notebook["cells"][0]["source"] = "# my notes\n" + "".join(notebook["cells"][0]["source"])
    mine.write_text(json.dumps(notebook, indent=1))
    before = mine.read_bytes()
    release = course / "notebooks" / NB3
    release.write_text(release.read_text().replace("\n", "\n ", 1))   # so Generate must rewrite it
    stale = release.read_bytes()
    result = lab.api("formgrader/api/assignment/ch03/assign", method="POST", body={}, timeout=120)
    assert result["success"], result
    assert release.read_bytes() != stale, "formgrader did not regenerate notebooks/"
    assert mine.read_bytes() == before
    report = sync(root=course)
    assert NB3 in report.kept + report.outdated and mine.read_bytes() == before


def test_restart_keeps_work_and_reopens_only_what_exists(browser, course, tmp_path, artifacts):
    """After a lab restart, is saved work still there, and does JupyterLab reopen the notebook that exists, but
    neither a deleted one nor the formgrader tab the instructor's lab (same course, same state folder) saved?"""
    from socklab.lab import start_lab

    state = tmp_path / "state"
    formgrader = "nbgrader-formgrader:formgrader"
    with start_lab(course, mode="instructor", state_dir=state) as instructor:
        instructor.api("lab/api/workspaces/default", method="PUT", body={"data": {
            "layout-restorer:data": {"main": {"dock": {"type": "tab-area", "currentIndex": 0,
                                                       "widgets": [formgrader]}, "current": formgrader}},
            formgrader: {"data": {}}}, "metadata": {"id": "default"}})
    gone = course / "work" / "ch03" / "deleted-later.ipynb"
    shutil.copy2(course / "work" / NB3, gone)
    with start_lab(course, mode="student", state_dir=state) as first:
        saved = first.api(f"api/contents/{NB3}")
        saved["content"]["cells"][0]["source"] = "# saved before the restart\n"
        first.api(f"api/contents/{NB3}", method="PUT", body={"type": "notebook", "content": saved["content"]})
        ids = [f"notebook:{NB3}", "notebook:ch03/deleted-later.ipynb"]
        first.api("lab/api/workspaces/default", method="PUT", body={"data": {
            "layout-restorer:data": {"main": {"dock": {"type": "tab-area", "currentIndex": 1, "widgets": ids},
                                              "current": ids[1]}},
            ids[0]: {"data": {"path": NB3, "factory": "Notebook"}},
            ids[1]: {"data": {"path": "ch03/deleted-later.ipynb", "factory": "Notebook"}}},
            "metadata": {"id": "default"}})
    gone.unlink()
    with start_lab(course, mode="student", state_dir=state, expose_app=True) as second:
        assert "saved before the restart" in json.dumps(second.api(f"api/contents/{NB3}")["content"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = watch(context.new_page())
            page.goto(second.url("lab"))
            page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.shell)", timeout=60_000)
            page.evaluate("async () => { await window.jupyterapp.restored; }")
            page.wait_for_function(f"() => !!{_PANEL} && {_PANEL}.context.path === {json.dumps(NB3)}")
            tabs = page.evaluate("() => Array.from(window.jupyterapp.shell.widgets('main')).map(w => w.title.label)")
            page.screenshot(path=str(artifacts / "student-restart-restored.png"))
            assert tabs == [Path(NB3).name]
            assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()
            assert_page_clean(page)
        finally:
            context.close()

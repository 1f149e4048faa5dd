"""nbgrader inside the lab: the Validate button and the formgrader, clicked in Chromium."""
from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest
from labdriver import assert_page_clean, course_notebooks, open_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SOLUTIONS = course_notebooks("solutions")
STUDENT = course_notebooks("notebooks")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _validate(page, lab, relpath: str):
    open_notebook(page, lab, relpath)  # with a kernel, as a student has it (nbgrader's button expects one)
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=150_000)  # nbgrader executes the whole notebook on the server
    return dialog


@pytest.mark.skipif(not SOLUTIONS, reason="no solutions/ch03 notebooks (see test_course_has_notebooks)")
def test_validate_button_passes_solution(notebook_page, lab, artifacts):
    """Does the toolbar's Validate button report success on a solutions notebook?"""
    page = notebook_page
    relpath = SOLUTIONS[0]
    dialog = _validate(page, lab, relpath)
    page.screenshot(path=str(artifacts / "validate-solution.png"))
    body = dialog.inner_text()
    assert dialog.locator(".validation-success").count() == 1, body[:2000]
    assert "Success! Your notebook passes all the tests." in body
    dialog.get_by_role("button", name="Ok").click()
    assert_page_clean(page)


@pytest.mark.skipif(not STUDENT, reason="no notebooks/ch03 notebooks (see test_course_has_notebooks)")
def test_validate_button_shows_hints_on_student_notebook(notebook_page, lab, artifacts):
    """Does Validate on an unsolved student notebook list failures with our ko/en hints, not tracebacks?"""
    page = notebook_page
    relpath = STUDENT[-1]
    dialog = _validate(page, lab, relpath)
    page.screenshot(path=str(artifacts / "validate-student.png"))
    body = dialog.inner_text()
    assert dialog.locator(".validation-failed").count() == 1, body[:2000]
    assert "✗" in body and HANGUL.search(body), f"no ko/en hint in the validation report:\n{body[:2000]}"
    assert "Traceback (most recent call last)" not in body, body[:2000]
    dialog.get_by_role("button", name="Ok").click()
    assert_page_clean(page)


@pytest.mark.skipif(not SOLUTIONS, reason="no solutions/ch03 notebooks (see test_course_has_notebooks)")
def test_formgrader_lists_ch03_and_its_notebooks(page, lab, artifacts):
    """Does /formgrader list ch03, generate it, and then show its notebooks in the gradebook?"""
    page.goto(lab.url("formgrader"))
    row = page.locator("tr", has=page.locator("td.name", has_text=re.compile(r"^\s*ch03\s*$")))
    row.wait_for()
    page.screenshot(path=str(artifacts / "formgrader-manage-assignments.png"))
    assert page.locator("#warning-exchange, #warning-course-id").count() == 0, "formgrader warns about the config"

    # Generate (the "education" cap icon): nbgrader writes the student version and the gradebook.
    row.locator("td.assign a").click()
    modal = page.locator("#success-modal, #error-modal")
    modal.wait_for(timeout=60_000)
    page.wait_for_function("""() => {  // the fade-in has finished (for the screenshot)
        const m = document.querySelector('#success-modal, #error-modal');
        return !!m && getComputedStyle(m).opacity === '1';
    }""")
    page.screenshot(path=str(artifacts / "formgrader-generate.png"))
    assert modal.get_attribute("id") == "success-modal", modal.inner_text()[:2000]

    page.goto(lab.url("formgrader/gradebook/ch03"))
    names = [PurePosixPath(p).stem for p in SOLUTIONS if "/ch03/" in p]   # this page lists ch03 only
    for name in names:
        page.locator("td", has_text=name).first.wait_for()
    page.screenshot(path=str(artifacts / "formgrader-gradebook-ch03.png"))
    assert_page_clean(page)

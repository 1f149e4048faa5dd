"""A whole class on the hub: release, fetch, solve, submit, collect, grade, feedback — in Chromium.

Lives in tests/browser to share its one Chromium (two Playwright instances cannot coexist).
One long test on purpose: each step needs the one before it (a hub start and three user servers
cost ~30 s; doing it once keeps the suite fast).
"""
from __future__ import annotations

import csv
import os
import pathlib
import time

import pytest

from hub.hubfixtures import hub, hub_plan  # noqa: F401  (fixtures)
from hub.hubdriver import (CHROMIUM_ARGS, api, as_user, autograded_points, click_in_list, login,
                           open_assignments, passwords, solution_answers, solve)

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(1200)]
REPO = pathlib.Path(__file__).resolve().parents[2]


def _ok(proc, what: str) -> str:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


def test_a_class_fetches_submits_and_gets_only_its_own_feedback(hub, browser):
    """Can the instructor release ch03, three students fetch, solve differently and submit from
    their own labs, and each read back only their own score after a sandboxed `socklab grade`?"""
    plan, course = hub.plan, hub.plan.course
    teacher, (good, partial, blank) = plan.instructor, plan.students
    secret = passwords(plan)
    names = sorted(p.stem for p in (REPO / "solutions" / "ch03").glob("*.ipynb"))
    maximum = sum(autograded_points(REPO / "solutions" / "ch03" / f"{n}.ipynb") for n in names)

    # The instructor releases ch03 (what formgrader's Generate and Release buttons run).
    _ok(as_user(plan, teacher, "socklab", "release", "ch03", cwd=course), "socklab release")
    _ok(as_user(plan, teacher, "nbgrader", "release_assignment", "ch03", cwd=course), "release_assignment")

    # Formgrader opens for the instructor, framed by their own lab (JupyterHub >= 4.1 forbids
    # frames unless the server allows them: nbgrader#1870).
    tpage = login(browser, hub, teacher, secret[teacher])
    resp = tpage.goto(f"{hub.url}/user/{teacher}/formgrader/manage_assignments")
    assert resp.status == 200 and "frame-ancestors 'self'" in resp.headers.get("content-security-policy", "")
    tpage.wait_for_selector("text=ch03")
    tpage.context.close()

    # Students: log in, fetch from the Assignments panel, solve, submit.
    answers = {good: {n: solution_answers(REPO / "solutions" / "ch03" / f"{n}.ipynb") for n in names},
               partial: {names[0]: solution_answers(REPO / "solutions" / "ch03" / f"{names[0]}.ipynb")},
               blank: {}}
    pages = {}
    for student in plan.students:
        page = login(browser, hub, student, secret[student])
        # A student's lab has no instructor tools.
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        page.keyboard.press("Escape")
        assert "Formgrader" not in items and "Course List" not in items, items
        open_assignments(page)
        click_in_list(page, "released_assignments_list", "Fetch", then="#fetched_assignments_list .list_item")
        for name in names:
            got = api(page, hub, student, "GET", f"contents/ch03/{name}.ipynb?content=1")
            assert got.status == 200, (student, name, got.status)
            nb = got.json()["content"]
            if answers[student].get(name):
                put = api(page, hub, student, "PUT", f"contents/ch03/{name}.ipynb",
                          {"type": "notebook", "format": "json", "content": solve(nb, answers[student][name])})
                assert put.status in (200, 201), (student, name, put.status, put.text()[:300])
        click_in_list(page, "fetched_assignments_list", "Submit", then="#submitted_assignments_list .list_item")
        pages[student] = page

    # Nobody reads or changes another student's submission through the exchange (nbgrader#978).
    inbound = plan.exchange / "socklab" / "inbound"
    assert as_user(plan, partial, "ls", str(inbound)).returncode != 0
    theirs = next(p for p in inbound.iterdir() if p.name.startswith(f"{good}+ch03+"))
    peek = as_user(plan, partial, "cat", str(theirs / f"{names[0]}.ipynb"))
    assert peek.returncode != 0 and "Permission denied" in peek.stderr, peek
    assert as_user(plan, partial, "touch", str(theirs / "x")).returncode != 0

    # The instructor collects and grades in the sandbox, then releases feedback.
    _ok(as_user(plan, teacher, "nbgrader", "collect", "ch03", cwd=course), "collect")
    for student in plan.students:
        assert (course / "grader" / "submitted" / student / "ch03").is_dir(), student  # each under their own id
    _ok(as_user(plan, teacher, "socklab", "grade", "ch03", "--jobs", "2", cwd=course), "socklab grade")
    out = course / "grades.csv"
    _ok(as_user(plan, teacher, "nbgrader", "export", "--to", str(out), cwd=course), "nbgrader export")
    with out.open(newline="") as f:
        scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert scores[good] == maximum, scores
    assert 0 < scores[partial] < maximum, scores
    assert scores[blank] == 0, scores
    _ok(as_user(plan, teacher, "nbgrader", "release_feedback", "ch03", cwd=course), "release_feedback")

    # A running kernel, to prove stopping the hub ends kernels too.
    started = api(pages[blank], hub, blank, "POST", "kernels", {"name": "python3"})
    assert started.status == 201, started.text()[:300]

    # Each student fetches their feedback in their lab and sees their own score, nobody else's.
    for student, page in pages.items():
        row = page.locator("#submitted_assignments_list .list_item", has_text="ch03").first
        row.get_by_role("button", name="Fetch Feedback").click()
        deadline = time.monotonic() + 60
        while (listing := api(page, hub, student, "GET", "contents/ch03/feedback")).status != 200:
            assert time.monotonic() < deadline, f"{student}'s feedback never arrived in ~/ch03/feedback"
            page.wait_for_timeout(250)   # bounded polling of the contents API
        stamp = listing.json()["content"][0]["name"]
        html = page.goto(f"{hub.url}/user/{student}/files/ch03/feedback/{stamp}/{names[0]}.html")
        assert html.status == 200
        text = page.inner_text("body")
        assert f"ch03: {student}" in text and f"{scores[student]:g} / " in text, text[:400]
        for other in plan.students:
            assert other == student or other not in text
        assert "BEGIN HIDDEN TESTS" not in page.content()
        page.context.close()

    # Stopping the hub leaves nothing: hub, proxy, every user server and kernel, checked by PID.
    assert any(p != hub.process.pid for p in hub.pids())
    hub.stop()
    assert hub.pids() == [], hub.pids()
    assert not (plan.hubdir / "socklab-hub.json").exists()

"""Helpers for the hub tests: accounts' passwords, commands as an account, a student in Chromium."""
from __future__ import annotations

import json
import pathlib
import pwd
import re
import subprocess
import time

import nbformat

CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--no-sandbox", "--disable-gpu", "--disable-default-apps",
                 "--disable-extensions"]


def passwords(plan) -> dict[str, str]:
    """The password sheet `socklab hub` wrote for the accounts it created."""
    lines = (plan.hubdir / "passwords.csv").read_text().splitlines()[1:]
    return dict(line.split(",", 1) for line in lines)


def as_user(plan, user: str, *cmd: str, cwd: pathlib.Path | None = None, timeout: float = 900):
    """Run `cmd` as the Unix account `user`, with the environment its hub server has."""
    home = pwd.getpwnam(user).pw_dir
    role = "instructor" if user == plan.instructor else "student"
    env = {"HOME": home, "USER": user, "LANG": "C.UTF-8",
           "PATH": f"{plan.prefix / 'bin'}:/usr/bin:/bin",
           "JUPYTER_CONFIG_PATH": str(plan.config_dir(role)), "SOCKLAB_EXCHANGE": str(plan.exchange)}
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *cmd],
                          cwd=str(cwd or home), capture_output=True, text=True, timeout=timeout)


def login(browser, hub, user: str, password: str):
    """A new browser context logged in as `user`; returns the page showing the user's JupyterLab."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    # The spawn-pending page follows the spawn through an event stream, which a loaded machine
    # can drop; ask the server itself (through the same cookies) until it answers.
    deadline = time.monotonic() + 240
    lab = re.compile(rf"/user/{re.escape(user)}/lab")
    while not lab.search(page.url):
        probe = page.request.get(f"{hub.url}/user/{user}/lab")   # follows the OAuth redirects
        if probe.ok and lab.search(probe.url) and "/hub/" not in probe.url:
            _go_to_lab(page, f"{hub.url}/user/{user}/lab", lab)
            break
        assert time.monotonic() < deadline, f"{user}'s server did not start within 240 s"
        page.wait_for_timeout(500)   # bounded polling
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    return page


def _go_to_lab(page, url: str, lab: re.Pattern) -> None:
    """Open the lab, unless the spawn page's own redirect gets there first (the two race)."""
    from playwright.sync_api import Error

    try:
        page.goto(url)
    except Error as exc:
        if "interrupted by another navigation" not in str(exc):
            raise
        page.wait_for_url(lab)


def open_assignments(page):
    """Nbgrader ▸ Assignment List: the panel students fetch, submit and get feedback with."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    item = page.locator(".lm-Menu-itemLabel", has_text="Assignment List")
    deadline = time.monotonic() + 60
    while True:   # on a loaded machine a click can land while the menu bar is still closing a menu
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        try:
            item.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeout:   # close whatever opened and try again
            assert time.monotonic() < deadline, "the Nbgrader menu never showed Assignment List"
            page.keyboard.press("Escape")
    item.click()
    page.wait_for_selector("#released_assignments_list, #fetched_assignments_list")


def click_in_list(page, list_id: str, button: str, *, then: str) -> None:
    """Click `button` on the ch03 row of one of the panel's lists, and wait until `then` shows."""
    row = page.locator(f"#{list_id} .list_item", has_text="ch03").first
    row.get_by_role("button", name=button).click()
    page.wait_for_selector(then, timeout=120_000)


def api(page, hub, user: str, method: str, path: str, body: dict | None = None):
    """A Jupyter REST call as the logged-in user (cookies + XSRF token of the page's context)."""
    # The hub and the user's server each set an _xsrf cookie; the server wants its own.
    xsrf = [c["value"] for c in page.context.cookies()
            if c["name"] == "_xsrf" and c["path"].startswith(f"/user/{user}")]
    headers = {"X-XSRFToken": xsrf[0] if xsrf else "", "Content-Type": "application/json"}
    url = f"{hub.url}/user/{user}/api/{path}"
    resp = page.request.fetch(url, method=method, headers=headers,
                              data=json.dumps(body) if body is not None else None)
    return resp


def solve(student_nb: dict, answers: dict[str, str]) -> dict:
    """The fetched notebook with the given solution cells filled in (others untouched)."""
    nb = json.loads(json.dumps(student_nb))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def solution_answers(path: pathlib.Path) -> dict[str, str]:
    """grade_id -> source of each solution cell of a source notebook."""
    out = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = cell.source
    return out


def autograded_points(path: pathlib.Path) -> float:
    """The points of a notebook's autograded (code) grade cells."""
    total = 0.0
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            total += float(meta.get("points", 0))
    return total

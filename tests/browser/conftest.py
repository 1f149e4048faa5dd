"""Fixtures for the browser tests: a copy of the course, one JupyterLab on it, one Chromium.

The lab runs on a temporary copy of the course so formgrader and the validator never
touch the real grader/gradebook.db. Chromium is Debian's (/usr/bin/chromium or
$SOCKLAB_CHROMIUM); Playwright's own browser download is never used.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
import pytest

from labdriver import ARTIFACTS, CHROMIUM_ARGS, SOURCE, running_lab
from support import copy_course, strict_skip

INSTALL_HINT = (
    "Chromium is needed for the browser tests: `sudo apt-get install chromium` (Debian/Ubuntu), "
    "or point SOCKLAB_CHROMIUM at a Chromium/Chrome binary. Playwright's browser download is not used."
)


def chromium_path() -> str | None:
    """Debian's Chromium, or the one $SOCKLAB_CHROMIUM names; None when there is none."""
    wanted = os.environ.get("SOCKLAB_CHROMIUM")
    for candidate in ([wanted] if wanted else ["/usr/bin/chromium", shutil.which("chromium") or ""]):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        strict_skip(INSTALL_HINT)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        strict_skip("Playwright for Python is missing: `.venv/bin/pip install -e '.[test]'`")
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    """A copy of the course (config, solutions/, notebooks/); the config finds paths from its own file."""
    return copy_course(tmp_path_factory.mktemp("course"), SOURCE)


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def blank_tab(browser, request, artifacts):
    """A fresh browser tab, on no lab yet; on failure a screenshot named after the test is kept."""
    context, tab = _new_tab(browser)
    try:
        yield tab
    finally:
        _screenshot_if_failed(tab, request, artifacts)
        context.close()


@pytest.fixture
def page(lab, blank_tab):
    """A fresh browser tab for the session's lab; on failure a screenshot named after the test is kept."""
    return blank_tab


def _new_tab(browser):
    """A watched tab in a new browser context (Korean locale, 30 s default timeout), and that context."""
    from labdriver import watch

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    context.set_default_timeout(30_000)
    return context, watch(context.new_page())


def _lab_tab(browser, server):
    """A tab with JupyterLab loaded (from an empty workspace), and the context to close afterwards."""
    from labdriver import open_lab

    context, tab = _new_tab(browser)
    open_lab(tab, server)
    return context, tab


def _clean_after(tab, request, artifacts) -> None:
    """After a test on a shared tab: screenshot on failure, close every tab, shut kernels and terminals down."""
    from labdriver import close_all

    _screenshot_if_failed(tab, request, artifacts)
    close_all(tab)
    tab.page_errors.clear()  # each test answers for what happened during it
    tab.external_requests.clear()


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def _screenshot_if_failed(tab, request, artifacts) -> None:
    """Keep a FAILED-<test>.png of `tab` when the test's call phase failed."""
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        try:
            tab.screenshot(path=str(artifacts / f"FAILED-{_safe(request.node.name)}.png"))
        except Exception:  # noqa: BLE001 - a broken page must not hide the real failure
            pass


def _lab_fixtures(mode: str, *, server: str, tab: str, page: str, state: str, log: str):
    """The fixtures of one kind of lab, named `server`, `tab` and `page`: a real JupyterLab in `mode`
    on the course copy for the session (stopped by PID at the end), one JupyterLab tab on it for the
    session (loading JupyterLab costs ~5 s, opening a notebook does not), and, per test, that tab
    with every notebook and terminal closed and its kernel shut down afterwards."""

    @pytest.fixture(scope="session", name=server)
    def server_fixture(course, tmp_path_factory, artifacts):
        """One real JupyterLab on the course copy for the session; stopped by PID at the end."""
        with running_lab(course, mode, state_dir=tmp_path_factory.mktemp(state), log_path=artifacts / log) as running:
            yield running

    @pytest.fixture(scope="session", name=tab)
    def tab_fixture(browser, request):
        """One JupyterLab tab on that lab for the whole session."""
        context, shared = _lab_tab(browser, request.getfixturevalue(server))
        try:
            yield shared
        finally:
            context.close()

    @pytest.fixture(name=page)
    def page_fixture(request, artifacts):
        """The shared tab; afterwards every notebook and terminal is closed and its kernel shut down."""
        shared = request.getfixturevalue(tab)
        try:
            yield shared
        finally:
            _clean_after(shared, request, artifacts)

    return server_fixture, tab_fixture, page_fixture


# Instructor mode (`make lab-instructor`) and student mode (`make lab`: its root is the copy's work/).
lab, lab_page, notebook_page = _lab_fixtures("instructor", server="lab", tab="lab_page", page="notebook_page",
                                             state="jupyter-state", log="jupyterlab.log")
student_lab, student_tab, student_page = _lab_fixtures("student", server="student_lab", tab="student_tab",
                                                       page="student_page", state="student-state",
                                                       log="jupyterlab-student.log")

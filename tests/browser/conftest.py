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

from labdriver import ARTIFACTS, CHROMIUM_ARGS, SOURCE
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
def lab(course, tmp_path_factory, artifacts):
    """One real JupyterLab (instructor mode) on the course copy; stopped by PID at the end."""
    from socklab.lab import start_lab

    server = start_lab(course, mode="instructor", state_dir=tmp_path_factory.mktemp("jupyter-state"),
                       log_path=artifacts / "jupyterlab.log", expose_app=True, timeout=60)
    try:
        yield server
    finally:
        server.stop()


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
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    context.set_default_timeout(30_000)
    from labdriver import watch

    tab = watch(context.new_page())
    try:
        yield tab
    finally:
        _screenshot_if_failed(tab, request, artifacts)
        context.close()


@pytest.fixture
def page(lab, blank_tab):
    """A fresh browser tab for the session's lab; on failure a screenshot named after the test is kept."""
    return blank_tab


@pytest.fixture(scope="session")
def lab_page(browser, lab):
    """One JupyterLab tab for the whole session: loading JupyterLab costs ~5 s, opening a notebook does not."""
    from labdriver import open_lab, watch

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    context.set_default_timeout(30_000)
    tab = watch(context.new_page())
    open_lab(tab, lab)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def notebook_page(lab_page, request, artifacts):
    """The shared JupyterLab tab; afterwards every notebook is closed and its kernel shut down."""
    from labdriver import close_all

    try:
        yield lab_page
    finally:
        _screenshot_if_failed(lab_page, request, artifacts)
        close_all(lab_page)
        lab_page.page_errors.clear()  # each test answers for what happened during it
        lab_page.external_requests.clear()


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

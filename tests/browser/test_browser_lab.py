"""`make lab`: the server socklab.lab starts, and the JupyterLab page it serves."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from labdriver import alive as _alive, assert_page_clean, kill_server as _kill_server, open_menu
from labdriver import read_until as _read_until

pytestmark = pytest.mark.browser

NBGRADER_PLUGINS = [
    "@jupyter/nbgrader:validate-assignment",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:create-assignment",
]
WIDGETS_PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on `port` (read from /proc, no traffic)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


def test_lab_serves_loopback_only_behind_a_token(lab):
    """Does the lab listen on 127.0.0.1 only, on the port it picked, and refuse requests without the token?"""
    assert lab.port > 0
    assert _listening_addresses(lab.port) == {"0100007F"}, "JupyterLab must listen on 127.0.0.1 only"
    assert lab.api("api/status")["started"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(lab.url("api/status", token=False), timeout=5)
    assert refused.value.code == 403
    refused.value.close()


def test_lab_never_calls_home(lab):
    """Are the news feed and the update check off, so the lab sends nothing to the internet?"""
    assert lab.api("lab/api/news")["news"] == []
    assert lab.api("lab/api/update")["notification"] is None


def test_page_has_nbgrader_widgets_and_no_news_popup(notebook_page, artifacts):
    """Does the page load nbgrader's and ipywidgets' extensions, without asking about Jupyter news or
    fetching anything from the internet?"""
    page = notebook_page  # freshly loaded by the lab_page fixture
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    assert ANNOUNCEMENTS_PLUGIN in config["disabledExtensions"]
    active = page.evaluate("(ids) => ids.filter(id => window.jupyterapp.isPluginActivated(id))",
                           [*NBGRADER_PLUGINS, WIDGETS_PLUGIN, ANNOUNCEMENTS_PLUGIN])
    assert set(active) == {*NBGRADER_PLUGINS, WIDGETS_PLUGIN}, f"active plugins: {active}"

    open_menu(page, "Nbgrader", "Formgrader")
    assert page.get_by_role("menuitem", name="Assignment List", exact=True).is_visible()
    page.screenshot(path=str(artifacts / "lab-nbgrader-menu.png"))
    page.keyboard.press("Escape")  # closes the menu
    page.keyboard.press("Escape")  # leaves the menu bar
    assert page.locator(".jp-Notification-Toast, .Toastify__toast").count() == 0, "a notification popped up"
    assert page.evaluate("() => document.querySelector('.jp-Notification-Status').textContent.trim()") == "0"
    sidebar = page.locator(".jp-SideBar.jp-mod-right .lm-TabBar-tab", has_text="Create Assignment")
    assert sidebar.count() == 1, "no Create Assignment panel in the right sidebar"
    assert_page_clean(page)


def test_make_lab_prints_url_and_ctrl_c_stops_kernels(course, tmp_path):
    """Does `make lab` (python -m socklab.lab) print a working URL with its token, keep the answers out of the
    student's file browser, and end the server and its kernels on Ctrl-C?"""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(tmp_path / "lab.err", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "socklab.lab", "--mode", "student", "--root", str(course)],
            stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True)
    server_pid = None
    try:
        match = _read_until(process, re.compile(r"(http://127\.0\.0\.1:(\d+)/lab/tree\?token=(\w+))"),
                            time.monotonic() + 60)
        url, port, token = match.group(1), int(match.group(2)), match.group(3)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        listing = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents/",
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(listing, timeout=10) as response:
            names = {entry["name"] for entry in json.loads(response.read())["content"]}
        chapters = {p.name for p in (course / "notebooks").iterdir() if p.is_dir()}
        assert names == chapters, f"a student's file browser shows {sorted(names)}, not just their work/"
        info = next((course / ".jupyter-runtime" / "student" / "runtime").glob("jpserver-*.json"))
        server_pid = json.loads(info.read_text())["pid"]
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/kernels", method="POST",
                                         data=b'{"name": "python3"}',
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        from socklab.lab import _descendants

        kernels = _descendants(server_pid)
        assert kernels, "the kernel did not start"

        process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does
        assert process.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in [server_pid, *kernels]):
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in [server_pid, *kernels]), "server or kernel survived Ctrl-C"
    finally:
        process.stdout.close()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # let main() stop its server and kernels first
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Whatever main() could not clean up (it runs in its own session): by PID, from its info files.
        for info in (course / ".jupyter-runtime" / "student" / "runtime").glob("jpserver-*.json"):
            _kill_server(json.loads(info.read_text())["pid"])
        if server_pid:
            _kill_server(server_pid)

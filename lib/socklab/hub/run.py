"""Start and stop the class hub: JupyterHub + its proxy on 127.0.0.1, stopped by PID.

`start_hub()` installs what is missing (Python, accounts, course, config), starts JupyterHub as a
child process and returns once ``/hub/api`` answers. `Hub.stop()` (also on SIGINT, SIGTERM and
SIGHUP in `socklab hub`) ends the hub, which stops the proxy and every user server; anything of
the class's accounts still alive afterwards is ended by PID, so nothing is left behind.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import pwd
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from .install import HubError, HubPlan, ensure_users, install_course, install_python, write_configs

__all__ = ["Hub", "start_hub", "running_hub", "stop_running_hub"]

CONFIG = pathlib.Path("deploy") / "hub" / "jupyterhub_config.py"   # relative to plan.repo


def _free_port() -> int:
    # The hub needs its port numbers up front (the proxy, the hub API and the public URL are
    # configured, not discovered); ask the OS for free ones and retry the start if one is taken.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return pathlib.Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _pids_of(uids: set[int]) -> list[int]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids and _alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _end(pids: list[int], grace: float) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclasses.dataclass
class Hub:
    """A running class hub."""

    plan: HubPlan
    url: str
    process: subprocess.Popen
    log: pathlib.Path

    def api(self, path: str, token: str | None = None, timeout: float = 10.0) -> dict:
        """GET ``/hub/api/<path>`` and return the JSON answer."""
        req = urllib.request.Request(f"{self.url}/hub/api/{path}")
        if token:
            req.add_header("Authorization", f"token {token}")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())

    def pids(self) -> list[int]:
        """The hub, its proxy, and every process of the class's accounts."""
        uids = {pwd.getpwnam(u).pw_uid for u in self.plan.users}
        pids = [self.process.pid] if _alive(self.process.pid) else []
        proxy = self.plan.hubdir / "proxy.pid"
        if proxy.is_file():
            try:
                pid = int(proxy.read_text().strip())
                if _alive(pid):
                    pids.append(pid)
            except ValueError:
                pass
        return pids + _pids_of(uids)

    def stop(self, grace: float = 15.0) -> None:
        """Stop the hub (it stops the proxy and user servers), then end leftovers by PID."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        _end(self.pids(), grace=5.0)
        (self.plan.hubdir / "socklab-hub.json").unlink(missing_ok=True)

    def __enter__(self) -> "Hub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def running_hub(plan: HubPlan) -> dict | None:
    """The record of a hub started from `plan.state` that is still running, or None."""
    record = plan.hubdir / "socklab-hub.json"
    try:
        info = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    return info if _alive(int(info.get("pid", 0))) else None


def stop_running_hub(plan: HubPlan) -> bool:
    """Stop a hub another `socklab hub` started (by its recorded PID); True if there was one."""
    info = running_hub(plan)
    if info is None:
        return False
    _end([int(info["pid"])], grace=15.0)
    proxy = plan.hubdir / "proxy.pid"
    if proxy.is_file() and proxy.read_text().strip().isdigit():
        _end([int(proxy.read_text().strip())], grace=5.0)
    _end(_pids_of({pwd.getpwnam(u).pw_uid for u in plan.users}), grace=5.0)
    (plan.hubdir / "socklab-hub.json").unlink(missing_ok=True)
    return True


def _wait_ready(url: str, process: subprocess.Popen, log: pathlib.Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HubError(f"JupyterHub exited with {process.returncode} while starting; its log "
                           f"({log}) ends with:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/hub/api", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)   # bounded polling for readiness, not synchronisation by sleeping
    raise HubError(f"JupyterHub did not answer within {timeout:.0f} s; see {log}")


def start_hub(plan: HubPlan, *, timeout: float = 90.0, attempts: int = 3) -> Hub:
    """Install what is missing and start the hub; returns once it answers on 127.0.0.1.

    Must run as root (it creates accounts and starts servers as those users). A hub already
    running from the same ``state`` folder is refused with its URL, never doubled.
    """
    if os.geteuid() != 0:
        raise HubError("the class hub must be started as root (it creates one Unix account per "
                       "person and starts each server as that user): sudo make hub")
    other = running_hub(plan)
    if other is not None:
        raise HubError(f"a hub is already running from {plan.state} (pid {other['pid']}) at "
                       f"{other['url']}: stop it first with `socklab hub --stop`")
    install_python(plan)
    ensure_users(plan)
    install_course(plan)
    write_configs(plan)
    log = plan.hubdir / "jupyterhub.log"
    for attempt in range(attempts):
        ports = {"port": _free_port(), "hub_port": _free_port(), "proxy_api_port": _free_port()}
        settings = {"state": str(plan.state), "prefix": str(plan.prefix), "instructor": plan.instructor,
                    "students": plan.students, **ports}
        settings_file = plan.hubdir / "settings.json"
        settings_file.write_text(json.dumps(settings, indent=1))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        env["SOCKLAB_HUB_SETTINGS"] = str(settings_file)
        env["PATH"] = f"{plan.prefix / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [str(plan.prefix / "bin" / "jupyterhub"), "-f", str(plan.repo / CONFIG)],
                cwd=plan.hubdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{ports['port']}"
        hub = Hub(plan=plan, url=url, process=process, log=log)
        try:
            _wait_ready(url, process, log, timeout)
        except HubError:
            hub.stop()
            if attempt + 1 == attempts or "Address already in use" not in log.read_text(errors="replace"):
                raise
            continue
        (plan.hubdir / "socklab-hub.json").write_text(json.dumps({"pid": process.pid, "url": url}))
        return hub
    raise HubError("unreachable")

"""Sizing a class hub on this machine: spawn time, memory per user server and per kernel, and how
long 03.1's Run All takes when several students run it at once.

Runs only as root (the hub creates accounts); the accounts and the class folder are the bench's
own and are removed afterwards. Students: $SOCKLAB_BENCH_HUB_STUDENTS (default 8). The hub's
Python is /opt/socklab-hub (or $SOCKLAB_HUB_PREFIX), built by `make hub` or on first use.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import pathlib
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "ch03" / "03.1-what-is-a-socket.ipynb"

# Executed as each student: Run All of the notebook, then the kernel's own PSS from the last cell.
_RUNNER = r'''
import json, sys, time, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(
    "print('PSS', [l for l in open('/proc/self/smaps_rollup') if l.startswith('Pss:')][0].split()[1])"))
t = time.perf_counter()
NotebookClient(nb, timeout=60, kernel_name="python3").execute()
wall = time.perf_counter() - t
pss = int(nb.cells[-1].outputs[0]["text"].split()[1])
print(json.dumps({"wall": wall, "kernel_pss_kb": pss}))
'''


def _pss_kb(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _login_and_spawn(url: str, user: str, password: str, timeout: float = 180) -> float:
    jar = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = jar.open(f"{url}/hub/login", timeout=30).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    t0 = time.perf_counter()
    jar.open(f"{url}/hub/login?next=", timeout=60,
             data=urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # The lab page itself, through the OAuth redirects: the server is up when we land on it.
            with jar.open(f"{url}/user/{user}/lab", timeout=10) as resp:
                if resp.status == 200 and f"/user/{user}/lab" in resp.geturl() and "/hub/" not in resp.geturl():
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.2)   # bounded polling until the server answers
    raise TimeoutError(f"{user}'s server did not start within {timeout:.0f} s")


def _server_pss_mb(user: str) -> float:
    uid = pwd.getpwnam(user).pw_uid
    total = 0
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid and b"jupyterhub-singleuser" in (entry / "cmdline").read_bytes():
                    total += _pss_kb(int(entry.name))
            except OSError:
                continue
    return total / 1024


def _run_all(plan, user: str) -> dict:
    work = pathlib.Path(pwd.getpwnam(user).pw_dir) / "bench-03.1.ipynb"
    shutil.copy2(NOTEBOOK, work)
    os.chown(work, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    proc = subprocess.run([shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--",
                           str(plan.prefix / "bin" / "python"), "-c", _RUNNER, str(work)],
                          capture_output=True, text=True, timeout=300, cwd=str(work.parent),
                          env={"HOME": str(work.parent), "PATH": f"{plan.prefix / 'bin'}:/usr/bin:/bin"})
    if proc.returncode != 0:
        raise RuntimeError(f"Run All as {user} failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    if os.geteuid() != 0:
        raise RuntimeError("needs root (the hub creates accounts): sudo make bench")
    sys.path.insert(0, str(ROOT / "lib"))
    from socklab.hub import HubPlan, start_hub

    n = int(os.environ.get("SOCKLAB_BENCH_HUB_STUDENTS", "8"))
    state = pathlib.Path(tempfile.mkdtemp(prefix="socklab-hub-bench-"))
    os.chmod(state, 0o755)
    plan = HubPlan(repo=ROOT, instructor="slb-teacher", students=[f"slb-s{i}" for i in range(n)],
                   prefix=pathlib.Path(os.environ.get("SOCKLAB_HUB_PREFIX", "/opt/socklab-hub")), state=state / "class")
    rows = []
    hub = None
    try:
        hub = start_hub(plan, timeout=120)
        sheet = dict(line.split(",", 1) for line in (plan.hubdir / "passwords.csv").read_text().splitlines()[1:])
        with ThreadPoolExecutor(max_workers=n) as pool:
            spawns = list(pool.map(lambda u: _login_and_spawn(hub.url, u, sheet[u]), plan.students))
        rows.append({"name": f"hub: spawn time per user ({n} logging in at once), median", "value": statistics.median(spawns),
                     "unit": "s", "baseline": None, "ratio": None, "goal": "report"})
        rows.append({"name": f"hub: spawn time per user ({n} at once), max", "value": max(spawns), "unit": "s",
                     "baseline": None, "ratio": None, "goal": "report"})
        servers = [_server_pss_mb(u) for u in plan.students]
        rows.append({"name": "hub: memory per idle user server (PSS)", "value": statistics.median(servers), "unit": "MB",
                     "baseline": None, "ratio": None, "goal": "report"})
        alone = _run_all(plan, plan.students[0])
        rows.append({"name": "hub: 03.1 Run All, one student alone", "value": alone["wall"], "unit": "s",
                     "baseline": None, "ratio": None, "goal": "<= 8 s"})
        rows.append({"name": "hub: memory per kernel after 03.1 Run All (PSS)", "value": alone["kernel_pss_kb"] / 1024,
                     "unit": "MB", "baseline": None, "ratio": None, "goal": "report"})
        for k in sorted({2, 4, n} - {1}):
            if k > n:
                continue
            with ThreadPoolExecutor(max_workers=k) as pool:
                results = list(pool.map(lambda u: _run_all(plan, u), plan.students[:k]))
            walls = [r["wall"] for r in results]
            rows.append({"name": f"hub: 03.1 Run All, {k} students at once, slowest", "value": max(walls), "unit": "s",
                         "baseline": alone["wall"], "ratio": max(walls) / alone["wall"], "goal": "<= 8 s"})
    finally:
        if hub is not None:
            hub.stop()
        for name in plan.users:
            subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)
    return rows

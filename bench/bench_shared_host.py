"""Do the grade cells of every chapter hold on a shared host? Every solutions notebook 20 times, 4 at
once, in one network namespace shared with unrelated programs that keep binding and connecting.

This is plain `nbgrader autograde` without socklab's sandbox: all kernels see the same loopback,
and a noise process holds hundreds of TCP/UDP ports and churns ephemeral ports with short
connections that it closes first (so thousands of ephemeral port numbers sit in TIME_WAIT). Goal: 0 failed grade cells. The namespace is private
(`unshare -rn`) so the noise never touches the host's own loopback.

    python bench/bench_shared_host.py [--runs 20] [--jobs 4] [--only 04.] [--folder solutions/ch05]
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"   # every chapter's solutions/chNN/*.ipynb
RUNS, JOBS = 20, 4


def noise(stop_file: str) -> None:
    """Unrelated programs on the same loopback: many listeners and UDP sockets, and connection churn."""
    import socket
    import threading

    held = []
    for kind in [socket.SOCK_STREAM] * 300 + [socket.SOCK_DGRAM] * 150:
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            s.listen(8)
        held.append(s)
    server = socket.create_server(("127.0.0.1", 0), backlog=128)

    def accept_loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.recv(1)  # waits for the client's close: the client closes first, so its port sits in
            conn.close()  # TIME_WAIT for a minute, and no one else may bind that number meanwhile

    threading.Thread(target=accept_loop, daemon=True).start()
    address = server.getsockname()
    while not os.path.exists(stop_file):
        for _ in range(50):
            try:
                socket.create_connection(address, timeout=1).close()
            except OSError:
                pass
        time.sleep(0.01)  # pace the churn so the notebooks still get the CPU


def _execute(path: pathlib.Path, runtime: pathlib.Path, index: int) -> dict:
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    # IPC transport with a unique path: kernels racing for TCP ports is not what we measure here.
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(runtime / f"k{index}"))
    client = NotebookClient(nb, km=km, timeout=60, allow_errors=True, resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # a kernel that died counts as a failure of every cell
        return {"notebook": path.stem, "elapsed": time.perf_counter() - t0, "failed": [f"kernel: {exc!r}"[:200]]}
    failed = []
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            failed.append(f"{gid or 'cell'}: {errors[0]['ename']}: {errors[0]['evalue'][:300]}")
    return {"notebook": path.stem, "elapsed": time.perf_counter() - t0, "failed": failed}


def inside(runs: int, jobs: int, only: str = "", folder: pathlib.Path = SOLUTIONS) -> dict:
    """Runs inside the private namespace: noise up, then runs x notebooks, `jobs` at once."""
    sys.path.insert(0, str(ROOT / "lib"))
    from socklab.packets.namespace import bring_up_loopback

    bring_up_loopback()
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader runs them: demos and widgets off
    runtime = pathlib.Path(tempfile.mkdtemp(prefix="socklab-shared-"))
    stop_file = str(runtime / "stop")
    noise_proc = subprocess.Popen([sys.executable, __file__, "--noise", stop_file])
    try:
        paths = sorted(p for p in folder.glob(f"**/{only}*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        work = [(p, i) for i, p in enumerate(p for _ in range(runs) for p in paths)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda item: _execute(item[0], runtime, item[1]), work))
        wall = time.perf_counter() - t0
    finally:
        pathlib.Path(stop_file).touch()
        try:
            noise_proc.wait(10)
        except subprocess.TimeoutExpired:
            noise_proc.kill()
        shutil.rmtree(runtime, ignore_errors=True)
    return {"wall": wall, "results": results}


def measure(runs: int = RUNS, jobs: int = JOBS, only: str = "", folder: pathlib.Path = SOLUTIONS) -> dict:
    """Re-run this file in a fresh user+network namespace and collect its JSON report."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise RuntimeError("needs util-linux's unshare (a private network namespace for the noise)")
    out = subprocess.run([unshare, "-rn", sys.executable, __file__, "--inside", "--runs", str(runs), "--jobs",
                          str(jobs), "--only", only, "--folder", str(folder)], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"shared-host run failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    report = measure()
    results = report["results"]
    failed = [(r["notebook"], f) for r in results for f in r["failed"]]
    for notebook, failure in failed[:20]:
        print(f"   FAILED {notebook}: {failure}", flush=True)
    rows = [{"name": f"shared host: failed cells in {len(results)} runs, {JOBS} at once", "value": len(failed),
             "unit": "", "baseline": None, "ratio": None, "goal": "0"}]
    for stem in sorted({r["notebook"] for r in results}):
        rows.append({"name": f"shared host: {stem} failed cells", "value": sum(1 for n, _ in failed if n == stem),
                     "unit": "", "baseline": None, "ratio": None, "goal": "0"})
        times = sorted(r["elapsed"] for r in results if r["notebook"] == stem)
        rows.append({"name": f"shared host: {stem} median run", "value": times[len(times) // 2], "unit": "s",
                     "baseline": None, "ratio": None, "goal": f"max {times[-1]:.1f} s"})
    rows.append({"name": "shared host: wall clock", "value": report["wall"], "unit": "s", "baseline": None,
                 "ratio": None, "goal": "report"})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--only", default="", help="run only the notebooks whose name starts with this, e.g. 03.3")
    parser.add_argument("--folder", type=pathlib.Path, default=SOLUTIONS, help="where the notebooks are, searched below (default solutions/: every chapter)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--noise", metavar="STOP_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.noise:
        noise(args.noise)
        return 0
    if args.inside:
        print(json.dumps(inside(args.runs, args.jobs, args.only, args.folder)))
        return 0
    report = measure(args.runs, args.jobs, args.only, args.folder)
    failed = [(r["notebook"], f) for r in report["results"] for f in r["failed"]]
    for notebook, failure in failed:
        print(f"FAILED {notebook}: {failure}")
    print(f"{len(report['results'])} notebook runs, {len(failed)} failed cells, {report['wall']:.1f} s wall clock")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

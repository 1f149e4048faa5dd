"""`socklab hub`: the class hub in the foreground until Ctrl-C, SIGTERM or SIGHUP."""
from __future__ import annotations

import pathlib
import signal
import threading

from .install import DEFAULT_PREFIX, DEFAULT_PYTHON, DEFAULT_STATE, HubError, HubPlan


def add_arguments(parser) -> None:
    parser.add_argument("--instructor", default="instructor", help="the instructor's account (default: instructor)")
    parser.add_argument("--students", default="", help="comma-separated student accounts, e.g. alice,bob")
    parser.add_argument("--state", default=str(DEFAULT_STATE), help=f"class folder (default: {DEFAULT_STATE})")
    parser.add_argument("--prefix", default=str(DEFAULT_PREFIX), help=f"the hub's Python (default: {DEFAULT_PREFIX})")
    parser.add_argument("--python", default=DEFAULT_PYTHON, help="interpreter every account can run")
    parser.add_argument("--repo", default=".", help="the socklab checkout (default: current folder)")
    parser.add_argument("--stop", action="store_true", help="stop the hub running from --state, then exit")


def plan_from(args) -> HubPlan:
    students = [s.strip() for s in args.students.split(",") if s.strip()]
    return HubPlan(repo=pathlib.Path(args.repo).resolve(), instructor=args.instructor, students=students,
                   prefix=pathlib.Path(args.prefix), state=pathlib.Path(args.state), python=args.python)


def run(args) -> int:
    from .run import start_hub, stop_running_hub

    plan = plan_from(args)
    if args.stop:
        print("socklab hub: stopped" if stop_running_hub(plan) else "socklab hub: none running")
        return 0
    try:
        hub = start_hub(plan)
    except HubError as exc:
        print(f"socklab hub: {exc}")
        return 2
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: done.set())
    print(f"\n  socklab hub is running for {len(plan.students)} student(s). Open:\n    {hub.url}/hub/login\n"
          f"  New accounts' passwords: {plan.hubdir / 'passwords.csv'} (root only)\n"
          f"  Stop with Ctrl-C (or `socklab hub --stop`).\n", flush=True)
    try:
        while not done.wait(1.0):
            if hub.process.poll() is not None:
                print(f"socklab hub: JupyterHub exited ({hub.process.returncode}); see {hub.log}")
                break
    finally:
        hub.stop()
    return 0

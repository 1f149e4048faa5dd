"""The `socklab` command: a thin layer over keyword-only functions that tests call directly."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

# name -> (help, add_arguments(parser), run(args) -> int). Each module registers its own entry
# below; run() only unpacks argparse results into a keyword-only library call.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def _register_builtin() -> None:
    # Imports are local so `socklab --help` does not load nbgrader, scapy or matplotlib.
    from socklab import release as _release
    COMMANDS["release"] = ("regenerate notebooks/ from solutions/ (nbgrader, byte-stable)",
                           _release.add_arguments, _release.run)
    from socklab.packets import cli as _packets
    COMMANDS["packets"] = ("packet experiments on loopback: tier, ping, capture, make-pcaps",
                           _packets.add_arguments, _packets.run)
    from socklab.grading import cli as _grading
    COMMANDS["grade"] = ("autograde submissions in sandboxes, in parallel, into the nbgrader gradebook",
                         _grading.grade_arguments, _grading.grade_run)
    COMMANDS["check"] = ("run a notebook's tests (hidden ones too if the source is here) and explain",
                         _grading.check_arguments, _grading.check_run)
    from socklab import lab as _lab
    COMMANDS["lab"] = ("JupyterLab on the course: --mode student (notebooks/) or instructor (solutions/)",
                       _lab.add_arguments, _lab.run)
    from socklab import workspace as _workspace
    COMMANDS["fresh"] = ("a fresh copy of one notebook in work/ (your old one is kept in work/backups/)",
                         _workspace.add_arguments, _workspace.run)
    from socklab.hub import cli as _hub
    COMMANDS["hub"] = ("a class on JupyterHub on this machine (root): accounts, course, exchange, 127.0.0.1 only",
                       _hub.add_arguments, _hub.run)


def build_parser() -> argparse.ArgumentParser:
    _register_builtin()
    parser = argparse.ArgumentParser(prog="socklab", description="socklab: live socket-programming courseware")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, _run) in sorted(COMMANDS.items()):
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `socklab` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    return int(COMMANDS[args.command][2](args) or 0)


if __name__ == "__main__":
    sys.exit(main())

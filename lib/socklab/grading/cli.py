"""argparse glue for `socklab grade` and `socklab check` (all work happens in runner/check)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _fast_imports() -> None:
    # jsonschema (via nbformat) imports rfc3987_syntax when installed, which spends ~1.6 s building a
    # grammar that notebooks never use. A command-line process can skip it safely.
    sys.modules.setdefault("rfc3987_syntax", None)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--isolation", choices=["auto", "namespace", "none"], default="auto",
                        help="sandbox: namespaces when available (auto), required, or off")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: nbgrader's Execute.timeout)")


def _chapters(root: Path | None) -> list[str] | None:
    """The chapter ids of the course map at `root` (or the nearest above the current folder)."""
    from socklab.course import CourseError, find_root, load_course
    root = root if root is not None else find_root(".")
    if root is None or not (Path(root) / "course.toml").is_file():
        return None  # a plain nbgrader course without a map: nbgrader's own folders decide
    try:
        return load_course(root=root).ids
    except CourseError:
        return None  # reported by `socklab release`; grading a folder nbgrader knows still works


def grade_arguments(parser: argparse.ArgumentParser) -> None:
    known = _chapters(None)
    parser.add_argument("assignment", help="assignment (chapter) name: " +
                        (", ".join(known) + " (from course.toml)" if known else "e.g. ch03"))
    parser.add_argument("--jobs", "-j", type=int, default=None, help="notebooks graded at once (default: cores)")
    parser.add_argument("--student", action="append", dest="students", metavar="ID",
                        help="grade only this student (repeatable); regrades just them")
    parser.add_argument("--import", dest="import_path", type=Path, metavar="PATH",
                        help="first import an LMS export (folder or zip of <student>_<notebook>.ipynb)")
    parser.add_argument("--root", type=Path, default=None, help="course root (default: nearest nbgrader_config.py)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    _common(parser)


def grade_run(args: argparse.Namespace) -> int:
    _fast_imports()
    from .runner import grade
    from .sandbox import Limits

    known = _chapters(args.root)
    if known is not None and args.assignment not in known:
        print(f"socklab grade: {args.assignment!r} is not a chapter of course.toml; chapters: {', '.join(known)}",
              file=sys.stderr)
        return 2
    limits = Limits(cell_timeout=args.timeout) if args.timeout else None
    try:
        report = grade(assignment=args.assignment, root=args.root, jobs=args.jobs, students=args.students,
                       import_path=args.import_path, isolation=args.isolation, limits=limits,
                       progress=False if args.no_progress else None)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"socklab grade: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return 0


def check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="the saved notebook to check, e.g. notebooks/ch03/03.1-....ipynb")
    parser.add_argument("--source", type=Path, default=None,
                        help="instructor source notebook with hidden tests (default: solutions/<chNN>/ if present)")
    _common(parser)


def check_run(args: argparse.Namespace) -> int:
    _fast_imports()
    from .check import check
    from .sandbox import Limits

    limits = Limits(cell_timeout=args.timeout) if args.timeout else None
    try:
        report = check(notebook=args.notebook, source=args.source, isolation=args.isolation, limits=limits)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"socklab check: {exc}", file=sys.stderr)
        return 2
    return report.exit_code

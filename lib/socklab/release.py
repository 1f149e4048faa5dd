"""`socklab release`: regenerate the student notebooks (notebooks/) from the sources (solutions/).

nbgrader's ``generate_assignment`` does the real work (solutions and hidden tests removed, cells
locked, checksums computed). We run it into a scratch folder, then normalise every notebook the
way nbformat writes it (indent 1, sorted keys, trailing newline) with outputs and execution
counts stripped, so regenerating twice gives byte-identical files and ``check=True`` can tell
whether the committed tree is stale without touching it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import sys
import tempfile

__all__ = ["ReleaseReport", "ReleaseError", "release", "normalise_notebook", "find_assignments"]

_ASSIGNMENT = re.compile(r"^ch\d\d$")


class ReleaseError(RuntimeError):
    """nbgrader could not generate an assignment; the message carries its log."""


@dataclasses.dataclass
class ReleaseReport:
    """What a release did (or, with ``check=True``, would do)."""

    root: pathlib.Path
    assignments: list[str]
    written: list[str] = dataclasses.field(default_factory=list)     # created or changed
    removed: list[str] = dataclasses.field(default_factory=list)     # in notebooks/ but not generated
    unchanged: list[str] = dataclasses.field(default_factory=list)
    check: bool = False

    @property
    def stale(self) -> bool:
        """Does notebooks/ differ from what the sources generate?"""
        return bool(self.written or self.removed)

    def text(self) -> str:
        verb = "would write" if self.check else "wrote"
        verb_rm = "would remove" if self.check else "removed"
        lines = [f"{verb} {p}" for p in self.written] + [f"{verb_rm} {p}" for p in self.removed]
        state = ("stale" if self.stale else "up to date") if self.check else "done"
        lines.append(f"{len(self.assignments)} assignment(s), {len(self.unchanged)} file(s) unchanged: {state}")
        return "\n".join(lines)


def find_assignments(root: pathlib.Path) -> list[str]:
    """The chNN folders under solutions/, sorted."""
    source = root / "solutions"
    if not source.is_dir():
        raise ReleaseError(f"no solutions/ folder under {root}: run from the course root or pass root=")
    return sorted(p.name for p in source.iterdir() if p.is_dir() and _ASSIGNMENT.match(p.name))


def normalise_notebook(text: str) -> str:
    """A notebook's JSON with outputs and execution counts stripped, written as nbformat does.

    nbgrader metadata and tags are kept: they are what makes the notebook gradable.

    >>> nb = '{"cells": [{"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [1], "source": "x"}],'
    >>> nb += ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    >>> print(normalise_notebook(nb))  # doctest: +NORMALIZE_WHITESPACE
    {
     "cells": [
      {
       "cell_type": "code",
       "execution_count": null,
       "metadata": {},
       "outputs": [],
       "source": "x"
      }
     ],
     "metadata": {},
     "nbformat": 4,
     "nbformat_minor": 5
    }
    """
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).pop("collapsed", None)
    nb.get("metadata", {}).pop("widgets", None)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _generate(root: pathlib.Path, assignment: str, out: pathlib.Path, db_url: str | None) -> None:
    # Imported here: nbgrader is heavy and `socklab --help` should stay fast.
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (root / "nbgrader_config.py").is_file():
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = "solutions"
    config.CourseDirectory.release_directory = str(out)  # absolute: os.path.join keeps it
    if db_url is not None:  # None: the course config's gradebook, as `nbgrader generate_assignment` uses
        config.CourseDirectory.db_url = db_url
    config.CourseDirectory.db_assignments = []
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    # nbgrader's gradebook runs the `alembic` console script: find it next to this interpreter even
    # when the venv is not activated (`.venv/bin/socklab release`).
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path
    try:
        result = api.generate_assignment(assignment, force=True, create=True)
    finally:
        os.environ["PATH"] = path
    if not result.get("success"):
        raise ReleaseError(f"nbgrader generate_assignment {assignment} failed:\n"
                           f"{result.get('error') or ''}\n{result.get('log') or ''}")


def _files(folder: pathlib.Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}


def release(*, root: str | pathlib.Path = ".", assignments: list[str] | None = None,
            check: bool = False, gradebook: bool = True, db_url: str | None = None) -> ReleaseReport:
    """Generate notebooks/chNN from solutions/chNN for every (or the given) assignment.

    Like ``nbgrader generate_assignment``, a release also registers the notebooks' cells in the
    course gradebook (the course config's ``db_url``, or `db_url`), which formgrader and autograde
    need; ``gradebook=False`` skips that. With ``check=True`` nothing is written anywhere: the
    report says which files would change (``report.stale``).
    """
    root = pathlib.Path(root).resolve()
    names = find_assignments(root) if assignments is None else list(assignments)
    for name in names:
        if not (root / "solutions" / name).is_dir():
            raise ReleaseError(f"no source folder solutions/{name} (have: {', '.join(find_assignments(root))})")
    report = ReleaseReport(root=root, assignments=names, check=check)
    with tempfile.TemporaryDirectory(prefix="socklab-release-") as tmp:
        scratch = pathlib.Path(tmp)
        scratch_db = f"sqlite:///{scratch / 'gradebook.db'}"
        for name in names:
            _generate(root, name, scratch / "out", db_url if (gradebook and not check) else scratch_db)
            generated_dir = scratch / "out" / name
            target_dir = root / "notebooks" / name
            generated = _files(generated_dir)
            for rel in sorted(generated):
                src = generated_dir / rel
                if src.suffix == ".ipynb":
                    data = normalise_notebook(src.read_text(encoding="utf-8")).encode("utf-8")
                else:
                    data = src.read_bytes()
                dst = target_dir / rel
                label = f"notebooks/{name}/{rel}"
                if dst.is_file() and dst.read_bytes() == data:
                    report.unchanged.append(label)
                    continue
                report.written.append(label)
                if not check:
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    dst.write_bytes(data)
            for rel in sorted(_files(target_dir) - generated):
                report.removed.append(f"notebooks/{name}/{rel}")
                if not check:
                    (target_dir / rel).unlink()
    return report


# -- CLI -----------------------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("assignments", nargs="*", help="chNN folders to release (default: all)")
    parser.add_argument("--root", default=".", help="course root (default: current folder)")
    parser.add_argument("--check", action="store_true", help="only report whether notebooks/ is stale")
    parser.add_argument("--no-gradebook", action="store_true",
                        help="do not register the notebooks in the course gradebook (grader/gradebook.db)")


def run(args) -> int:
    try:
        report = release(root=args.root, assignments=args.assignments or None, check=args.check,
                         gradebook=not args.no_gradebook)
    except ReleaseError as exc:
        print(f"socklab release: {exc}")
        return 2
    print(report.text())
    return 1 if (args.check and report.stale) else 0

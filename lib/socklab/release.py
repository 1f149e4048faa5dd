"""`socklab release`: build solutions/ from the text sources, then notebooks/ from solutions/.

Which chapters exist comes from the course map (``course.toml``, ``socklab.course``). For each,
every text source ``solutions/chNN/NN.M-title.md`` (jupytext MyST) is first built into its nbgrader
source notebook ``solutions/chNN/NN.M-title.ipynb`` (``socklab.sources``, byte-stable). Then
nbgrader's ``generate_assignment`` does the real work (solutions and hidden tests removed, cells
locked, checksums computed). We run it into a scratch folder, then normalise every notebook the
way nbformat writes it (indent 1, sorted keys, trailing newline) with outputs and execution
counts stripped, so regenerating twice gives byte-identical files and ``check=True`` can tell
whether either committed tree (solutions/*.ipynb or notebooks/) is stale without touching it.
The text sources themselves never reach notebooks/ (nbgrader's ``CourseDirectory.ignore``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import sys
import tempfile

__all__ = ["ReleaseReport", "ReleaseError", "release", "normalise_notebook", "find_assignments"]


class ReleaseError(RuntimeError):
    """nbgrader could not generate an assignment; the message carries its log."""


@dataclasses.dataclass
class ReleaseReport:
    """What a release did (or, with ``check=True``, would do)."""

    root: pathlib.Path
    assignments: list[str]
    written: list[str] = dataclasses.field(default_factory=list)     # created or changed
    removed: list[str] = dataclasses.field(default_factory=list)     # present but not generated
    unchanged: list[str] = dataclasses.field(default_factory=list)
    check: bool = False

    @property
    def stale(self) -> bool:
        """Do solutions/*.ipynb or notebooks/ differ from what the text sources generate?"""
        return bool(self.written or self.removed)

    def text(self) -> str:
        verb = "would write" if self.check else "wrote"
        verb_rm = "would remove" if self.check else "removed"
        lines = [f"{verb} {p}" for p in self.written] + [f"{verb_rm} {p}" for p in self.removed]
        state = ("stale" if self.stale else "up to date") if self.check else "done"
        lines.append(f"{len(self.assignments)} assignment(s), {len(self.unchanged)} file(s) unchanged: {state}")
        return "\n".join(lines)


def find_assignments(root: pathlib.Path) -> list[str]:
    """The chapters (assignments) of the course map, in its order."""
    from socklab.course import CourseError, load_course
    try:
        return load_course(root=root).ids
    except CourseError as exc:
        raise ReleaseError(str(exc)) from None


# Text sources are the course's source, never part of what students get (nbgrader copies every
# other file of the source folder into the release).
SOURCE_IGNORE = "[0-9][0-9].[0-9]*.md"


def normalise_notebook(text: str) -> str:
    """A notebook's JSON with outputs and execution counts stripped, written as nbformat does.

    nbgrader metadata and tags are kept: they are what makes the notebook gradable. Jupytext's
    metadata (pairing) is dropped.

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
    # A jupytext pairing in a released notebook would make JupyterLab reload the text twin (the
    # solutions) into a student's copy (jupytext#157): generated notebooks never carry one.
    nb.get("metadata", {}).pop("jupytext", None)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _generate(root: pathlib.Path, assignment: str, source: pathlib.Path, out: pathlib.Path,
              db_url: str | None) -> None:
    # Imported here: nbgrader is heavy and `socklab --help` should stay fast.
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (root / "nbgrader_config.py").is_file():
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = str(source)  # absolute: os.path.join keeps it
    config.CourseDirectory.release_directory = str(out)
    ignore = list(config.CourseDirectory.ignore) if "ignore" in config.CourseDirectory else \
        [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
    config.CourseDirectory.ignore = ignore + ([SOURCE_IGNORE] if SOURCE_IGNORE not in ignore else [])
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


def _sync(report: ReleaseReport, label: str, target: pathlib.Path, data: bytes, check: bool) -> None:
    if target.is_file() and target.read_bytes() == data:
        report.unchanged.append(label)
        return
    report.written.append(label)
    if not check:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _build_sources(root: pathlib.Path, chapter, into: pathlib.Path, report: ReleaseReport, check: bool) -> None:
    """solutions/<chapter>/*.md → *.ipynb, into the scratch source folder `into` (and the course)."""
    from socklab.sources import SourceError, build_notebook

    folder = root / "solutions" / chapter.id
    listed = {nb.file for nb in chapter.notebooks}
    for md in sorted(folder.glob(SOURCE_IGNORE)):
        if md.stem not in listed:
            raise ReleaseError(f"solutions/{chapter.id}/{md.name} is not in course.toml: add a [[chapters.notebooks]] "
                               f"block with file = {md.stem!r} to chapter {chapter.id}, or move the file away")
    shutil.copytree(folder, into, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.ipynb"))
    for nb in chapter.notebooks:
        md = root / nb.source
        if not md.is_file():
            raise ReleaseError(f"{nb.source} is missing: course.toml lists notebook {nb.file!r} in {chapter.id}; "
                               f"write its text source (see the README, 'Adding an exercise') or remove the block")
        try:
            text = build_notebook(md)
        except SourceError as exc:
            raise ReleaseError(str(exc)) from None
        points = sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in json.loads(text)["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade"))
        if points != nb.points:
            raise ReleaseError(f"{nb.source}: its grade cells add up to {points:g} points but course.toml says "
                               f"points = {nb.points} for {nb.file!r}: make them agree (edit course.toml or the cells)")
        data = text.encode("utf-8")
        _refuse_hand_edits(root / nb.solution, md, data)
        (into / f"{nb.file}.ipynb").write_bytes(data)
        _sync(report, nb.solution, root / nb.solution, data, check)
    for stray in sorted(folder.glob("*.ipynb")):
        if stray.stem not in listed:
            report.removed.append(f"solutions/{chapter.id}/{stray.name}")
            if not check:
                stray.unlink()


def _refuse_hand_edits(built: pathlib.Path, md: pathlib.Path, data: bytes) -> None:
    """A built .ipynb changed after its .md (edited by hand, e.g. opened as .ipynb in the lab) would
    be overwritten: stop and say how to keep or drop those changes instead."""
    if not built.is_file() or built.stat().st_mtime_ns <= md.stat().st_mtime_ns or built.read_bytes() == data:
        return
    if _content(built.read_bytes()) == _content(data):
        return  # same cells, other ids or notebook metadata (e.g. `jupytext --to ipynb`): nothing is lost
    rel = built.relative_to(md.parents[2]).as_posix()
    raise ReleaseError(
        f"{rel} was changed after its text source {md.name} and differs from what the .md builds: a release "
        f"would overwrite those changes. Keep them: `jupytext --to md:myst {rel}` (writes the .md from it), "
        f"then release again. Drop them: delete {rel}. The .md is the source; edit it, not the .ipynb.")


def _content(data: bytes):
    """What an author wrote in a notebook: each cell's type, source and metadata (not ids, not outputs)."""
    try:
        cells = json.loads(data).get("cells", [])
    except (ValueError, AttributeError):
        return None
    return [(c.get("cell_type"), "".join(c.get("source", "")), c.get("metadata", {})) for c in cells]


def release(*, root: str | pathlib.Path = ".", assignments: list[str] | None = None,
            check: bool = False, gradebook: bool = True, db_url: str | None = None) -> ReleaseReport:
    """Build solutions/chNN/*.ipynb from the text sources, then notebooks/chNN with nbgrader.

    The chapters are the course map's (``course.toml``), or the given `assignments`. A source
    notebook without a text source listed in the map is removed. Like ``nbgrader
    generate_assignment``, a release also registers the notebooks' cells in the course gradebook
    (the course config's ``db_url``, or `db_url`), which formgrader and autograde need;
    ``gradebook=False`` skips that. With ``check=True`` nothing is written anywhere: the report
    says which files would change (``report.stale``).
    """
    from socklab.course import CourseError, load_course

    root = pathlib.Path(root).resolve()
    try:
        course = load_course(root=root)
        chapters = list(course.chapters) if assignments is None else [course.chapter(a) for a in assignments]
    except CourseError as exc:
        raise ReleaseError(str(exc)) from None
    report = ReleaseReport(root=root, assignments=[ch.id for ch in chapters], check=check)
    with tempfile.TemporaryDirectory(prefix="socklab-release-") as tmp:
        scratch = pathlib.Path(tmp)
        scratch_db = f"sqlite:///{scratch / 'gradebook.db'}"
        for chapter in chapters:
            name = chapter.id
            _build_sources(root, chapter, scratch / "solutions" / name, report, check)
            _generate(root, name, scratch / "solutions", scratch / "out",
                      db_url if (gradebook and not check) else scratch_db)
            generated_dir = scratch / "out" / name
            target_dir = root / "notebooks" / name
            generated = _files(generated_dir)
            for rel in sorted(generated):
                src = generated_dir / rel
                if src.suffix == ".ipynb":
                    data = normalise_notebook(src.read_text(encoding="utf-8")).encode("utf-8")
                else:
                    data = src.read_bytes()
                _sync(report, f"notebooks/{name}/{rel}", target_dir / rel, data, check)
            for rel in sorted(_files(target_dir) - generated):
                report.removed.append(f"notebooks/{name}/{rel}")
                if not check:
                    (target_dir / rel).unlink()
        if assignments is None:
            _sync_readme(root, course, report, check)
    return report


def _sync_readme(root: pathlib.Path, course, report: ReleaseReport, check: bool) -> None:
    """The README's chapter table is generated from course.toml too (if the README has one)."""
    from socklab.course import TABLE_BEGIN, with_chapter_table

    readme = root / "README.md"
    if not readme.is_file() or TABLE_BEGIN not in (text := readme.read_text(encoding="utf-8")):
        return
    _sync(report, "README.md", readme, with_chapter_table(text, course).encode("utf-8"), check)


# -- CLI -----------------------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("assignments", nargs="*", help="chapters to release (default: every chapter in course.toml)")
    parser.add_argument("--root", default=".", help="course root (default: current folder)")
    parser.add_argument("--check", action="store_true", help="only report whether solutions/*.ipynb or notebooks/ is stale")
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

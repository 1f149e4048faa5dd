"""``socklab check NOTEBOOK``: run a notebook's tests the way the grader will, and explain.

The notebook runs top to bottom in the same sandbox, with the same verifier, as ``socklab grade``
(test cells run in the verifier; the student's cells in their own kernel). Where the instructor's
source notebook is present locally (``solutions/<assignment>/<name>.ipynb``), its test cells —
hidden tests included — replace the notebook's own, exactly as nbgrader restores them. Prints
per exercise: passed/failed, points, and the hint (ko + en).

From a notebook cell: ``from socklab.grading.check import check; check(notebook="03.1-....ipynb")``
(it checks the *saved* file, so save first).
"""
from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from . import feedback as fb
from .outputs import course_cells, merge, strip_tags
from .sandbox import Limits, Sandbox, resolve_isolation


@dataclasses.dataclass
class Exercise:
    grade_id: str
    title: str
    score: float
    max_score: float
    message: str

    @property
    def passed(self) -> bool:
        return self.score == self.max_score


@dataclasses.dataclass
class CheckReport:
    notebook: Path
    exercises: list[Exercise]
    hidden_tests: bool
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def ok(self) -> bool:
        return not self.problems and all(e.passed for e in self.exercises)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def text(self) -> str:
        src = ("숨겨진 테스트 포함 / with hidden tests" if self.hidden_tests
               else "보이는 테스트만 / visible tests only (no source notebook here)")
        lines = [f"{self.notebook.name}: {self.score:g} / {self.max_score:g} points ({src})"]
        lines += [f"  ! {p}" for p in self.problems]
        for e in self.exercises:
            mark = "✓ passed" if e.passed else "✗ FAILED"
            lines.append(f"  {mark:<9} {e.grade_id:<28} {e.score:g}/{e.max_score:g}  {e.title}")
            if e.message and not e.passed:
                lines += [f"      {line}" for line in e.message.splitlines()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html
        rows = "".join(
            f"<tr><td>{'✓' if e.passed else '✗'}</td><td>{html.escape(e.grade_id)}</td>"
            f"<td>{e.score:g}/{e.max_score:g}</td><td><pre>{html.escape(e.message)}</pre></td></tr>"
            for e in self.exercises)
        return (f"<p><b>{html.escape(self.notebook.name)}</b>: {self.score:g} / {self.max_score:g}</p>"
                f"<table>{rows}</table>")


def _find_source(path: Path) -> Path | None:
    """solutions/<assignment>/<name>.ipynb in the nearest course root above `path`, if present."""
    for folder in path.resolve().parents:
        candidate = folder / "solutions" / path.parent.name / path.name
        if candidate.is_file() and candidate.resolve() != path.resolve():
            return candidate
    return None


def restore_tests(nb, source) -> tuple[list[str], bool]:
    """Put the source's locked cells (tests with hidden parts, setup) into nb, wholly (source and
    metadata, so no tag of the student's survives); returns (problems, hidden tests present)."""
    import copy

    from nbgrader.utils import is_locked, is_solution

    by_id = {c.metadata.nbgrader["grade_id"]: c for c in source.cells
             if "nbgrader" in c.metadata and "grade_id" in c.metadata.nbgrader}
    seen, problems, hidden = set(), [], False
    for index, cell in enumerate(nb.cells):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in by_id and gid not in seen and is_locked(by_id[gid]) and not is_solution(by_id[gid]):
            nb.cells[index] = cell = copy.deepcopy(by_id[gid])
            hidden |= fb.HIDDEN_MARK in cell.source
            seen.add(gid)
    for gid, cell in by_id.items():
        if cell.metadata.nbgrader.get("grade") and not is_solution(cell) and gid not in seen:
            problems.append(f"test cell {gid} is missing from your notebook (deleted?) / 테스트 셀이 없습니다")
    return problems, hidden


def check(*, notebook: Path | str, source: Path | str | None = None, isolation: str = "auto",
          limits: Limits | None = None, quiet: bool = False, out=None) -> CheckReport:
    """Run `notebook`'s tests in the sandbox; print and return a CheckReport."""
    from socklab.env import under_nbgrader

    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}: give the path of a saved .ipynb file")
    out = out or sys.stdout
    if under_nbgrader():   # a check cell inside a notebook being graded must not recurse
        return CheckReport(path, [], False, ["skipped: running under nbgrader"])
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable notebook: {exc}") from exc
    source = Path(source) if source else _find_source(path)
    problems, hidden = [], False
    if source is not None:
        source_nb = nbformat.read(source, as_version=4)
        problems, hidden = restore_tests(nb, source_nb)
    else:   # self-check without the course's source: the notebook's own locked cells are the tests
        source_nb = nb
    strip_tags(nb)
    trusted, tests = course_cells(nb, _locked_cells(source_nb))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    mode, warning = resolve_isolation(isolation)
    if warning and not quiet:
        print(warning, file=out)
    workroot = Path(tempfile.mkdtemp(prefix="socklab-check-"))
    hide = [source.parent.parent, source.parent.parent.parent / "grader"] if source else []
    try:
        box = Sandbox(workroot / "nb", hide=hide, limits=limits or Limits(), isolation=mode, label="validate")
        _copy_siblings(path.parent, box.workdir)
        outcome = box.start().run(nb, trusted=trusted, tests=tests)
    finally:
        shutil.rmtree(workroot, ignore_errors=True)
    if outcome.get("cells") is None:
        problems.append(outcome.get("reason", "the sandbox returned nothing"))
        executed = nb
    else:
        executed = merge(nb, outcome["cells"], tests=tests)   # the same verdicts socklab grade keeps
        if outcome.get("status") != "ok":
            problems.append(outcome["reason"])
    rows = fb.graded_cells(executed) if outcome.get("cells") is not None else [
        {"grade_id": c.metadata.nbgrader["grade_id"], "title": fb.title_of(c.source), "score": 0.0,
         "max_score": float(c.metadata.nbgrader.get("points", 0)), "message": ""}
        for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
        and not c.metadata.nbgrader.get("solution")]
    report = CheckReport(path, [Exercise(r["grade_id"], r["title"], float(r["score"] or 0), r["max_score"],
                                         r["message"]) for r in rows], hidden, problems)
    if not quiet:
        print(report.text(), file=out)
    return report


def _locked_cells(nb) -> dict[str, dict]:
    """grade_id -> {locked, grade} of a notebook's cells (as the gradebook records the source's)."""
    out = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id"):
            out[meta["grade_id"]] = {"locked": bool(meta.get("locked")), "grade": bool(meta.get("grade"))}
    return out


def _copy_siblings(src: Path, dest: Path) -> None:
    """Data files next to the notebook (not other notebooks), as the grader copies them."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        if path.is_file() and path.suffix != ".ipynb" and not path.name.startswith("."):
            shutil.copy(path, dest / path.name)

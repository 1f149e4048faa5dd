"""``socklab grade``: nbgrader's autograde pipeline, with execution sandboxed and parallel.

Per submitted notebook, in the parent: nbgrader's sanitize step (ClearOutput, DeduplicateIds,
OverwriteKernelspec, OverwriteCells — which restores hidden tests and locked cells from the
source — and CheckCellMetadata). Then N workers each execute one notebook at a time in its own
sandbox, with the next sandbox's kernel already warming up; there the verifier runs the test
cells, the student's kernel the student's cells. Back in the parent, one notebook at a time: the
returned outputs go into the parent's own copy of the sanitized notebook (only for the cells it
sent), and nbgrader's post-execution preprocessors (LimitOutput, SaveAutoGrades, ...) write the
scores into the gradebook, capped at each cell's points. Only the parent touches the gradebook, so SQLite never sees two
writers.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from . import gradebook as gbk
from .outputs import course_cells, limit_notes, merge, strip_tags
from .pool import Pool
from .progress import Progress
from .sandbox import Limits, Sandbox, resolve_isolation
from .submissions import ImportReport, Submission, find_submissions, import_submissions, shipped_files
from .warm import Learned


@dataclasses.dataclass
class NotebookResult:
    name: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "ok"          # ok | partial (timeout/died) | failed | missing
    reasons: list[str] = dataclasses.field(default_factory=list)
    grades: dict = dataclasses.field(default_factory=dict)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)   # test grade_id -> why (feedback text)


@dataclasses.dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    notebooks: dict[str, NotebookResult] = dataclasses.field(default_factory=dict)
    feedback: Path | None = None
    previous: bool = False      # not graded in this run: scores as the gradebook has them

    @property
    def reasons(self) -> list[str]:
        return [f"{nb.name}: {r}" for nb in self.notebooks.values() for r in nb.reasons]

    @property
    def status(self) -> str:
        if self.previous:
            return "earlier run"
        bad = [nb.status for nb in self.notebooks.values() if nb.status != "ok"]
        return bad[0] if bad else "ok"


@dataclasses.dataclass
class GradeReport:
    assignment: str
    students: list[StudentResult]
    csv_path: Path | None = None
    isolation: str = ""
    warnings: list[str] = dataclasses.field(default_factory=list)
    imported: ImportReport | None = None
    elapsed: float = 0.0

    def student(self, student: str) -> StudentResult:
        for row in self.students:
            if row.student == student:
                return row
        raise KeyError(student)

    def text(self) -> str:
        lines = [f"{self.assignment}: graded {len(self.students)} submission(s) in {self.elapsed:.1f} s "
                 f"(sandbox: {self.isolation})"]
        lines += self.warnings
        for row in self.students:
            lines.append(f"  {row.student:<20} {row.score:6.1f} / {row.max_score:<6.1f} {row.status}")
            lines += [f"      {r}" for r in row.reasons]
            lines += [f"      {nb.name}: {gid} failed: {why}" for nb in row.notebooks.values()
                      for gid, why in nb.failed.items()]
        if self.csv_path:
            lines.append(f"grades: {self.csv_path}")
        return "\n".join(lines)


@dataclasses.dataclass
class _Job:
    student: str
    notebook: str
    autograded: Path            # sanitized notebook, later the graded one
    extras: Path                # folder whose non-notebook files the notebook may open
    payload: dict
    trusted: list[int] = dataclasses.field(default_factory=list)   # the course's own cells
    tests: list[int] = dataclasses.field(default_factory=list)     # ... that are graded tests
    shipped: set[str] | None = None                                 # data files the assignment ships


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder upwards with an nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise FileNotFoundError(f"no nbgrader_config.py in {here} or above: run from the course root or pass --root")


def grade(*, assignment: str, root: Path | None = None, jobs: int | None = None,
          students: list[str] | None = None, import_path: Path | None = None, isolation: str = "auto",
          limits: Limits | None = None, progress: bool | None = None, feedback: bool = True,
          log=None) -> GradeReport:
    """Autograde every submission of `assignment` (or just `students`) into the nbgrader gradebook."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        # nbgrader's own add_submission trips an SQLAlchemy autoflush warning; it is harmless.
        warnings.simplefilter("ignore", SAWarning)
        return _grade(assignment=assignment, root=root, jobs=jobs, students=students, import_path=import_path,
                      isolation=isolation, limits=limits, progress=progress, feedback=feedback, log=log)


def _grade(*, assignment, root, jobs, students, import_path, isolation, limits, progress, feedback,
           log) -> GradeReport:
    t0 = time.monotonic()
    log = log or sys.stderr
    root = Path(root).resolve() if root else find_root()
    config = gbk.load_config(root)
    coursedir = gbk.course_directory(config, assignment)
    mode, warning = resolve_isolation(isolation)
    report = GradeReport(assignment=assignment, students=[], isolation=mode)
    if warning:
        report.warnings.append(warning)
        print(warning, file=log)
    if limits is None:
        timeout = config.Execute.timeout if "timeout" in config.Execute else 30
        limits = Limits(cell_timeout=int(timeout))
    expected = gbk.ensure_assignment(config, coursedir, assignment)
    submitted_root = Path(coursedir.format_path(coursedir.submitted_directory, ".", ".")).resolve()
    if import_path is not None:
        report.imported = import_submissions(Path(import_path), submitted_root=submitted_root,
                                             assignment=assignment, expected=expected)
        print(report.imported.text(), file=log)
    subs = find_submissions(submitted_root, assignment, expected, students)
    if not subs:
        raise FileNotFoundError(f"no submissions of {assignment} under {submitted_root}")

    pipeline = _Pipeline(config, coursedir, assignment, expected)
    workroot = Path(tempfile.mkdtemp(prefix="socklab-grade-"))
    hide = _private_paths(coursedir, workroot)
    learned = Learned()    # what the verifiers imported: the next sandboxes import it while they wait
    pool = Pool(jobs or os.cpu_count() or 1,
                lambda d: Sandbox(d, hide=hide, limits=limits, isolation=mode, label="autograde",
                                  preload=learned.names()), workroot)
    bar = Progress(sum(len(s.notebooks) for s in subs), enabled=progress, stream=log)
    results: dict[str, StudentResult] = {}
    try:
        pending = 0
        for sub in subs:
            results[sub.student] = row = StudentResult(sub.student)
            try:
                prepared = pipeline.prepare(sub, row)
            except Exception as exc:  # one unreadable submission must not stop the others
                pipeline.give_up(sub, row, f"could not prepare the submission: {type(exc).__name__}: {exc}")
                prepared = []
            for job in prepared:
                pool.submit(job)
                pending += 1
        pool.close_input()
        while pending:
            job, outcome = pool.results.get()
            pending -= 1
            learned.add(outcome.get("modules"))
            pipeline.finalize(job, outcome, results[job.student].notebooks[job.notebook])
            bar.advance(failed=results[job.student].notebooks[job.notebook].status != "ok")
    finally:
        pool.abort()      # no-op after a complete run; after an error, no new sandboxes start
        pool.shutdown()
        bar.close()
        shutil.rmtree(workroot, ignore_errors=True)

    from . import feedback as fb
    from .report import write_csv

    for sub in subs:
        row = results[sub.student]
        pipeline.conclude(sub, row)
        if feedback:
            row.feedback = fb.write_feedback(coursedir, assignment, row)
        report.students.append(row)
    report.csv_path = write_csv(coursedir, assignment, report.students + _others(pipeline, submitted_root, subs))
    report.elapsed = time.monotonic() - t0
    return report


def _others(pipeline: "_Pipeline", submitted_root: Path, graded: list[Submission]) -> list[StudentResult]:
    """Students not graded in this run (``--student``), as the gradebook has them, for the CSV."""
    done = {s.student for s in graded}
    rows = []
    for sub in find_submissions(submitted_root, pipeline.assignment, pipeline.expected):
        if sub.student in done:
            continue
        row = StudentResult(sub.student, previous=True)
        row.notebooks = {name: NotebookResult(name) for name in pipeline.expected}
        try:
            pipeline.conclude(sub, row)
        except Exception:  # never graded: no gradebook entry yet
            continue
        rows.append(row)
    return rows


def _private_paths(coursedir, workroot: Path) -> list[Path]:
    """Folders a submission must not read: sources, other submissions, the gradebook, other sandboxes."""
    fmt = lambda d: Path(coursedir.format_path(d, ".", ".")).resolve()  # noqa: E731
    paths = [fmt(coursedir.source_directory), fmt(coursedir.submitted_directory),
             fmt(coursedir.autograded_directory), fmt(coursedir.feedback_directory),
             fmt(coursedir.solution_directory), workroot]
    if coursedir.db_url.startswith("sqlite:///"):
        paths.append(Path(coursedir.db_url[len("sqlite:///"):]).resolve().parent)
    # Never hide the interpreter or this package from the kernel.
    needed = [Path(sys.prefix).resolve(), Path(__file__).resolve().parent]
    return [p for p in dict.fromkeys(paths)
            if p != Path(coursedir.root).resolve() and not any(n == p or p in n.parents for n in needed)]


class _Pipeline:
    """nbgrader's Autograde converter, driven one notebook at a time."""

    def __init__(self, config, coursedir, assignment: str, expected: list[str]):
        from nbconvert.exporters import NotebookExporter
        from nbconvert.writers import FilesWriter
        from nbgrader.converters import Autograde
        from nbgrader.preprocessors import Execute, NbGraderPreprocessor

        self.coursedir, self.assignment, self.expected = coursedir, assignment, expected
        self.executed: dict[tuple[str, str], object] = {}
        store = self.executed

        class Replay(NbGraderPreprocessor):
            """Stands in for Execute: hands back the notebook the sandbox executed."""

            def preprocess(self, nb, resources):
                key = (resources["nbgrader"]["student"], resources["nbgrader"]["notebook"])
                return store.pop(key), resources

        self.conv = Autograde(coursedir=coursedir, config=config)
        self.conv.force = True
        self.conv.autograde_preprocessors = [Replay if pp is Execute else pp
                                             for pp in self.conv.autograde_preprocessors]
        self.conv.writer = FilesWriter(parent=self.conv, config=self.conv.config)
        self.conv.exporter = NotebookExporter(parent=self.conv, config=self.conv.config)
        self.sources = {name: gbk.source_cells(coursedir, assignment, name) for name in expected}
        self.shipped = shipped_files(coursedir, assignment)
        self.deleted: dict[tuple[str, str], list[str]] = {}

    def _convert(self, path: Path, sanitizing: bool) -> None:
        from nbgrader.converters.base import BaseConverter

        self.conv._sanitizing = sanitizing
        self.conv._init_preprocessors()
        BaseConverter.convert_single_notebook(self.conv, str(path))

    def prepare(self, sub: Submission, row: StudentResult) -> list[_Job]:
        """nbgrader's init + sanitize for one submission; returns the notebooks to execute."""
        for name in self.expected:
            row.notebooks[name] = NotebookResult(name)
        for name in sub.missing:
            row.notebooks[name].status = "missing"
            row.notebooks[name].reasons.append(f"no {name}.ipynb was submitted")
        if sub.unexpected:
            for name in sub.missing:
                row.notebooks[name].reasons.append(f"found unexpected file(s) {', '.join(sub.unexpected)} "
                                                   "(wrong file name?)")
        readable = {}
        for name, path in sub.notebooks.items():
            problem = self._precheck(sub.student, name, path)
            if problem:
                row.notebooks[name].status = "failed"
                row.notebooks[name].reasons.append(problem)
            else:
                readable[name] = path
        gbk.ensure_submission(self.coursedir, self.assignment, sub.student)
        self.conv.notebooks = [str(p) for p in readable.values()]
        dest = Path(self.conv._format_dest(self.assignment, sub.student))
        self.conv._sanitizing = True
        if readable:
            self.conv.init_destination(self.assignment, sub.student)
            self.conv.init_assignment(self.assignment, sub.student)    # zeroes missing notebooks
        jobs = []
        for name in self.expected:
            if name not in readable:
                gbk.zero_notebook(self.coursedir, self.assignment, sub.student, name)
                continue
            try:
                self._convert(readable[name], sanitizing=True)
                payload = nbformat.read(dest / f"{name}.ipynb", as_version=4)
                strip_tags(payload)
                trusted, tests = course_cells(payload, self.sources[name])
            except Exception as exc:  # nbgrader refused the notebook: report it, grade the rest
                row.notebooks[name].status = "failed"
                row.notebooks[name].reasons.append(f"nbgrader could not read it: {type(exc).__name__}: {exc}")
                gbk.zero_notebook(self.coursedir, self.assignment, sub.student, name)
                continue
            jobs.append(_Job(sub.student, name, dest / f"{name}.ipynb", dest, payload, trusted, tests,
                             self.shipped))
        return jobs

    def give_up(self, sub: Submission, row: StudentResult, reason: str) -> None:
        """Zero every notebook of a submission we could not even prepare, with the reason."""
        for name in self.expected:
            result = row.notebooks.setdefault(name, NotebookResult(name))
            result.status = "failed"
            result.reasons.append(reason)
            try:
                gbk.ensure_submission(self.coursedir, self.assignment, sub.student)
                gbk.zero_notebook(self.coursedir, self.assignment, sub.student, name)
            except Exception:  # the report still carries the reason
                pass

    def _precheck(self, student: str, name: str, path: Path) -> str:
        """'' if the file is a notebook we can grade; notes deleted and edited test cells."""
        import nbformat
        from nbgrader.utils import compute_checksum

        try:
            cells = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4).cells
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"not a valid notebook file (invalid JSON?): {type(exc).__name__}: {str(exc)[:200]}"
        source = self.sources[name]
        present = {}
        for cell in cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid:
                present[gid] = cell
        deleted = [gid for gid, info in source.items() if info["grade"] and info["locked"] and gid not in present]
        # The release notebook carries each locked cell's checksum (nbgrader's ComputeChecksums).
        edited = [gid for gid, cell in present.items()
                  if gid in source and source[gid]["locked"]
                  and compute_checksum(cell) != cell.metadata.nbgrader.get("checksum")]
        self.deleted[(student, name)] = deleted
        self._notes = getattr(self, "_notes", {})
        self._notes[(student, name)] = (
            [f"test cell {gid} was deleted: 0 points for it" for gid in deleted]
            + [f"locked cell {gid} was edited: the original was restored before grading" for gid in edited])
        return ""

    def finalize(self, job: _Job, outcome: dict, result: NotebookResult) -> None:
        """Save one executed notebook's grades (parent process, one at a time)."""
        result.reasons += self._notes.get((job.student, job.notebook), [])
        if outcome.get("cells") is None:
            result.status = "failed"
            result.reasons.append(outcome.get("reason") or "the sandbox returned no notebook")
            if outcome.get("log"):
                result.reasons.append("sandbox log: " + outcome["log"][-300:].replace("\n", " / "))
            gbk.zero_notebook(self.coursedir, self.assignment, job.student, job.notebook)
            return
        # Our own copy of the notebook: only the outputs of the cells we sent come back.
        graded = merge(job.payload, outcome["cells"], tests=job.tests)
        self.executed[(job.student, job.notebook)] = graded
        try:
            self._convert(job.autograded, sanitizing=False)
        except Exception as exc:
            result.status = "failed"
            result.reasons.append(f"saving grades failed: {type(exc).__name__}: {exc}")
            gbk.zero_notebook(self.coursedir, self.assignment, job.student, job.notebook)
            return
        finally:
            self.executed.pop((job.student, job.notebook), None)
        gbk.cap_scores(self.coursedir, self.assignment, job.student, job.notebook)
        from .feedback import graded_cells

        for row in graded_cells(graded):   # the verifier's reason for each failed test, as feedback shows it
            if not row["passed"]:
                lines = [line.strip() for line in (row["message"] or "failed").strip().splitlines()]
                result.failed[row["grade_id"]] = " / ".join(lines[:2])[:240] or "failed"   # ko / en
        if self.deleted.get((job.student, job.notebook)):
            gbk.zero_grades(self.coursedir, self.assignment, job.student, job.notebook,
                            self.deleted[(job.student, job.notebook)])
        if outcome.get("status", "ok") != "ok":
            result.reasons.append(outcome["reason"])
        result.reasons += limit_notes(graded, outcome.get("truncated", []))
        if result.reasons:
            result.status = "partial"

    def conclude(self, sub: Submission, row: StudentResult) -> None:
        """Read the final scores back from the gradebook."""
        try:
            self.conv.set_permissions(self.assignment, sub.student)
        except OSError:
            pass
        scores = gbk.scores(self.coursedir, self.assignment, sub.student)
        row.score, row.max_score = scores["score"], scores["max_score"]
        for name, nb in scores["notebooks"].items():
            if name in row.notebooks:
                res = row.notebooks[name]
                res.score, res.max_score, res.grades = nb["score"], nb["max_score"], nb["grades"]

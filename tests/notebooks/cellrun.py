"""Run one grade cell of any chapter's solutions notebook against a given answer, without a kernel.

``run("q04_3_calc_packets", answer)`` finds the notebook from the grade id's chapter (course.toml),
runs what a student's kernel would hold by then (the locked setup cells, and the reference answers
of the notebook's earlier exercises, which later ones may build on), then `answer`, then the grade
cell, hidden tests included unless ``hidden=False``. Real sockets and reference peers: fast enough
to try many answers. Whatever the answer left behind is swept away afterwards.

By default this happens in the pytest process. ``fresh=True`` runs the same program in a new Python
process, as a kernel would: an answer that forks or waits for "any child" (``os.wait()``) must not
meet the pytest process's own children (Chromium, JupyterLab, the hub).
"""
from __future__ import annotations

import functools
import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import traceback
import warnings
from typing import Callable

from nbtools import COURSE, HIDDEN_END, HIDDEN_START, ROOT, load, nbgrader_meta, source

FRESH_TIMEOUT = 120  # s for a whole fresh run (a grade cell bounds each of its own checks far below this)
_FORKS = re.compile(r"\bos\.(fork|wait|waitpid|wait3|wait4|waitid)\b")
_CHAPTER = re.compile(r"^q(\d\d)_")


@functools.cache
def _cells(grade_id: str) -> tuple[dict, ...]:
    """The code cells of the notebook holding `grade_id` (its chapter read from the id)."""
    found = _CHAPTER.match(grade_id)
    if not found:
        raise KeyError(f"{grade_id!r} does not name a chapter (q<chapter>_<exercise>_...)")
    for nb in COURSE.chapter(f"ch{found[1]}").notebooks:
        cells = tuple(c for c in load(ROOT / nb.solution)["cells"] if c["cell_type"] == "code")
        if any(nbgrader_meta(c).get("grade_id") == grade_id for c in cells):
            return cells
    raise KeyError(grade_id)


def cells_of(grade_id: str) -> dict[str, str]:
    """{grade_id: source} of every nbgrader code cell of the notebook holding `grade_id`, in order."""
    return {nbgrader_meta(c)["grade_id"]: source(c) for c in _cells(grade_id) if nbgrader_meta(c).get("grade_id")}


def grade_ids(chapter: str) -> list[str]:
    """The autograded cells of a chapter, in course order."""
    return [nbgrader_meta(c)["grade_id"] for nb in COURSE.chapter(chapter).notebooks
            for c in load(ROOT / nb.solution)["cells"] if c["cell_type"] == "code" and nbgrader_meta(c).get("grade")]


def _answer_index(cells: tuple[dict, ...], grade_id: str) -> int:
    """Where the answer cell of `grade_id`'s exercise stands: itself if it is one, else the last
    solution cell before it (``q03_5_icmp_checksum`` -> ``q03_5_icmp_answer``)."""
    ids = [nbgrader_meta(c).get("grade_id") for c in cells]
    at = ids.index(grade_id)
    if nbgrader_meta(cells[at]).get("solution"):
        return at
    return max(i for i in range(at) if nbgrader_meta(cells[i]).get("solution"))


def solution(exercise: str) -> str:
    """The reference answer of an exercise; `exercise` may name any of its cells
    (``q06_1_forking``, ``q06_1_forking_robust``, ``q06_1_forking_answer``)."""
    cells = _cells(exercise)
    return source(cells[_answer_index(cells, exercise)])


def _shift(block: str, spaces: int) -> str:
    return "\n".join(line[spaces:] if line.startswith(" " * spaces) else line for line in block.split("\n"))


def edit(text: str, *changes: tuple[str, str]) -> str:
    """`text` (usually a ``solution()``) with every occurrence of each old replaced by new; fails
    loudly when old is not there (the solution changed). A change may be written at the text's
    indentation or 4/8 spaces deeper (as inside a builder function)."""
    for old, new in changes:
        for spaces in (0, 4, 8):
            if _shift(old, spaces) in text:
                text = text.replace(_shift(old, spaces), _shift(new, spaces))
                break
        else:
            raise AssertionError(f"the solution changed; update this answer: {old!r}")
    return text


def changed(exercise: str, *changes: tuple[str, str]) -> Callable[[], str]:
    """A wrong answer for a table: ``edit(solution(exercise), *changes)``, made when the test runs
    (a solution that changed fails that one test, not the collection)."""
    return lambda: edit(solution(exercise), *changes)


def visible_only(cell: str) -> str:
    """A grade cell without its hidden tests."""
    before, rest = cell.split(HIDDEN_START, 1)
    return before + rest.split(HIDDEN_END, 1)[1]


def forks(grade_id: str, answer: str) -> bool:
    """Does this run meet child processes (the answer forks or waits, or the cell counts children)?
    Such runs belong in a fresh process (``run(..., fresh=True)``)."""
    return bool(_FORKS.search(answer)) or "expect_no_children" in cells_of(grade_id)[grade_id]


def _program(grade_id: str, answer: str | None, hidden: bool) -> list[tuple[str, str]]:
    """[(name, source)] to run in order: the kernel's state before the exercise, the answer, the cell."""
    cells = _cells(grade_id)
    upto = _answer_index(cells, grade_id)
    before = [(f"<{nbgrader_meta(c).get('grade_id', 'setup')}>", source(c)) for i, c in enumerate(cells)
              if (meta := nbgrader_meta(c)).get("locked") and not meta.get("grade")
              or meta.get("solution") and i < upto]
    cell = cells_of(grade_id)[grade_id]
    answer = solution(grade_id) if answer is None else textwrap.dedent(answer)
    return [*before, ("<student answer>", answer), (f"<{grade_id}>", cell if hidden else visible_only(cell))]


def run(grade_id: str, answer: str | None = None, *, hidden: bool = True, fresh: bool = False,
        timeout: float = FRESH_TIMEOUT) -> None:
    """Run the grade cell `grade_id` against `answer` (Python source; None: the reference answer);
    raises what the cell raises. ``fresh=True``: in a new Python process, killed after `timeout` s."""
    program = _program(grade_id, answer, hidden)
    if fresh:
        _run_fresh(grade_id, program, timeout)
    else:
        _execute(program)


def _clear() -> None:
    """Stop the reference servers, the student's threads and sockets, forget its thread errors."""
    from socklab import servers, testing

    servers.stop_all()
    testing.sweep()
    testing.thread_errors(clear=True)


def _execute(program: list[tuple[str, str]]) -> None:

    pid = os.getpid()
    ns: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    # Start as a fresh kernel would: nothing of earlier student code in this process (other tests'
    # servers, threads, adopted sockets, thread errors) may be blamed on this answer.
    _clear()
    try:
        for name, code in program:
            exec(compile(code, name, "exec"), ns)
    finally:
        if os.getpid() != pid:   # a forked child that fell out of the student's code: never run on
            os._exit(1)
        # A failing cell stops before its own clean-up lines: close and stop what it left.
        for value in list(ns.values()):
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, socket.socket):
                    item.close()
                elif hasattr(item, "stop") and type(item).__module__.startswith("socklab"):
                    try:
                        item.stop()
                    except Exception:
                        pass
        _clear()
        # Wrong answers may drop sockets without closing them; collect them here, quietly, so the
        # ResourceWarning is not blamed on whichever test runs when the collector wakes up.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def where_it_failed(grade_id: str, exc: BaseException) -> tuple[str, bool]:
    """(the failure's message plus the grade-cell lines it passed through, whether the failing
    statement lies in the hidden region); for an in-process run."""
    lines = cells_of(grade_id)[grade_id].splitlines()
    numbers = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
               if f.filename == f"<{grade_id}>" and f.lineno and f.lineno <= len(lines)]
    hidden_from = next(i for i, line in enumerate(lines, 1) if line.strip() == HIDDEN_START)
    in_hidden = bool(numbers) and numbers[0] > hidden_from
    return str(exc) + "\n" + "\n".join(lines[n - 1] for n in numbers), in_hidden


# -- fresh runs ---------------------------------------------------------------------------------
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import cellrun; cellrun._child(sys.argv[2], sys.argv[3])"


def _run_fresh(grade_id: str, program: list[tuple[str, str]], timeout: float) -> None:
    """Run `program` in a new interpreter in its own process group; re-raise its failure here."""
    with tempfile.TemporaryDirectory(prefix="cellrun-") as tmp:
        todo, result = os.path.join(tmp, "program.json"), os.path.join(tmp, "result.json")
        with open(todo, "w", encoding="utf-8") as f:
            json.dump(program, f)
        # Files, not pipes: a child the answer forked and left behind must not hold us up.
        with open(os.path.join(tmp, "out"), "w+", encoding="utf-8") as out:
            child = subprocess.Popen([sys.executable, "-W", "error", "-W", "ignore::ResourceWarning", "-c", _CHILD,
                                      os.path.dirname(__file__), todo, result],
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
            try:
                child.wait(timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(child.pid, signal.SIGKILL)   # the leader and whatever it left running
                except ProcessLookupError:
                    pass
                child.wait()
            out.seek(0)
            printed = out.read()
        sys.stdout.write(printed)
        if timed_out:
            raise TimeoutError(f"{grade_id}: the fresh run did not finish in {timeout} s\n{printed[-2000:]}")
        try:
            with open(result, encoding="utf-8") as f:
                outcome = json.load(f)
        except FileNotFoundError:
            raise RuntimeError(f"{grade_id}: the fresh run ended (exit {child.returncode}) without a result\n"
                               f"{printed[-2000:]}") from None
    _reraise(outcome)


def _reraise(outcome: dict) -> None:
    import builtins

    from socklab.testing import ExerciseFailed, TimeLimit

    if outcome["kind"] == "ok":
        return
    note = "in the fresh process:\n" + outcome["traceback"]
    if outcome["kind"] == "failed":
        cls = TimeLimit if outcome["type"] == "TimeLimit" else ExerciseFailed
        error: BaseException = cls(*outcome["args"], **outcome["hints"])
    else:
        cls = getattr(builtins, outcome["type"], None)
        error = (cls(outcome["message"]) if isinstance(cls, type) and issubclass(cls, Exception)
                 else RuntimeError(f"{outcome['type']}: {outcome['message']}"))
    error.add_note(note)
    raise error


def _child(todo: str, result: str) -> None:
    """The fresh process: run the program, write how it ended to `result`, exit at once (threads an
    answer left running must not keep the process alive)."""
    from socklab.testing import ExerciseFailed

    with open(todo, encoding="utf-8") as f:
        program = [tuple(step) for step in json.load(f)]
    outcome: dict = {"kind": "ok"}
    try:
        _execute(program)
    except BaseException as exc:
        outcome = {"kind": "error", "type": type(exc).__name__, "message": str(exc),
                   "traceback": "".join(traceback.format_exception(exc))}
        if isinstance(exc, ExerciseFailed):
            outcome.update(kind="failed", args=[exc.ko, exc.en],
                           hints={"hint_ko": exc.hint_ko, "hint_en": exc.hint_en, "detail": exc.detail})
    with open(result, "w", encoding="utf-8") as f:   # (a forked copy never gets here: _execute ends it)
        json.dump(outcome, f)
    sys.stdout.flush()
    os._exit(0)

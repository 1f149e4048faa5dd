"""Feedback a student may see: per test pass/fail, points and the hint — never a hidden test.

nbgrader's own feedback renders whole notebooks, hidden tests included (nbgrader #917). Ours
shows, per graded cell, only its id, its one-line docstring (visible part), the points and the
message the test raised. Messages of ``ExerciseFailed`` are written for students (ko + en);
any other error in a cell with hidden tests is reduced to its exception name.
"""
from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import nbformat

HIDDEN_MARK = "BEGIN HIDDEN TESTS"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STUDENT_MESSAGES = ("ExerciseFailed", "TimeLimit", "KernelStopped", "KernelDied", "NotImplementedError")


def title_of(source: str) -> str:
    """The first line of the cell's leading docstring, or ''.

    >>> title_of('\"\"\"Does the echo server answer?\"\"\"\\nassert True')
    'Does the echo server answer?'
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return ""
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        lines = body[0].value.value.strip().splitlines()
        return lines[0].strip() if lines else ""
    return ""


def hidden_lines(source: str) -> list[str]:
    """The hidden-test lines of a cell's source (stripped, long enough to be recognisable).

    >>> hidden_lines("x = 1\\n### BEGIN HIDDEN TESTS\\nassert f(2) == 4\\n### END HIDDEN TESTS")
    ['assert f(2) == 4']
    """
    if HIDDEN_MARK not in source:
        return []
    part = source.split(HIDDEN_MARK, 1)[1].split("END HIDDEN TESTS", 1)[0]
    return [line.strip() for line in part.splitlines()[1:] if len(line.strip()) >= 8]


def scrub(message: str, source: str) -> str:
    """`message` with every hidden-test line of `source` cut out.

    Hidden tests never reach the student's process (the verifier runs them), so only a message the
    verifier itself wrote (a SyntaxError, a traceback line) could quote one; hints the hidden tests
    raise on purpose stay readable.

    >>> scrub("got: assert f(2) == 4", "### BEGIN HIDDEN TESTS\\nassert f(2) == 4\\n### END HIDDEN TESTS")
    'got: [hidden test]'
    """
    for line in sorted(hidden_lines(source), key=len, reverse=True):
        message = message.replace(line, "[hidden test]")
    return message


def cell_message(cell, *, hidden: bool | None = None) -> str:
    """What a student may read about why a graded cell failed ('' when it passed); never a line
    of the cell's hidden tests."""
    return scrub(_cell_message(cell, hidden=hidden), cell.get("source", ""))


def _cell_message(cell, *, hidden: bool | None = None) -> str:
    if hidden is None:
        hidden = HIDDEN_MARK in cell.get("source", "")
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename = out.get("ename", "Error")
            evalue = _ANSI.sub("", out.get("evalue", "")).strip()
            if ename in _STUDENT_MESSAGES or evalue.startswith("✗"):
                return evalue if ename == "ExerciseFailed" or evalue.startswith("✗") else f"{ename}: {evalue}"
            if hidden and ename == "AssertionError":   # its message may quote the hidden test
                return f"{ename} (a hidden test failed / 숨겨진 테스트 실패)"
            return f"{ename}: {evalue[:300]}" if evalue else ename
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return "the cell wrote to stderr (nbgrader counts that as a failure) / stderr 출력이 있어 실패로 처리됨"
    return ""


def graded_cells(nb) -> list[dict]:
    """[{grade_id, title, points, passed, message}] for every autograded test cell of nb."""
    from nbgrader.utils import determine_grade, is_grade, is_solution

    rows = []
    for cell in nb.cells:
        if not is_grade(cell) or is_solution(cell) or cell.cell_type != "code":
            continue
        score, max_score = determine_grade(cell)
        rows.append({"grade_id": cell.metadata.nbgrader.get("grade_id", "?"), "title": title_of(cell.source),
                     "score": score, "max_score": max_score, "passed": score == max_score,
                     "message": cell_message(cell)})
    return rows


_CSS = """body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;
vertical-align:top}.ok{color:#176f2c}.bad{color:#b00020}pre{white-space:pre-wrap;margin:0}"""


def render(student: str, assignment: str, row, notebooks: dict[str, list[dict]], *,
           only_notebook: str | None = None) -> str:
    """The feedback page as HTML text (row: runner.StudentResult); `only_notebook`: that one's part."""
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(assignment)} — {e(student)}</title>",
             f"<style>{_CSS}</style><h1>{e(assignment)}: {e(student)}</h1>",
             f"<p>점수 Score: <b>{row.score:g} / {row.max_score:g}</b></p>"]
    for name, result in row.notebooks.items():
        if only_notebook is not None and name != only_notebook:
            continue
        parts.append(f"<h2>{e(name)} — {result.score:g} / {result.max_score:g}</h2>")
        for reason in result.reasons:
            parts.append(f"<p class='bad'>{e(reason)}</p>")
        cells = notebooks.get(name) or []
        if not cells:
            continue
        parts.append("<table><tr><th>test</th><th>result</th><th>points</th><th>hint 힌트</th></tr>")
        for c in cells:
            points = result.grades.get(c["grade_id"], (c["score"], c["max_score"]))
            got = points[0] if points[0] is not None else 0
            ok = got == points[1]
            verdict = "<span class='ok'>✓ 통과 passed</span>" if ok else "<span class='bad'>✗ 실패 failed</span>"
            parts.append(f"<tr><td><b>{e(c['grade_id'])}</b><br>{e(c['title'])}</td><td>{verdict}</td>"
                         f"<td>{got:g} / {points[1]:g}</td><td><pre>{e(c['message'])}</pre></td></tr>")
        parts.append("</table>")
    return "\n".join(parts) + "\n"


def write_feedback(coursedir, assignment: str, row) -> Path:
    """grader/feedback/<student>/<assignment>/socklab-feedback.html from the autograded notebooks."""
    graded_dir = Path(coursedir.format_path(coursedir.autograded_directory, row.student, assignment))
    notebooks = {}
    for name in row.notebooks:
        path = graded_dir / f"{name}.ipynb"
        if path.is_file() and row.notebooks[name].status not in ("failed", "missing"):
            try:
                notebooks[name] = graded_cells(nbformat.read(path, as_version=4))
            except Exception:  # an unreadable graded notebook still gets its reasons shown
                notebooks[name] = []
    folder = Path(coursedir.format_path(coursedir.feedback_directory, row.student, assignment))
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "socklab-feedback.html"
    out.write_text(render(row.student, assignment, row, notebooks), encoding="utf-8")
    # nbgrader's release_feedback / fetch_feedback (the hub's exchange) match feedback to a
    # submission by notebook name, timestamp.txt and submission_secret.txt (as generate_feedback leaves them): one
    # page per notebook, each with the assignment's total.
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, row.student, assignment))
    for meta in ("timestamp.txt", "submission_secret.txt"):
        if (submitted / meta).is_file():
            (folder / meta).write_bytes((submitted / meta).read_bytes())
    for name in row.notebooks:
        only = {name: notebooks[name]} if name in notebooks else {}
        (folder / f"{name}.html").write_text(render(row.student, assignment, row, only, only_notebook=name),
                                             encoding="utf-8")
    return out

"""A tiny throwaway nbgrader course for grading tests and the grading benchmark.

Assignment ``fx01`` has two notebooks: ``fx01-basics`` (add 2 pts, reverse 3 pts, echo 5 pts;
each test cell has visible and hidden tests) and ``fx01-extra`` (double 2 pts). Submissions are
built from the generated student notebooks by filling in the solution cells.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from support import nbgrader_ipc_flags

ASSIGNMENT = "fx01"
POINTS = {"fx01-basics": {"t_add": 2, "t_reverse": 3, "t_echo": 5}, "fx01-extra": {"t_double": 2}}
TOTAL = sum(sum(v.values()) for v in POINTS.values())

SOLUTIONS = {
    "a_add": "def add(a, b):\n    return a + b",
    "a_reverse": "def reverse(s):\n    return s[::-1]",
    "a_echo": ("import socket\n\ndef echo_once(listener):\n    conn, _ = listener.accept()\n"
               "    with conn:\n        conn.settimeout(5)\n        data = conn.recv(1024)\n"
               "        conn.sendall(data)"),
    "a_double": "def double(x):\n    return 2 * x",
}
# Only satisfies the visible tests (hidden ones catch it).
VISIBLE_ONLY = {"a_add": "def add(a, b):\n    return 3", "a_reverse": "def reverse(s):\n    return 'cba'"}

_CONFIG = '''import os
_root = os.path.dirname(os.path.abspath(__file__))
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "fixture"
c.CourseDirectory.root = _root
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("grader", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grader", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grader", "feedback")
c.CourseDirectory.solution_directory = os.path.join("grader", "solution")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_root, "grader", "gradebook.db")
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True
'''


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _test(grade_id, points, doc, visible, hidden):
    src = f'"""{doc}"""\n{visible}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS'
    return new_code_cell(src, metadata=_meta(grade_id, grade=True, locked=True, points=points))


def _answer(grade_id):
    body = SOLUTIONS[grade_id]
    return new_code_cell(f"### BEGIN SOLUTION\n{body}\n### END SOLUTION", metadata=_meta(grade_id, solution=True))


def source_notebooks() -> dict[str, nbformat.NotebookNode]:
    basics = new_notebook(cells=[
        new_markdown_cell("# Fixture: basics"),
        new_code_cell("import socket\nimport threading", metadata=_meta("setup", locked=True)),
        _answer("a_add"),
        _test("t_add", 2, "Does add() add?", "assert add(1, 2) == 3",
              "assert add(-1, 1) == 0\nassert add(10, 5) == 15"),
        _answer("a_reverse"),
        _test("t_reverse", 3, "Does reverse() reverse?", "assert reverse('abc') == 'cba'",
              "assert reverse('') == ''\nassert reverse('xy') == 'yx'"),
        _answer("a_echo"),
        _test("t_echo", 5, "Does echo_once() echo one message?",
              "lst = socket.create_server(('127.0.0.1', 0))\nlst.settimeout(5)\n"
              "t = threading.Thread(target=echo_once, args=(lst,), daemon=True)\nt.start()\n"
              "with socket.create_connection(lst.getsockname(), timeout=5) as c:\n"
              "    c.sendall(b'hi')\n    assert c.recv(16) == b'hi'\nt.join(5)\nlst.close()",
              "assert not t.is_alive()"),
    ])
    extra = new_notebook(cells=[
        new_markdown_cell("# Fixture: extra"),
        _answer("a_double"),
        _test("t_double", 2, "Does double() double?", "assert double(2) == 4", "assert double(-3) == -6"),
    ])
    for nb in (basics, extra):
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"fx01-basics": basics, "fx01-extra": extra}


def make_course(root: Path, *, timeout: int = 5) -> Path:
    """Write the course (config + sources) and the generated student notebooks under `root`."""
    root = Path(root)
    (root / "grader").mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(_CONFIG.format(timeout=timeout))
    src = root / "solutions" / ASSIGNMENT
    src.mkdir(parents=True, exist_ok=True)
    for name, nb in source_notebooks().items():
        nbformat.write(nb, src / f"{name}.ipynb")
    (src / "data.txt").write_text("fixture data\n")
    run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    return root


def run_nbgrader(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real `nbgrader` CLI in the course root (venv bin on PATH: nbgrader calls `alembic`)."""
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    flags = nbgrader_ipc_flags() if args[:1] == ("autograde",) else []
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, *flags], cwd=root, capture_output=True,
                          timeout=timeout, env=env, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def release(root: Path, name: str) -> dict:
    return release_of(root, ASSIGNMENT, name)


def release_of(root: Path, assignment: str, name: str) -> dict:
    """The generated student notebook `name` of `assignment` as JSON."""
    return json.loads((Path(root) / "notebooks" / assignment / f"{name}.ipynb").read_text())


def fill(nb: dict, answers: dict[str, str]) -> dict:
    """A copy of the student notebook `nb` with solution cells replaced by `answers[grade_id]`."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def submit(root: Path, student: str, notebooks: dict[str, dict | str | bytes], assignment: str = ASSIGNMENT) -> Path:
    """Place a submission in grader/submitted/<student>/<assignment>/ (dict = JSON, str/bytes = raw)."""
    folder = Path(root) / "grader" / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in notebooks.items():
        path = folder / (name if name.endswith(".ipynb") else f"{name}.ipynb")
        if isinstance(content, dict):
            path.write_text(json.dumps(content))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


def submit_answers(root: Path, student: str, answers: dict[str, str]) -> Path:
    """Both notebooks, solution cells from `answers` (missing ids stay unanswered)."""
    return submit(root, student, {name: fill(release(root, name), answers) for name in POINTS})


def expected_score(answers: dict[str, str]) -> float:
    """Points a submission with these answers earns (only exact SOLUTIONS count)."""
    pairs = {"a_add": ("fx01-basics", "t_add"), "a_reverse": ("fx01-basics", "t_reverse"),
             "a_echo": ("fx01-basics", "t_echo"), "a_double": ("fx01-extra", "t_double")}
    return float(sum(POINTS[nb][t] for a, (nb, t) in pairs.items() if answers.get(a) == SOLUTIONS[a]))


def copy_course(root: Path, source_assignment: Path, *, timeout: int = 30) -> Path:
    """A throwaway course whose one assignment is a copy of `source_assignment` (e.g. solutions/ch03)."""
    root = Path(root)
    (root / "grader").mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(_CONFIG.format(timeout=timeout))
    import shutil

    shutil.copytree(source_assignment, root / "solutions" / Path(source_assignment).name,
                    # the .md text sources are not part of an nbgrader assignment (socklab release builds the .ipynb)
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "[0-9][0-9].[0-9]*.md"))
    run_nbgrader(root, "generate_assignment", Path(source_assignment).name, "--force")
    return root


def solution_answers(root: Path, assignment: str, name: str) -> dict[str, str]:
    """grade_id -> source of every solution cell of the instructor's notebook."""
    nb = json.loads((Path(root) / "solutions" / assignment / f"{name}.ipynb").read_text())
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            src = cell["source"]
            out[meta["grade_id"]] = "".join(src) if isinstance(src, list) else src
    return out

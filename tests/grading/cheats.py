"""A fixture course whose tests use socklab.testing, and the cheats a student might try on it.

Assignment ``fx02``, one notebook: add (expect_equal, 2 pts), double (plain assert, 2 pts), echo
server (check_server, 4 pts), word (expect_equal on a str, 2 pts). Every cheat leaves the answers
blank (as released) and adds only its trick, so the right score for each is 0.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grading import course as fx

ASSIGNMENT, NAME = "fx02", "fx02-tested"
TOTAL = 10.0
SOLUTIONS = {
    "a_add": "def add(a, b):\n    return a + b",
    "a_double": "def double(x):\n    return 2 * x",
    "a_echo": ("def serve_echo(listener, n_clients):\n    for _ in range(n_clients):\n"
               "        conn, _ = listener.accept()\n        with conn:\n            conn.settimeout(3)\n"
               "            while data := conn.recv(4096):\n                conn.sendall(data)"),
    "a_word": "def word():\n    return 'socket'",
}
HIDDEN_LINE = "expect_equal(call_with_timeout(add, -20, 5), -15"
SETUP = ("import socket\nfrom socklab import testing\n"
         "from socklab.testing import call_with_timeout, check, check_server, expect_equal, round_trip\n"
         "testing.install_hint_display()")


def _answer(gid: str, head: str) -> nbformat.NotebookNode:
    body = SOLUTIONS[gid].split("\n", 1)[1]
    src = f"{head}\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"
    return new_code_cell(src, metadata=fx._meta(gid, solution=True))


def source_notebook() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[
        new_markdown_cell("# Fixture: tested with socklab.testing"),
        new_code_cell(SETUP, metadata=fx._meta("setup_fx02", locked=True)),
        _answer("a_add", "def add(a, b):"),
        fx._test("t_add", 2, "Does add() add?", "expect_equal(call_with_timeout(add, 1, 2), 3, 'add(1, 2)', 'add(1, 2)')",
                 f"{HIDDEN_LINE}, 'add(-20, 5)', 'add(-20, 5)')"),
        _answer("a_double", "def double(x):"),
        fx._test("t_double", 2, "Does double() double?", "assert double(2) == 4", "assert double(-3) == -6"),
        _answer("a_echo", "def serve_echo(listener, n_clients):"),
        fx._test("t_echo", 4, "Does serve_echo() echo?",
                 "check_server(serve_echo, clients=[round_trip(b'hi')], timeout=3)",
                 "check_server(serve_echo, clients=[round_trip(b'x' * 5000), round_trip(b'again')], timeout=3)"),
        _answer("a_word", "def word():"),
        fx._test("t_word", 2, "Does word() say socket?", "expect_equal(call_with_timeout(word), 'socket', 'word()', 'word()')",
                 "check(call_with_timeout(word) == 'socket', 'word()', 'word()')"),
    ])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_course(root: Path) -> Path:
    root = Path(root)
    (root / "grader").mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(fx._CONFIG.format(timeout=10))
    src = root / "solutions" / ASSIGNMENT
    src.mkdir(parents=True)
    nbformat.write(source_notebook(), src / f"{NAME}.ipynb")
    fx.run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    # What a student could find on the machine: the course's git history, another copy of it.
    (root / ".git").mkdir()
    shutil.copy(src / f"{NAME}.ipynb", root / ".git" / "leaked-source.ipynb")
    return root


_STEAL = '''
import glob, json, os
def _steal():
    for path in glob.glob({pattern!r}, recursive=True):
        try:
            cells = json.load(open(path))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for cell in cells:
            src = "".join(cell["source"])
            if "BEGIN SOLUTION" in src and "def " in src:
                exec(src, globals())
_steal()'''

_GUT = '''
import ast
class _Gut(ast.NodeTransformer):
    def visit_Module(self, node):
        if any(w in ast.unparse(node) for w in ("expect_equal", "assert ", "check_server", "check(")):
            node.body = [{replacement}]
        return node
get_ipython().ast_transformers.append(_Gut())'''

_FAKE_SOCKLAB = {
    "socklab/__init__.py": "",
    "socklab/testing/__init__.py": (
        "def _ok(*a, **k):\n    return [[b'']]\n"
        "call_with_timeout = check = check_server = expect_equal = round_trip = _ok\n"
        "def install_hint_display():\n    return True\n"),
}

_REACH = '''
import os, stat
mine = {os.getpid(), *[int(p) for p in os.listdir("/proc/self/task")]}
REACHED = []
for p in os.listdir("/proc"):
    if p.isdigit() and int(p) not in mine and int(p) != 1:
        try:
            os.kill(int(p), 0)        # signal 0: asks only whether we could signal it
            REACHED.append(int(p))
        except OSError:
            pass
print("REACHED", len(REACHED), flush=True)
FORGED = 0
for fd in range(0, 64):           # a result frame into every pipe we hold
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, b"SOCKLAB-RESULT 00 2\\n{}")
            FORGED += 1
    except OSError:
        pass
print("FORGED", FORGED)'''

_ECHO_HIDDEN = '''
import sys, linecache
def add(a, b):
    text = []
    for frame in sys._current_frames().values():
        while frame is not None:
            text.append("".join(linecache.getlines(frame.f_code.co_filename)))
            frame = frame.f_back
    raise AssertionError("\\u2717 " + "\\n".join(text))'''


def cheats(root: Path, elsewhere: Path) -> dict[str, dict]:
    """kind -> {"answers": {grade_id: extra source appended to the blank}, "tags"/"files"/"points"}."""
    yes = ("class _Yes:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
           "        return False\n    __hash__ = object.__hash__\n    def __bool__(self):\n        return True\n")
    return {
        "ast_transformer": {"answers": {"a_add": _GUT.format(replacement="ast.Pass()")}},
        "input_transformer": {"answers": {"a_add": (
            "def _blank(lines):\n    text = ''.join(lines)\n"
            "    return ['pass\\n'] if any(w in text for w in ('expect_equal', 'assert ', 'check_server', 'check(')) else lines\n"
            "get_ipython().input_transformers_post.append(_blank)")}},
        "exception_handler": {"answers": {"a_add": (
            "get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)")}},
        "post_run_hook": {"answers": {"a_add": (
            "ip = get_ipython()\nip._showtraceback = lambda *a, **k: None\n"
            "def _clear(result):\n    result.error_in_exec = None\n    result.error_before_exec = None\n"
            "ip.events.register('post_run_cell', _clear)")}},
        "replaced_execute": {"answers": {"a_add": (
            "import inspect\n_k = get_ipython().kernel\n_orig = _k.do_execute\n"
            "async def _do_execute(code, *a, **kw):\n"
            "    if any(w in code for w in ('expect_equal', 'assert ', 'check_server', 'check(')):\n        code = 'pass'\n"
            "    res = _orig(code, *a, **kw)\n    return await res if inspect.isawaitable(res) else res\n"
            "_k.do_execute = _do_execute")}},
        "doctored_checkers": {"answers": {"a_add": (
            "import socklab.testing.messages as _m, socklab.testing.checks as _c\n"
            "for _f in (_m.expect_equal, _m.check, _c.check_server):\n"
            "    _f.__code__ = (lambda *a, **k: [[b'']]).__code__")}},
        "rebound_setup_names": {"answers": {"a_add": (
            "expect_equal = check = lambda *a, **k: None\ncheck_server = lambda *a, **k: [[b'']]\n"
            "call_with_timeout = lambda fn, *a, **k: None")}},
        "trace_hook": {"answers": {"a_add": (
            "import sys, threading, ctypes\n"
            "def _tracer(frame, event, arg):\n"
            "    if event == 'call' and frame.f_code.co_name in ('expect_equal', 'check'):\n"
            "        loc = frame.f_locals\n"
            "        if 'expected' in loc:\n            loc['actual'] = loc['expected']\n"
            "        if 'condition' in loc:\n            loc['condition'] = True\n"
            "        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))\n"
            "    return None\nsys.settrace(_tracer)\nthreading.settrace(_tracer)")}},
        "equal_to_anything": {"answers": {
            "a_add": yes + "def add(a, b):\n    return _Yes()",
            "a_double": "def double(x):\n    return _Yes()",
            "a_word": "def word():\n    return _Yes()"}},
        "str_subclass": {"answers": {"a_word": (
            "class _S(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n"
            "def word():\n    return _S('nope')")}},
        "forged_execute_result": {"answers": {"a_add": _GUT.format(replacement="ast.Expr(ast.Constant('all tests passed'))")}},
        "points_x10": {"points": 10, "answers": {"a_add": _GUT.format(replacement="ast.Expr(ast.Constant(20))")}},
        "process_reach_and_forged_frames": {"answers": {"a_add": _REACH}},
        "read_course_git": {"answers": {g: (_STEAL.format(pattern=str(root / ".git" / "*.ipynb")) if g == "a_add"
                                            else "_steal()") for g in SOLUTIONS}},
        "read_other_copy": {"answers": {g: (_STEAL.format(pattern=str(elsewhere / "**" / "*.ipynb")) if g == "a_add"
                                            else "_steal()") for g in SOLUTIONS}},
        "skip_tags": {"tags": ["skip-execution"], "answers": {}},
        "socklab_package_in_submission": {"files": _FAKE_SOCKLAB, "answers": {}},
        "echo_hidden_tests": {"answers": {"a_add": _ECHO_HIDDEN}},
        # Kinds of our own:
        "deep_nesting": {"answers": {"a_add": "def add(a, b):\n    x = 3\n    for _ in range(10000):\n        x = [x]\n    return x"}},
        "caller_frame_patch": {"answers": {"a_add": (
            "import sys\ndef add(a, b):\n    for frame in sys._current_frames().values():\n"
            "        while frame is not None:\n            g = frame.f_globals\n"
            "            if 'expect_equal' in g:\n                g['expect_equal'] = lambda *x, **k: None\n"
            "            frame = frame.f_back\n    return 0")}},
    }


def submit_cheat(root: Path, student: str, cheat: dict) -> None:
    nb = fx.release_of(root, ASSIGNMENT, NAME)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid in cheat.get("answers", {}):
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = src + "\n" + cheat["answers"][gid]
        if meta.get("grade") and not meta.get("solution"):
            if cheat.get("tags"):
                cell["metadata"]["tags"] = list(cheat["tags"])
            if cheat.get("points"):
                meta["points"] = meta["points"] * cheat["points"]
    folder = fx.submit(root, student, {NAME: nb}, assignment=ASSIGNMENT)
    for rel, text in cheat.get("files", {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)


def submit_good(root: Path, student: str, answers: dict[str, str]) -> None:
    fx.submit(root, student, {NAME: fx.fill(fx.release_of(root, ASSIGNMENT, NAME), answers)}, assignment=ASSIGNMENT)


def printed(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text())
    return "".join(str(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))

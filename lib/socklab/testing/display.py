"""Test cells in Jupyter: a short ✓ line when they pass, only the ko/en message when they fail.

A failing cell still ends in an *error* output (ename/evalue/traceback) and an error reply, so
nbgrader counts the grade cell as failed and "Run All" stops there, exactly as with a plain
exception. Around every cell we also clean up after the student's code (socklab.testing.cleanup):
threads it left running are stopped, sockets it left open are closed, and the cell says so;
exceptions that killed its threads are folded into the ✗ message instead of a raw traceback.
"""
from __future__ import annotations

import ast
import time
from typing import Any

from socklab.testing import cleanup
from socklab.testing.messages import ExerciseFailed, progress

__all__ = ["install_hint_display", "uninstall_hint_display", "passed_line"]

_RED, _GREEN, _YELLOW, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m"
_cell = {"start": 0.0}


def _show_exercise_failed(shell: Any, etype: type, value: BaseException, tb: Any,
                          tb_offset: int | None = None) -> list[str]:
    if isinstance(value, ExerciseFailed):
        cleanup.fold_thread_errors(value, since=_cell["start"])
    stb = [f"{_RED}{value}{_RESET}"]
    # IPython ignores what a custom handler returns, so send the error output ourselves:
    # ipykernel's _showtraceback publishes an "error" message and records _last_traceback.
    shell._showtraceback(etype, value, stb)
    return stb


def passed_line(cell_source: str, checks: int) -> str:
    """The ✓ line for a test cell that passed: its docstring's first line, or a count of checks.

    >>> passed_line('\"\"\"연습 1: 계층 찾기 / exercise 1: layers (2점)\"\"\"\\ncheck(True, "a", "b")', 1)
    '✓ 통과 / passed: 연습 1: 계층 찾기 / exercise 1: layers (2점)'
    >>> passed_line("check(True, 'a', 'b')", 3)
    '✓ 통과 / passed (검사 3개 / 3 checks)'
    """
    try:
        title = ast.get_docstring(ast.parse(cell_source))
    except (SyntaxError, ValueError):
        title = None
    if title:
        return f"✓ 통과 / passed: {title.strip().splitlines()[0]}"
    return f"✓ 통과 / passed (검사 {checks}개 / {checks} checks)"


def _pre_run_cell(info: Any = None) -> None:
    progress["checks"] = 0
    _cell["start"] = time.monotonic()


def _post_run_cell(result: Any) -> None:
    found = cleanup.sweep()
    if found:
        print(f"{_YELLOW}⚠ 셀이 끝난 뒤에도 남아 있던 것을 정리했습니다 / cleaned up what your code left behind"
              f"\n  {found.text().replace(chr(10), chr(10) + '  ')}{_RESET}")
    died = cleanup.thread_errors(since=_cell["start"], clear=True)
    ok = getattr(result, "success", False)
    if ok and died:
        print(f"{_YELLOW}⚠ " + "\n  ".join(e.line() for e in died[:3]) + _RESET)
    if ok and progress["checks"]:
        source = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        print(f"{_GREEN}{passed_line(source, progress['checks'])}{_RESET}")


def install_hint_display() -> bool:
    """Make ExerciseFailed show only its message, passing test cells print a ✓ line, and what the
    student's code leaves running is cleaned up after each cell (other errors unchanged).

    Called by the notebooks' setup cell. Returns True if installed, False outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((ExerciseFailed,), _show_exercise_failed)
    events = shell.events
    for name, callback in (("pre_run_cell", _pre_run_cell), ("post_run_cell", _post_run_cell)):
        if callback not in events.callbacks[name]:
            events.register(name, callback)
    cleanup.install_excepthook()
    _pre_run_cell()
    return True


def uninstall_hint_display() -> None:
    """Go back to IPython's normal tracebacks for every exception (and no ✓ lines)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    if ExerciseFailed in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((), None)
    for name, callback in (("pre_run_cell", _pre_run_cell), ("post_run_cell", _post_run_cell)):
        if callback in shell.events.callbacks[name]:
            shell.events.unregister(name, callback)

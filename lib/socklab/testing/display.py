"""Show ExerciseFailed in Jupyter as its short Korean/English message instead of a traceback wall.

The cell still ends in an *error* output (ename/evalue/traceback) and an error reply, so nbgrader
counts the grade cell as failed and "Run All" stops there, exactly as with a plain exception.
"""
from __future__ import annotations

from typing import Any

from socklab.testing.messages import ExerciseFailed

__all__ = ["install_hint_display", "uninstall_hint_display"]

_RED, _RESET = "\x1b[31m", "\x1b[0m"


def _show_exercise_failed(shell: Any, etype: type, value: BaseException, tb: Any,
                          tb_offset: int | None = None) -> list[str]:
    stb = [f"{_RED}{value}{_RESET}"]
    # IPython ignores what a custom handler returns, so send the error output ourselves:
    # ipykernel's _showtraceback publishes an "error" message and records _last_traceback.
    shell._showtraceback(etype, value, stb)
    return stb


def install_hint_display() -> bool:
    """Make ExerciseFailed show only its message in this notebook (other errors unchanged).

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
    return True


def uninstall_hint_display() -> None:
    """Go back to IPython's normal tracebacks for every exception."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None and ExerciseFailed in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((), None)

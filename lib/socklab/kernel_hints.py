"""After a kernel restart, a test cell's ``NameError`` says which cell to run first (an IPython extension).

The student lab's kernels load it through their IPython profile (``%load_ext socklab.kernel_hints``
does the same by hand), so no notebook needs editing. When a cell ends in ``NameError`` for a
name that the notebook's setup cell or an answer cell defines, a short ko/en line follows the
error: "준비 셀을 먼저 실행하세요 / run the setup cell first". The error itself is untouched (the
cell still fails, as it must), the hint goes to stdout, and under nbgrader the extension does
nothing, so grading never changes. The notebook is found from the kernel's session
(``JPY_SESSION_NAME``, set by Jupyter for every notebook kernel).
"""
from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

__all__ = ["defined_names", "hint_for", "load_ipython_extension", "unload_ipython_extension"]

_MAGIC = re.compile(r"^\s*[%!]")


def defined_names(source: str) -> set[str]:
    """Names a cell's top-level code binds (assignments, def, class, import, for, with).

    >>> sorted(defined_names("import socket as s\\nfrom a import b\\ndef f(): x = 1\\nn: int = 2"))
    ['b', 'f', 'n', 's']
    """
    try:
        tree = ast.parse("\n".join("" if _MAGIC.match(line) else line for line in source.splitlines()))
    except SyntaxError:
        return set()
    names: set[str] = set()

    def targets(node) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                names.add(sub.id)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                targets(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
    return names


def _cells(notebook: Path) -> list[tuple[str, str]]:
    """(role, source) of each code cell: role is 'setup', 'answer' or 'other'."""
    raw = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = []
    for cell in raw.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell["source"]) if isinstance(cell.get("source"), list) else cell.get("source", "")
        role = ("answer" if meta.get("solution") else
                "setup" if meta.get("locked") and not meta.get("grade") else "other")
        cells.append((role, source))
    return cells


def hint_for(name: str, notebook: Path | str, defined: set[str] | frozenset = frozenset()) -> str | None:
    """The ko/en hint for a NameError on `name` in `notebook`, or None if no setup/answer cell defines it.

    `defined` holds the names the kernel has now; a missing setup name means the setup cell has not run.
    """
    try:
        cells = _cells(Path(notebook))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    setup = set().union(*(defined_names(src) for role, src in cells if role == "setup"))
    answer = set().union(*(defined_names(src) for role, src in cells if role == "answer"))
    setup_missing = bool(setup - set(defined)) if defined else True
    if name in setup or (name in answer and setup_missing):
        return (f"💡 `{name}`이(가) 아직 없습니다: 커널을 다시 시작했다면 맨 위의 준비 셀을 먼저 실행하세요, "
                f"그다음 여러분의 답 셀을 실행하세요. / `{name}` is not defined yet: after a kernel restart, "
                f"run the setup cell first (at the top), then your answer cells.")
    if name in answer:
        return (f"💡 `{name}`은(는) 여러분의 답 셀에서 정의됩니다: 그 셀을 먼저 실행하세요. / "
                f"`{name}` is defined in your answer cell: run that cell first.")
    return None


def _notebook_path() -> Path | None:
    session = os.environ.get("JPY_SESSION_NAME")
    if not session:
        return None
    path = Path(session)
    if not path.is_absolute():
        path = Path.cwd() / path
    return path if path.suffix == ".ipynb" and path.is_file() else None


class _Hints:
    def __init__(self, shell) -> None:
        self.shell = shell

    def __call__(self, result) -> None:
        error = getattr(result, "error_in_exec", None)
        name = getattr(error, "name", None)
        if not isinstance(error, NameError) or not name:
            return
        notebook = _notebook_path()
        hint = hint_for(name, notebook, set(self.shell.user_ns)) if notebook else None
        if hint:
            print(hint)   # stdout: nbgrader counts stderr as a failure, never stdout


def load_ipython_extension(shell) -> None:
    """Register the hint after each cell (nothing under nbgrader)."""
    from socklab.env import under_nbgrader

    if under_nbgrader() or any(isinstance(cb, _Hints) for cb in shell.events.callbacks["post_run_cell"]):
        return
    shell.events.register("post_run_cell", _Hints(shell))


def unload_ipython_extension(shell) -> None:
    """Remove the hint again."""
    for callback in list(shell.events.callbacks["post_run_cell"]):
        if isinstance(callback, _Hints):
            shell.events.unregister("post_run_cell", callback)

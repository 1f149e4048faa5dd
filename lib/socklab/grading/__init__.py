"""Sandboxed, parallel grading on top of nbgrader: ``socklab grade`` and ``socklab check``.

``grade(assignment=..., ...)`` autogrades submissions into the nbgrader gradebook;
``check(notebook=...)`` is a student's self-check. Both run notebooks in the sandbox of
:mod:`socklab.grading.sandbox`. Imports are lazy: the sandbox child imports this package too.
"""
from __future__ import annotations

__all__ = ["check", "grade"]


def __getattr__(name: str):
    if name == "grade":
        from .runner import grade
        return grade
    if name == "check":
        from .check import check
        return check
    raise AttributeError(f"module 'socklab.grading' has no attribute {name!r}")

"""Warm sandboxes: import, before the notebook arrives, what the last notebooks needed.

A sandbox is a fresh process per notebook, so every module the course's cells import (and the
modules socklab imports lazily, such as scapy) would be imported again on every notebook's
critical path, in the verifier and in the student's kernel. Each sandbox reports the modules its
verifier imported while it ran a notebook; the grader hands that list to the sandboxes it starts
next, which import them while they wait (the previous notebook is still running then).

Only names of modules the verifier itself imported travel, and only as names: the student's
code never chooses what the verifier imports.
"""
from __future__ import annotations

import importlib
import re
import sys
import threading

__all__ = ["Learned", "loaded_since", "preload", "for_kernel"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
MAX_MODULES = 3000


def loaded_since(before: set[str]) -> list[str]:
    """Modules imported since `before` (a snapshot of ``sys.modules``), top-level ones first."""
    return sorted((m for m in list(sys.modules) if m not in before and sys.modules.get(m) is not None),
                  key=lambda m: (m.count("."), m))


def preload(names: list[str]) -> None:
    """Import `names` (failures are ignored: it only saves time). On the main thread, after the
    kernel started: two threads importing at once could meet in a circular import."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails here fails the same way later
            continue


def for_kernel(names: list[str]) -> list[str]:
    """The part of `names` the student's kernel imports itself: the course's socklab modules (not
    the grader's own; whatever they import comes along)."""
    return [n for n in names if n.split(".")[0] == "socklab" and not n.startswith("socklab.grading")]


class Learned:
    """What the verifiers of this run imported so far (thread-safe; only names that look like modules)."""

    def __init__(self) -> None:
        self._names: dict[str, None] = {}
        self._lock = threading.Lock()

    def add(self, names) -> None:
        if not isinstance(names, list):
            return
        with self._lock:
            for name in names:
                if len(self._names) >= MAX_MODULES:
                    break
                if type(name) is str and _NAME.fullmatch(name):
                    self._names.setdefault(name, None)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._names)

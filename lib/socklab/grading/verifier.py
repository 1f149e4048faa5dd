"""The verifier: test cells run here, never in the student's process.

One notebook, two processes. The student's kernel (nested namespaces, see
:data:`socklab.grading.kernels.NESTED`) runs the student's cells and the course's locked setup
cells. The verifier — this process — runs the course's locked cells (setup, data, tests) as
restored from the source notebook, in its own namespace. A name a test cell uses that the
verifier does not have is looked up in the student's kernel: a function becomes a
:class:`~socklab.grading.proxy.StudentFunction`, a variable arrives as plain data. So nothing
the student's code does in its process (exception handlers, hooks, doctored checkers, objects
equal to anything, forged outputs) can reach a verdict; only the verifier's outputs for test
cells are kept, and the student's outputs feed only the feedback.

A test whose call hung or crashed the student's process costs that test; the kernel is restarted
and the student's cells replayed before the next one.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import threading
import time
import types
from pathlib import Path

from nbformat import NotebookNode

from socklab.grading.kernels import STOPPED, KernelSession, _error
from socklab.grading.proxy import Student, StudentFunction, _students, accepts_on, where_for_thread


def referenced_names(code: types.CodeType) -> set[str]:
    """Every global name the code (and functions, lambdas, comprehensions in it) may look up."""
    names, stack = set(), [code]
    while stack:
        co = stack.pop()
        names.update(co.co_names)
        stack.extend(c for c in co.co_consts if isinstance(c, types.CodeType))
    return names


class _Capture(io.TextIOBase):
    def __init__(self, budget: int):
        self.parts, self.size, self.budget, self.cut = [], 0, budget, False

    def write(self, text: str) -> int:
        if self.size < self.budget:
            self.parts.append(text[: self.budget - self.size])
            self.cut |= self.size + len(text) > self.budget
        self.size += len(text)
        return len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _error_output(exc: BaseException) -> NotebookNode:
    from socklab.testing import ExerciseFailed

    ename = "ExerciseFailed" if isinstance(exc, ExerciseFailed) else type(exc).__name__
    evalue = str(exc)
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class Verifier:
    """Run one notebook: student cells in the student's kernel, trusted cells here."""

    def __init__(self, workdir: Path, *, limits: dict, label: str = "autograde", nested: bool = True,
                 cgroup_fd: int | None = None, preload: list[str] = ()):
        self.workdir, self.limits, self.label, self.nested = Path(workdir), limits, label, nested
        self.preload = list(preload)
        self.cgroup_fd = cgroup_fd
        self.cell_timeout = float(limits.get("cell_timeout", 30))
        self.session: KernelSession | None = None
        self.student: Student | None = None
        self.restarts = 0

    # -- the student's kernel -------------------------------------------------------------
    def start(self) -> None:
        """Start the student's kernel (call early: it warms up while the notebook is on its way)."""
        self.session = KernelSession(self.workdir, label=self.label, limits=self.limits, agent=True,
                                     nested=self.nested, cgroup_fd=self.cgroup_fd, preload=self.preload)
        self.session.start()
        session = self.session
        # A bare call (no call_with_timeout) gives up just before the cell's own limit, so the test
        # fails with a clear time-limit message rather than the cell being cut off.
        self.student = Student(session.channel, kill=session.kill, call_timeout=max(1.0, self.cell_timeout - 1))
        _students[:] = [self.student]

    def _restart(self, nb: NotebookNode, replay: list[int]) -> None:
        """A fresh student kernel with the student's cells so far run again (outputs dropped)."""
        self.restarts += 1
        self.session.stop()
        self.start()
        self.session.prepare(nb)
        for index in replay:
            scratch = NotebookNode(nb.cells[index].copy())
            scratch.outputs = []
            status, _ = self.session.run_cell(scratch, index)
            if status != "ok":
                break

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    # -- one notebook ---------------------------------------------------------------------
    def run(self, nb: NotebookNode, trusted: set[int], tests: set[int]) -> dict:
        """Execute `nb`; `trusted` are the course's own cells (restored from the source), `tests`
        the trusted cells that are graded. Returns {status, reason, cells: [[index, outputs]], ...}."""
        from socklab import concurrency
        from socklab.testing import checks, limits

        t0 = time.monotonic()
        limits.remote_where, checks.remote_accepts = where_for_thread, accepts_on
        concurrency.remote_pid = lambda: self.session.kernel_pid() if self.student.alive else None
        ns = {"__name__": "__main__", "__builtins__": builtins}
        self.session.prepare(nb)
        status, reason, replay, outputs = "ok", "", [], {}
        spent = {"student_s": 0.0, "setup_s": 0.0, "tests_s": 0.0}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if status != "ok":
                outputs[index] = [_error(STOPPED, f"not run: {reason}")]
                continue
            if index in tests:
                if not self.student.alive:
                    self._restart(nb, replay)
                t1 = time.monotonic()
                outputs[index] = self._run_test(cell, index, ns)
                spent["tests_s"] += time.monotonic() - t1
                continue
            if not self.student.alive:      # a test before stopped it: fresh kernel, same cells so far
                self._restart(nb, replay)
            cell.outputs = []
            t1 = time.monotonic()
            status, reason = self.session.run_cell(cell, index)
            spent["student_s"] += time.monotonic() - t1
            outputs[index] = list(cell.outputs)
            replay.append(index)
            if index in trusted:
                t1 = time.monotonic()
                self._exec(cell.source, ns, f"<string-cell-{index}>")   # setup and data cells, ours too
                spent["setup_s"] += time.monotonic() - t1
        return {"status": status, "reason": reason, "cells": sorted(outputs.items()),
                "truncated": sorted(self.session.ep._noted), "restarts": self.restarts,
                "timings": {"exec_s": time.monotonic() - t0, **spent}}

    def _run_test(self, cell: NotebookNode, index: int, ns: dict) -> list:
        try:
            code = compile(cell.source, f"<string-test-{index}>", "exec")
        except SyntaxError as exc:
            return [_error_output(exc)]
        bound = self._bind(code, ns)
        try:
            return self._exec(code, ns)
        finally:
            for name, value in bound.items():   # fresh from the student's kernel for every cell
                if ns.get(name) is value:
                    del ns[name]
            if self.student.alive:
                self.student.release()

    def _bind(self, code: types.CodeType, ns: dict) -> dict:
        """Proxies (functions) and plain-data copies (variables) of the student's names the test uses."""
        wanted = sorted(n for n in referenced_names(code) if n not in ns and not hasattr(builtins, n))
        bound = {}
        for name, kind in self.student.names(wanted).items() if wanted else ():
            if kind == "callable":
                bound[name] = StudentFunction(self.student, name)
            else:
                try:
                    bound[name] = self.student.value(name)
                except Exception:  # noqa: BLE001 - not plain data: the test sees no such name
                    continue
        ns.update(bound)
        return bound

    def _exec(self, code, ns: dict, filename: str = "<string-test>") -> list:
        """exec `code` in `ns` on a thread with the cell's time limit; its outputs as nbformat."""
        if isinstance(code, str):
            try:
                code = compile(code, filename, "exec")
            except SyntaxError as exc:
                return [_error_output(exc)]
        budget = int(self.limits.get("output_bytes", 1 << 20))
        out, err = _Capture(budget), _Capture(budget)
        box: dict = {}

        def main():
            try:
                exec(code, ns)  # noqa: S102 - the course's own cell, restored from the source
            except BaseException as exc:  # noqa: BLE001 - every failure is the cell's verdict
                box["error"] = exc

        worker = threading.Thread(target=main, daemon=True, name="socklab-verifier-cell")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            worker.start()
            worker.join(self.cell_timeout)
            if worker.is_alive():   # stuck on the student: stopping the student unblocks it
                self.student.kill("a test cell ran over its time limit")
                worker.join(5)
        result = []
        for name, cap in (("stdout", out), ("stderr", err)):
            if cap.text():
                result.append(NotebookNode(output_type="stream", name=name, text=cap.text()))
        if worker.is_alive():
            result.append(_error("TimeLimit", f"the test ran over its {self.cell_timeout:g} s time limit"))
        elif "error" in box:
            result.append(_error_output(box["error"]))
        return result

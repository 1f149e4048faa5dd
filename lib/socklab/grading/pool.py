"""Worker threads that each run one sandbox at a time, with the next sandbox's kernel warming up.

Kernel start dominates the cost of grading a notebook, so while a worker's sandbox executes one
notebook, the worker has already started the sandbox (and kernel) for its next one.
"""
from __future__ import annotations

import queue
import shutil
import threading
from pathlib import Path

from .sandbox import Sandbox


class Pool:
    """N worker threads, each driving one sandbox at a time with the next one warming up."""

    def __init__(self, n: int, make, workroot: Path):
        self.make, self.workroot = make, workroot
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._input_done = False
        self._count = 0
        self.threads = [threading.Thread(target=self._work, daemon=True, name=f"grade-{i}") for i in range(n)]
        for t in self.threads:
            t.start()

    def submit(self, job) -> None:
        with self._lock:
            self._waiting += 1
        self.jobs.put(job)

    def abort(self) -> None:
        """Drop queued jobs; workers finish the notebook in hand and stop."""
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                with self._lock:
                    self._waiting -= 1
        with self._lock:
            self._input_done = True
        for _ in self.threads:
            self.jobs.put(None)

    def close_input(self) -> None:
        with self._lock:
            self._input_done = True
        for _ in self.threads:
            self.jobs.put(None)

    def _more_expected(self) -> bool:
        with self._lock:
            return self._waiting > 0 or not self._input_done

    def _spawn(self) -> Sandbox:
        with self._lock:
            self._count += 1
            name = f"s{self._count:04d}"
        workdir = self.workroot / name
        return self.make(workdir).start()

    def _work(self) -> None:
        try:
            warm = self._spawn() if self._more_expected() else None
        except Exception:  # the first job spawns again and reports why it failed
            warm = None
        while True:
            job = self.jobs.get()
            if job is None:
                break
            with self._lock:
                self._waiting -= 1
            box, warm = warm, None
            try:
                box = box or self._spawn()
                if self._more_expected():
                    warm = self._spawn()
                _copy_extras(job.extras, box.workdir, job.shipped)
                outcome = box.run(job.payload, trusted=job.trusted, tests=job.tests)
            except Exception as exc:  # a grader bug (or a sandbox that cannot start) still yields a result:
                # the parent waits for one result per job, so a dead worker would hang the whole run.
                outcome = {"status": "crash", "reason": f"grader error: {type(exc).__name__}: {exc}", "cells": None}
            finally:
                if box is not None:
                    box.close()
                    shutil.rmtree(box.workdir, ignore_errors=True)
            self.results.put((job, outcome))
        if warm is not None:
            warm.close()
            shutil.rmtree(warm.workdir, ignore_errors=True)

    def shutdown(self) -> None:
        for t in self.threads:
            t.join(timeout=30)


def _copy_extras(src: Path, dest: Path, only: set[str] | None = None) -> None:
    """The files the assignment ships (relative paths in `only`), from the submission folder.
    Nothing else the student put there (a socklab/ package, say) reaches the sandbox."""
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if only is not None and rel.as_posix() not in only:
            continue
        if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb" and not rel.parts[0].startswith("."):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest / rel)

"""A one-line progress bar on stderr (plain lines when not a terminal)."""
from __future__ import annotations

import sys
import time


class Progress:
    """Progress(total).advance(failed=False) per finished notebook; close() at the end."""

    def __init__(self, total: int, *, enabled: bool | None = None, stream=None, label: str = "grading"):
        self.total, self.done, self.failed, self.label = total, 0, 0, label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = self.tty if enabled is None else enabled
        self.t0 = time.monotonic()

    def line(self) -> str:
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        bad = f", {self.failed} with problems" if self.failed else ""
        return (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} notebooks"
                f"{bad} {time.monotonic() - self.t0:5.1f} s")

    def advance(self, *, failed: bool = False) -> None:
        self.done += 1
        self.failed += bool(failed)
        if self.enabled:
            end = "" if self.tty else "\n"
            print(("\r" if self.tty else "") + self.line(), end=end, file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            print(file=self.stream, flush=True)

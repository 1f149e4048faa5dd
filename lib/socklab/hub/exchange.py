"""nbgrader's exchange with submissions only the instructor can read.

nbgrader's own submit leaves every file of a submission world-readable and its folder
world-writable, hidden only by a random folder name in an unlistable inbound (nbgrader#978):
anyone who learns the name can read or change another student's work. The inbound folder is
set-group-ID to the instructor's group, so each submission's folder belongs to that group; this
submit closes the folder to everybody else (its files may keep their read bits: nobody but the
student and the instructor's group can reach them).
"""
from __future__ import annotations

import os

from nbgrader.exchange.default.submit import ExchangeSubmit

__all__ = ["PrivateSubmit"]


class PrivateSubmit(ExchangeSubmit):
    """`nbgrader submit`, readable by the student and the instructor's group only."""

    def copy_files(self):
        super().copy_files()
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        # Only the top folder: the student cannot give files to the instructor's group (chgrp
        # needs membership), and copytree's copystat dropped set-group-ID inside.
        os.chmod(dest, 0o770)

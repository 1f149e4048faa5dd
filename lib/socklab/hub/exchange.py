"""nbgrader's exchange with submissions only the instructor can read.

nbgrader's own submit leaves every file of a submission world-readable and its folder
world-writable, hidden only by a random folder name in an unlistable inbound (nbgrader#978):
anyone who learns the name can read or change another student's work. The inbound folder is
set-group-ID to the instructor's group, so a submission's files already belong to that group;
this submit then takes every permission away from everybody else.
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
        self.set_perms(dest, fileperms=0o640, dirperms=0o750)
        os.chmod(dest, 0o770)   # the instructor's group may still tidy it away

"""The in-process cell runner starts from the state of a fresh kernel, whatever ran before it."""
from __future__ import annotations

import socket

from cellrun import run


def test_a_run_does_not_blame_the_answer_for_sockets_earlier_student_code_left():
    """Does the reference answer pass although earlier student code in this process left an adopted,
    never-swept socket (as under xdist, where another file's tests ran first)?"""
    from socklab.testing import cleanup

    left = socket.socket()
    cleanup.adopt(left)
    try:
        run("q03_2_call_order")   # its grade cell fails any answer that leaves a socket open
    finally:
        left.close()

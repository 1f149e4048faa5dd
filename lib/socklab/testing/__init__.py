"""What grade cells call: time limits, reference peers and short Korean/English failure messages.

>>> from socklab.testing import call_with_timeout, ExerciseFailed
>>> call_with_timeout(max, 3, 7, timeout=1)
7
"""
from socklab.testing.checks import (ECHO, Scenario, check_client, check_server, concurrent, empty, multi_chunk,
                                    resetting, round_trip, silent)
from socklab.testing.cleanup import check_nothing_left, sweep, thread_errors
from socklab.testing.display import install_hint_display, uninstall_hint_display
from socklab.testing.limits import Run, call_with_timeout, expect_raises
from socklab.testing.probes import (bind_outcome, echoes_as_it_arrives, eof_echo_server, stalled_port,
                                    stalls_then, still_connected)
from socklab.testing.messages import (ExerciseFailed, TimeLimit, check, describe_exception, expect_equal,
                                      fail)

__all__ = [
    "ExerciseFailed", "TimeLimit", "fail", "check", "expect_equal", "describe_exception",
    "call_with_timeout", "Run", "install_hint_display", "uninstall_hint_display", "expect_raises",
    "check_nothing_left", "sweep", "thread_errors",
    "check_server", "check_client", "Scenario", "ECHO", "round_trip", "multi_chunk", "empty", "silent",
    "resetting", "concurrent", "stalled_port", "still_connected", "echoes_as_it_arrives", "bind_outcome",
    "stalls_then", "eof_echo_server",
]

"""Hidden tests earn their name: an answer written only to pass the visible tests fails them.

For each autograded exercise we keep one plausible "visible-only" wrong answer. The grade cell's
visible part must accept it (otherwise the example proves nothing) and the whole cell, hidden tests
included, must reject it with our ExerciseFailed. Cells run in this process (real sockets, real
servers, no kernel) to keep the suite fast; the kernel runs are in test_execution.py.
"""
from __future__ import annotations


import pytest

from cellrun import changed, grade_ids, run
from test_ch03_3_checks import TOKEN_PARSER
from test_ch03_verdicts import WRONG as VERDICTS


def verdict(grade_id: str, what: str):
    """The wrong answer test_ch03_verdicts.py calls `what` for `grade_id` (it fails at one check there)."""
    return next(answer for gid, label, answer, _, _ in VERDICTS if (gid, label) == (grade_id, what))


# grade_id -> a wrong answer that satisfies only the visible tests (a function of the solution text
# where a one-line bug is enough, so these stay in step with the notebooks).
WRONG = {
    "q03_1_layers": lambda: '''
def layer_of(name):
    return {"HTTP": "application", "TCP": "transport", "IP": "internet", "Ethernet": "link"}[name]
''',
    # 03.1 and 03.2: one-line bugs in the solution, taken from test_ch03_verdicts.py (one per check there).
    "q03_2_call_order": verdict("q03_2_call_order", "one recv()"),
    "q03_3_http_get": lambda: '''
def fetch(host, port, path="/"):
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(f"GET / HTTP/1.0\\r\\nHost: {host}:{port}\\r\\n\\r\\n".encode())
        return sock.recv(65536)
''',
    "q03_4_echo_server": verdict("q03_4_echo_server", "serves two clients, whatever n_clients says"),
    "q03_4_echo_server_robust": verdict("q03_4_echo_server_robust", "no timeout on the connection"),
    "q03_5_icmp_checksum": verdict("q03_5_icmp_checksum", "drops an odd last byte"),
    "q03_5_icmp": verdict("q03_5_icmp", "IP header assumed 20 bytes"),
    # A fixed pool of two workers: fine for the visible two clients, deadlocks with three.
    "q03_6_concurrent": verdict("q03_6_concurrent", "a pool of two workers"),
    "q03_6_concurrent_robust": verdict("q03_6_concurrent_robust", "returns without join()"),
    "q03_7_snmp_manager": verdict("q03_7_snmp_manager", "gives up on all agents after one timeout"),
    "q03_7_snmp_manager_robust": verdict("q03_7_snmp_manager_robust", "takes the first datagram, whatever its request id"),
    "q03_8_p2p": verdict("q03_8_p2p", "one recv() per GET"),
    "q03_8_p2p_robust": verdict("q03_8_p2p_robust", "server thread spins after the listener closes"),
    "q03_10_services": changed(
        "q03_10_services", ('(entry["name"] == name or name in entry["aliases"])', 'entry["name"] == name')),
    "q03_11_classify": changed(
        "q03_11_classify", ("if isinstance(port, bool) or not isinstance(port, int):", "if False:"),
        ("if not 0 <= port <= 65535:", "if False:")),
    "q03_12_ephemeral": changed(
        "q03_12_ephemeral", ("""    with socket.create_connection(address, timeout=2) as sock:
        return sock.getsockname()[1]""", """    import random
    low, high = kernel_port_range()
    return random.randint(low, high)""")),
    # binds every interface, not `host`: fine for the visible checks, wrong on the port the test holds
    "q03_13_bind_errors": changed("q03_13_bind_errors", ("sock.bind((host, port))", 'sock.bind(("", port))')),
    # never closes on success: the privileged check passes, the hidden "bind again" check does not
    "q03_13_bind_errors_robust": changed("q03_13_bind_errors", ("    finally:\n        sock.close()\n", "")),
    # token-based: a field starting with '#' opens the comment; the hidden "70/tcp# ..." line slips through
    "q03_10_services_robust": lambda: TOKEN_PARSER,
    "q03_14_scanner": lambda: '''
def scan(host, port_list, timeout):
    found = []
    for port in port_list:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                found.append(port)
        except OSError:
            pass
    return found
''',
}


def test_every_autograded_exercise_has_a_visible_only_wrong_answer_here():
    """Is there a wrong answer for every autograded exercise (so every hidden test is proven)?"""
    assert set(grade_ids("ch03")) == set(WRONG)


@pytest.mark.parametrize("grade_id", sorted(WRONG, key=lambda g: int(g.split("_")[1])))
def test_hidden_tests_catch_an_answer_that_only_satisfies_the_visible_ones(grade_id):
    """Does the visible part accept the overfitted answer while the hidden tests reject it?"""
    from socklab.testing import ExerciseFailed

    answer = WRONG[grade_id]()
    run(grade_id, answer, hidden=False)
    with pytest.raises(ExerciseFailed):
        run(grade_id, answer, hidden=True)

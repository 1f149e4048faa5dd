"""Hidden tests earn their name: an answer written only to pass the visible tests fails them.

For each autograded exercise we keep one plausible "visible-only" wrong answer. The grade cell's
visible part must accept it (otherwise the example proves nothing) and the whole cell, hidden tests
included, must reject it with our ExerciseFailed. Cells run in this process (real sockets, real
servers, no kernel) to keep the suite fast; the kernel runs are in test_execution.py.
"""
from __future__ import annotations


import pytest

from cellrun import edited, run_cell
from nbtools import NAMES, SOLUTIONS, load, nbgrader_meta
from test_ch03_3_checks import TOKEN_PARSER

# A solution with (old, new) edits applied (cellrun.edited): a one-line bug keeps a wrong answer in step.
_from_solution = edited


# grade_id -> a wrong answer that satisfies only the visible tests (a function of the solution text
# where a one-line bug is enough, so these stay in step with the notebooks).
WRONG = {
    "q03_1_layers": lambda: '''
def layer_of(name):
    return {"HTTP": "application", "TCP": "transport", "IP": "internet", "Ethernet": "link"}[name]
''',
    # 03.1 and 03.2: one-line bugs in the solution (tests/notebooks/test_ch03_verdicts.py has one per check).
    "q03_2_call_order": lambda: edited("q03_2_call_order", (
        """                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    parts.append(chunk)""", """                parts.append(sock.recv(65536))""")),
    "q03_3_http_get": lambda: '''
def fetch(host, port, path="/"):
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(f"GET / HTTP/1.0\\r\\nHost: {host}:{port}\\r\\n\\r\\n".encode())
        return sock.recv(65536)
''',
    "q03_4_echo_server": lambda: edited("q03_4_echo_server", ("for _ in range(n_clients):", "for _ in range(2):")),
    "q03_4_echo_server_robust": lambda: edited("q03_4_echo_server", ("conn.settimeout(timeout)", "conn.settimeout(None)")),
    "q03_5_icmp_checksum": lambda: edited("q03_5_icmp_checksum", (
        """            if len(data) % 2:
                data += b"\\x00\"""", """            data = data[:len(data) // 2 * 2]""")),
    "q03_5_icmp": lambda: edited("q03_5_icmp", ("ihl = (raw[0] & 0x0F) * 4", "ihl = 20")),
    # A fixed pool of two workers: fine for the visible two clients, deadlocks with three.
    "q03_6_concurrent": lambda: '''
from concurrent.futures import ThreadPoolExecutor
def serve_concurrently(listener, n_clients):
    def handle(conn):
        with conn:
            conn.settimeout(2)
            while data := conn.recv(4096):
                conn.sendall(data)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(n_clients):
            conn, _ = listener.accept()
            pool.submit(handle, conn)
''',
    "q03_6_concurrent_robust": lambda: edited("q03_6_concurrent", ("""            for t in threads:
                t.join()""", "")),
    "q03_7_snmp_manager": lambda: edited("q03_7_snmp_manager", ("""                        except (TimeoutError, ConnectionRefusedError):
                            break""", """                        except (TimeoutError, ConnectionRefusedError):
                            return {a: results.get(tuple(a)) for a in map(tuple, agents)}""")),
    "q03_7_snmp_manager_robust": lambda: edited("q03_7_snmp_manager", ("""                        if reply.PDU.id.val != request_id:
                            continue          # a late answer to another request
""", "")),
    "q03_8_p2p": lambda: edited("q03_8_p2p", ("""                    while data := sock.recv(65536):
                        parts.append(data)""", """                    parts.append(sock.recv(65536))""")),
    "q03_8_p2p_robust": lambda: edited("q03_8_p2p", ("""                    except OSError:
                        return""", """                    except OSError:
                        continue""")),
    "q03_10_services": lambda: _from_solution(
        "q03_10_services", ('(entry["name"] == name or name in entry["aliases"])', 'entry["name"] == name')),
    "q03_11_classify": lambda: _from_solution(
        "q03_11_classify", ("if isinstance(port, bool) or not isinstance(port, int):", "if False:"),
        ("if not 0 <= port <= 65535:", "if False:")),
    "q03_12_ephemeral": lambda: _from_solution(
        "q03_12_ephemeral", ("""    with socket.create_connection(address, timeout=2) as sock:
        return sock.getsockname()[1]""", """    import random
    low, high = kernel_port_range()
    return random.randint(low, high)""")),
    # binds every interface, not `host`: fine for the visible checks, wrong on the port the test holds
    "q03_13_bind_errors": lambda: _from_solution("q03_13_bind_errors", ("sock.bind((host, port))", 'sock.bind(("", port))')),
    # never closes on success: the privileged check passes, the hidden "bind again" check does not
    "q03_13_bind_errors_robust": lambda: _from_solution("q03_13_bind_errors", ("    finally:\n        sock.close()\n", "")),
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


def _run(grade_id: str, answer: str, *, hidden: bool) -> None:
    """Run the notebook's locked cells, `answer`, then the grade cell (with or without hidden tests);
    whatever the answer left running or open is swept away afterwards."""
    run_cell(grade_id, answer, hidden=hidden)


def test_every_autograded_exercise_has_a_visible_only_wrong_answer_here():
    """Is there a wrong answer for every autograded exercise (so every hidden test is proven)?"""
    ids = {nbgrader_meta(c)["grade_id"] for name in NAMES for c in load(SOLUTIONS / name)["cells"]
           if c["cell_type"] == "code" and nbgrader_meta(c).get("grade")}
    assert ids == set(WRONG)


@pytest.mark.parametrize("grade_id", sorted(WRONG, key=lambda g: int(g.split("_")[1])))
def test_hidden_tests_catch_an_answer_that_only_satisfies_the_visible_ones(grade_id):
    """Does the visible part accept the overfitted answer while the hidden tests reject it?"""
    from socklab.testing import ExerciseFailed

    answer = WRONG[grade_id]()
    _run(grade_id, answer, hidden=False)
    with pytest.raises(ExerciseFailed):
        _run(grade_id, answer, hidden=True)

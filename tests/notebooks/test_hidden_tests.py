"""Hidden tests earn their name: an answer written only to pass the visible tests fails them.

For each autograded exercise we keep one plausible "visible-only" wrong answer. The grade cell's
visible part must accept it (otherwise the example proves nothing) and the whole cell, hidden tests
included, must reject it with our ExerciseFailed. Cells run in this process (real sockets, real
servers, no kernel) to keep the suite fast; the kernel runs are in test_execution.py.
"""
from __future__ import annotations

import socket

import pytest

from nbtools import NAMES, SOLUTIONS, load, nbgrader_meta, source
from test_ch03_3_checks import TOKEN_PARSER

HIDDEN_START, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _notebook_of(grade_id: str) -> tuple[str, dict[str, str], list[str]]:
    """(notebook, {grade_id: source}, sources of its locked setup/data cells in order)."""
    for name in NAMES:
        cells = load(SOLUTIONS / name)["cells"]
        by_id = {nbgrader_meta(c).get("grade_id"): source(c) for c in cells if nbgrader_meta(c)}
        if grade_id in by_id:
            fixed = [source(c) for c in cells if c["cell_type"] == "code" and nbgrader_meta(c).get("locked")
                     and not nbgrader_meta(c).get("grade")]
            return name, by_id, fixed
    raise KeyError(grade_id)


def _visible_only(cell: str) -> str:
    before, rest = cell.split(HIDDEN_START, 1)
    return before + rest.split(HIDDEN_END, 1)[1]


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the solution changed; update this wrong answer: {old!r}"
    return text.replace(old, new)


def _from_solution(grade_id: str, *edits: tuple[str, str]) -> str:
    _, by_id, _ = _notebook_of(grade_id)
    text = by_id[f"{grade_id}_answer"]
    for old, new in edits:
        text = _replace(text, old, new)
    return text


# grade_id -> a wrong answer that satisfies only the visible tests (a function of the solution text
# where a one-line bug is enough, so these stay in step with the notebooks).
WRONG = {
    "q03_1_layers": lambda: '''
def layer_of(name):
    return {"HTTP": "application", "TCP": "transport", "IP": "internet", "Ethernet": "link"}[name]
''',
    "q03_2_call_order": lambda: '''
def socket_calls(role):
    return ["socket", "bind", "listen", "accept", "recv", "sendall", "close"]
''',
    "q03_3_http_get": lambda: '''
def fetch(host, port, path="/"):
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(f"GET / HTTP/1.0\\r\\nHost: {host}:{port}\\r\\n\\r\\n".encode())
        return sock.recv(65536)
''',
    "q03_4_echo_server": lambda: '''
def serve_echo(listener, n_clients):
    for _ in range(n_clients):
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(2)
            conn.sendall(conn.recv(65536))
''',
    "q03_5_icmp": lambda: '''
from scapy.layers.inet import IP, ICMP
def build_echo_request(ident, seq, payload):
    return IP(dst="127.0.0.1") / ICMP(type=8, id=0x1234, seq=1) / payload
def parse_echo_reply(raw):
    return {"src": "127.0.0.1", "dst": "127.0.0.1", "ttl": 64, "type": 0, "code": 0, "id": 0x1234, "seq": 1,
            "payload": b"socklab"}
''',
    # A fixed pool of two workers: fine for the visible two clients, deadlocks with four.
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
    "q03_7_snmp_manager": lambda: _from_solution(
        "q03_7_snmp_manager", ("SNMP(community=community,", 'SNMP(community="public",'),
        ('value.decode("utf-8") if isinstance(value, bytes) else value', 'value.decode("utf-8")')),
    "q03_8_p2p": lambda: _from_solution(
        "q03_8_p2p", ("""            parts = []
            while data := sock.recv(65536):
                parts.append(data)""", """            parts = [sock.recv(65536)]""")),
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
    """Run the notebook's locked cells, `answer`, then the grade cell (with or without hidden tests)."""
    from socklab import servers

    _, by_id, fixed = _notebook_of(grade_id)
    cell = by_id[grade_id] if hidden else _visible_only(by_id[grade_id])
    ns: dict = {"__name__": "__main__", "display": print}
    try:
        for code in fixed:
            exec(compile(code, "<setup>", "exec"), ns)
        exec(compile(answer, "<student answer>", "exec"), ns)
        exec(compile(cell, f"<{grade_id}>", "exec"), ns)
    finally:
        # A failing cell stops before its own clean-up lines: close what it left open.
        for value in list(ns.values()):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, socket.socket):
                    item.close()
        servers.stop_all()
        from socklab import testing
        testing.sweep()  # as IPython's post-cell hook does: the student's leftovers do not outlive the cell


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

"""Notebooks 03.1 and 03.2: every check a grade cell makes can fail, and says the real mistake.

For each check there is a wrong answer that this check, and no check before it, catches: the
whole cell is run against it and must fail with that check's message. Robustness cells also run
the basic cell with the same answer where it should still pass (partial credit is real).
"""
from __future__ import annotations

import pytest

from cellrun import changed, run, solution
from socklab.testing import ExerciseFailed

pytestmark = pytest.mark.slow  # ~45 cells run against real peers (in this process, no kernel)


def pool_of(workers: int) -> str:
    """A concurrent server on a fixed pool of `workers` threads: concurrent only up to that many clients."""
    return f'''
from concurrent.futures import ThreadPoolExecutor
def serve_concurrently(listener, n_clients):
    def handle(conn):
        with conn:
            conn.settimeout(2)
            while data := conn.recv(4096):
                conn.sendall(data)
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        for _ in range(n_clients):
            conn, _ = listener.accept()
            pool.submit(handle, conn)
'''


# (grade_id, what is wrong, answer source, fragment of the failure message, basic cell that still passes)
WRONG: list[tuple[str, str, object, str, str | None]] = [
    # -- exercise 1 ---------------------------------------------------------------------------------
    ("q03_1_layers", "wrong layer for HTTP", changed("q03_1_layers", ('["http", "ftp",', '["ftp",'),
                                                    ('"link": ["ethernet",', '"link": ["http", "ethernet",')),
     "layer_of('HTTP')", None),
    ("q03_1_layers", "case-sensitive lookup", changed("q03_1_layers", ("key = name.strip().lower()", "key = name"),
                                                     ('["http", "ftp", "ssh", "dns", "snmp"]', '["HTTP", "ftp", "ssh", "dns", "snmp"]'),
                                                     ('["tcp", "udp", "port number"]', '["TCP", "udp", "port number"]'),
                                                     ('["ip", "icmp", "ip address"]', '["IP", "icmp", "ip address"]'),
                                                     ('["ethernet", "wi-fi", "mac address"]', '["Ethernet", "wi-fi", "mac address"]')),
     "'DNS'", None),
    ("q03_1_layers", "KeyError instead of ValueError", changed(
        "q03_1_layers", ('raise ValueError(f"unknown protocol or thing: {name!r}")', "raise KeyError(name)")),
     "a name not in the list", None),
    # -- exercise 2 ---------------------------------------------------------------------------------
    ("q03_2_call_order", "no shutdown(SHUT_WR)", changed("q03_2_call_order", ("sock.shutdown(socket.SHUT_WR)", "pass")),
     "shutdown(socket.SHUT_WR)", None),
    ("q03_2_call_order", "never closes", changed("q03_2_call_order", ("            sock.close()", "            pass")),
     "left its socket open", None),
    ("q03_2_call_order", "one recv()", changed("q03_2_call_order", (
        """                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    parts.append(chunk)""", """                parts.append(sock.recv(65536))""")),
     "bytes read until recv() returned b''", None),
    # -- exercise 3 ---------------------------------------------------------------------------------
    ("q03_3_http_get", "HTTP/1.1", changed("q03_3_http_get", ("HTTP/1.0\\r\\nHost", "HTTP/1.1\\r\\nHost")),
     "wrong request line", None),
    ("q03_3_http_get", "no Host header", changed("q03_3_http_get", ("Host: {host}:{port}\\r\\n", "")),
     "no Host header", None),
    ("q03_3_http_get", "no empty line", changed("q03_3_http_get", ("{port}\\r\\n\\r\\n", "{port}\\r\\n")),
     "must end with an empty line", None),
    ("q03_3_http_get", "returns only the body", changed("q03_3_http_get", (
        'return b"".join(chunks)', 'return b"".join(chunks).split(b"\\r\\n\\r\\n", 1)[-1]')),
     "the response fetch() returned", None),
    ("q03_3_http_get", "path ignored", changed("q03_3_http_get", ("GET {path} HTTP", "GET / HTTP")),
     "must carry the path", None),
    ("q03_3_http_get", "one recv()", changed("q03_3_http_get", (
        """                while True:
                    data = sock.recv(4096)
                    if not data:
                        break
                    chunks.append(data)""", """                chunks.append(sock.recv(65536))""")),
     "bytes read until the server closed", None),
    # -- exercise 4 ---------------------------------------------------------------------------------
    ("q03_4_echo_server", "upper-cases the echo", changed("q03_4_echo_server", ("conn.sendall(data)", "conn.sendall(data.upper())")),
     "got the wrong reply", None),
    ("q03_4_echo_server", "serves two clients, whatever n_clients says", changed(
        "q03_4_echo_server", ("for _ in range(n_clients):", "for _ in range(2):")),
     "returned after accepting 2 of 3 clients", None),
    ("q03_4_echo_server_robust", "one recv() per connection", changed("q03_4_echo_server", (
        """                        while True:
                            data = conn.recv(4096)
                            if not data:
                                break
                            conn.sendall(data)""", """                        conn.sendall(conn.recv(4096))""")),
     "bytes in 4 pieces", "q03_4_echo_server"),
    ("q03_4_echo_server_robust", "answers an empty request with a default", changed("q03_4_echo_server", (
        """                    try:
                        while True:""", """                    try:
                        first = True
                        while True:""") , ("""                            if not data:
                                break""", """                            if not data:
                                if first:
                                    conn.sendall(b"?")
                                break
                            first = False""")),
     "sends nothing, then half-closes", "q03_4_echo_server"),
    ("q03_4_echo_server_robust", "no timeout on the connection", changed("q03_4_echo_server", (
        "conn.settimeout(timeout)", "conn.settimeout(None)")),
     "silent client that never leaves", "q03_4_echo_server"),
    ("q03_4_echo_server_robust", "survives timeouts but not resets", changed("q03_4_echo_server", (
        "except OSError:          # TimeoutError and ConnectionResetError are OSErrors", "except TimeoutError:")),
     "ConnectionResetError", "q03_4_echo_server"),
    # -- exercise 5 ---------------------------------------------------------------------------------
    ("q03_5_icmp_checksum", "forgets to invert", changed("q03_5_icmp_checksum", ("return ~total & 0xFFFF", "return total & 0xFFFF")),
     "RFC 1071", None),
    ("q03_5_icmp_checksum", "drops an odd last byte", changed("q03_5_icmp_checksum", (
        """            if len(data) % 2:
                data += b"\\x00\"""", """            data = data[:len(data) // 2 * 2]""")),
     "checksum of 1 bytes", None),
    ("q03_5_icmp_checksum", "folds the carry only once", changed("q03_5_icmp_checksum", (
        "while total >> 16:", "if total >> 16:")),
     "still carries after one fold", None),
    ("q03_5_icmp", "returns a scapy packet", lambda: solution("q03_5_icmp") + '''
from scapy.layers.inet import ICMP as _I
_build = build_echo_request
def build_echo_request(ident, seq, payload):
    return _I(_build(ident, seq, payload))
''', "must return bytes", None),
    ("q03_5_icmp", "type 0 (a reply) instead of 8", changed("q03_5_icmp", (
        'header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)', 'header = struct.pack("!BBHHH", 0, 0, 0, ident, seq)'),
        ('return struct.pack("!BBHHH", 8, 0, checksum, ident, seq) + payload', 'return struct.pack("!BBHHH", 0, 0, checksum, ident, seq) + payload')),
     "your ICMP message as scapy reads it", None),
    ("q03_5_icmp", "checksum left at 0", changed("q03_5_icmp", (
        'return struct.pack("!BBHHH", 8, 0, checksum, ident, seq) + payload', 'return header + payload')),
     "the ICMP checksum", None),
    ("q03_5_icmp", "TTL read from the wrong byte", changed("q03_5_icmp", ("ttl = raw[8]", "ttl = raw[9]")),
     "parse_echo_reply() result", None),
    ("q03_5_icmp", "signed 16-bit fields", changed("q03_5_icmp", (
        'return struct.pack("!BBHHH", 8, 0, checksum, ident, seq) + payload', 'return struct.pack("!BBHhh", 8, 0, checksum, ident, seq) + payload')),
     "'h' format requires", None),
    ("q03_5_icmp", "checksum over the even part only", changed("q03_5_icmp", (
        "checksum = internet_checksum(header + payload)", "checksum = internet_checksum(header + payload[:len(payload) // 2 * 2])")),
     "odd-length payload", None),
    ("q03_5_icmp", "IP header assumed 20 bytes", changed("q03_5_icmp", ("ihl = (raw[0] & 0x0F) * 4", "ihl = 20")),
     "a reply with IP options", None),
    # -- exercise 6 ---------------------------------------------------------------------------------
    ("q03_6_concurrent", "threads, but echoes only at the end", changed("q03_6_concurrent", (
        """                    try:
                        while True:
                            data = conn.recv(4096)
                            if not data:
                                break
                            conn.sendall(data)""", """                    try:
                        kept = b""
                        while True:
                            data = conn.recv(4096)
                            if not data:
                                break
                            kept += data
                        conn.sendall(kept)""")),
     "as soon as recv() returns it", None),
    ("q03_6_concurrent", "one client at a time", changed("q03_6_concurrent", (
        "t = threading.Thread(target=handle, args=(conn,), daemon=True)\n                t.start()",
        "t = threading.Thread(target=handle, args=(conn,), daemon=True)\n                t.start()\n                t.join()")),
     "at the same time", None),
    ("q03_6_concurrent", "a pool of two workers", lambda: pool_of(2), "the server did not serve several clients at the same time", None),
    ("q03_6_concurrent_robust", "a pool of three workers", lambda: pool_of(3), "the server did not serve several clients at the same time", "q03_6_concurrent"),
    ("q03_6_concurrent_robust", "stops echoing after 40000 bytes", changed("q03_6_concurrent", (
        """                    try:
                        while True:
                            data = conn.recv(4096)""", """                    try:
                        total = 0
                        while total < 40000:
                            data = conn.recv(4096)
                            total += len(data)""")),
     "bytes in 4 pieces", "q03_6_concurrent"),
    ("q03_6_concurrent_robust", "returns without join()", changed("q03_6_concurrent", (
        """            for t in threads:
                t.join()""", "")),
     "join() every thread", "q03_6_concurrent"),
    # -- exercise 7 ---------------------------------------------------------------------------------
    ("q03_7_snmp_manager", "no timeout: waits forever for the silent agent", changed("q03_7_snmp_manager", (
        "sock.settimeout(left)", "sock.settimeout(None)")),
     "UDP has no connection", None),
    ("q03_7_snmp_manager", "gives up on all agents after one timeout", changed("q03_7_snmp_manager", (
        """                        except (TimeoutError, ConnectionRefusedError):
                            break""", """                        except (TimeoutError, ConnectionRefusedError):
                            return {a: results.get(tuple(a)) for a in map(tuple, agents)}""")),
     "when the first agent is silent", None),
    ("q03_7_snmp_manager_robust", "community fixed to public", changed("q03_7_snmp_manager", (
        "request = SNMP(community=community,", 'request = SNMP(community="public",')),
     "community 'campus-ro'", "q03_7_snmp_manager"),
    ("q03_7_snmp_manager_robust", "a fixed 1.5 s timeout instead of the one given", changed("q03_7_snmp_manager", (
        "deadline = time.monotonic() + timeout", "deadline = time.monotonic() + 1.5")),
     "wait only `timeout` s per silent agent", "q03_7_snmp_manager"),
    ("q03_7_snmp_manager_robust", "takes the first datagram, whatever its request id", changed("q03_7_snmp_manager", (
        """                        if reply.PDU.id.val != request_id:
                            continue          # a late answer to another request
""", "")),
     "late answer to an older request", "q03_7_snmp_manager"),
    # -- exercise 8 ---------------------------------------------------------------------------------
    ("q03_8_p2p", "returns only its own chunks", changed("q03_8_p2p", (
        "return b\"\".join(chunks[i] for i in range(n_chunks))", "return b\"\".join(chunks[i] for i in sorted(chunks) if i < 2)")),
     "did not return the whole file", None),
    ("q03_8_p2p", "no server thread", changed("q03_8_p2p", (
        "threading.Thread(target=serve, daemon=True).start()", "pass")),
     "does a server thread answer HAVE/GET?", None),
    ("q03_8_p2p", "one recv() per GET", changed("q03_8_p2p", (
        """                    while data := sock.recv(65536):
                        parts.append(data)""", """                    parts.append(sock.recv(65536))""")),
     "large chunks (200 KB)", None),
    ("q03_8_p2p_robust", "an empty HAVE answer crashes", changed("q03_8_p2p", (
        'for index in [int(x) for x in offered.split(",") if x]:', 'for index in [int(x) for x in offered.split(",")]:')),
     "ValueError", "q03_8_p2p"),
    ("q03_8_p2p_robust", "server thread spins after the listener closes", changed("q03_8_p2p", (
        """                    except OSError:
                        return""", """                    except OSError:
                        continue""")),
     "kept running after the listener was closed", "q03_8_p2p"),
]


def _id(item) -> str:
    return f"{item[0]}: {item[1]}"


@pytest.mark.parametrize("item", WRONG, ids=[_id(w) for w in WRONG])
def test_each_check_catches_its_wrong_answer(item):
    """Does this grade cell fail this wrong answer at the check meant for it, with its message?"""
    grade_id, _what, answer, fragment, basic = item
    source = answer()
    with pytest.raises(ExerciseFailed) as info:
        run(grade_id, source)
    assert fragment in str(info.value), str(info.value)
    if basic is not None:
        run(basic, source)  # the basic cell still gives its points


def test_every_grade_cell_of_03_1_and_03_2_has_wrong_answers_here():
    """Is every autograded cell of 03.1 and 03.2 proven by at least one wrong answer above?"""
    from nbtools import SOLUTIONS, load, nbgrader_meta

    ids = {nbgrader_meta(c)["grade_id"] for name in ("03.1-what-is-a-socket.ipynb", "03.2-network-models.ipynb")
           for c in load(SOLUTIONS / name)["cells"] if c["cell_type"] == "code" and nbgrader_meta(c).get("grade")}
    assert ids == {w[0] for w in WRONG}

"""Notebooks 03.1 and 03.2: correct answers written in other styles than the solution pass every cell.

create_connection, makefile(), 1-byte recv loops, recv_into, selectors, thread pools, regex
parsers, match statements, UDP connect(): a student who gets it right differently gets the points.
"""
from __future__ import annotations

import pytest

from cellrun import run

STYLES: dict[str, list[tuple[str, str]]] = {
    "q03_1_layers": [
        ("a flat dict and a ValueError subclass", '''
class UnknownLayer(ValueError):
    pass

LAYERS = {"http": "application", "ftp": "application", "ssh": "application", "dns": "application",
          "snmp": "application", "tcp": "transport", "udp": "transport", "port number": "transport",
          "ip": "internet", "icmp": "internet", "ip address": "internet", "ethernet": "link",
          "wi-fi": "link", "mac address": "link"}

def layer_of(name):
    try:
        return LAYERS[name.casefold()]
    except KeyError:
        raise UnknownLayer(name) from None
'''),
        ("match statement, bare raise ValueError", '''
def layer_of(name):
    match name.lower():
        case "http" | "ftp" | "ssh" | "dns" | "snmp":
            return "application"
        case "tcp" | "udp" | "port number":
            return "transport"
        case "ip" | "icmp" | "ip address":
            return "internet"
        case "ethernet" | "wi-fi" | "mac address":
            return "link"
    raise ValueError
'''),
    ],
    "q03_2_call_order": [
        ("create_connection and makefile", '''
def echo_client(host, port, data):
    with socket.create_connection((host, port), timeout=2) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        with sock.makefile("rb") as reply:
            return reply.read()
'''),
        ("1-byte recv loop", '''
def echo_client(host, port, data):
    with socket.socket() as sock:
        sock.settimeout(2)
        sock.connect((host, port))
        view = memoryview(data)
        while view:
            view = view[sock.send(view):]
        sock.shutdown(socket.SHUT_WR)
        got = bytearray()
        while byte := sock.recv(1):
            got += byte
    return bytes(got)
'''),
    ],
    "q03_3_http_get": [
        ("makefile for both directions", '''
def fetch(host, port, path="/"):
    with socket.create_connection((host, port), timeout=5) as sock, sock.makefile("rwb") as f:
        f.write(b"GET " + path.encode() + b" HTTP/1.0\\r\\n")
        f.write(b"Host: %s:%d\\r\\n\\r\\n" % (host.encode(), port))
        f.flush()
        return f.read()
'''),
        ("plain socket, recv_into a growing buffer", '''
def fetch(host, port, path="/"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
        s.sendall("\\r\\n".join([f"GET {path} HTTP/1.0", f"Host: {host}:{port}", "", ""]).encode())
        out, buf = bytearray(), bytearray(1000)
        while n := s.recv_into(buf):
            out += buf[:n]
        return bytes(out)
    finally:
        s.close()
'''),
    ],
    "q03_4_echo_server": [
        ("selectors, one connection at a time", '''
import selectors

def serve_echo(listener, n_clients, timeout=2):
    for _ in range(n_clients):
        conn, _ = listener.accept()
        conn.setblocking(False)
        with conn, selectors.DefaultSelector() as sel:
            sel.register(conn, selectors.EVENT_READ)
            while sel.select(timeout):
                try:
                    data = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    break
                if not data:
                    break
                conn.setblocking(True)
                conn.settimeout(timeout)
                try:
                    conn.sendall(data)
                except OSError:
                    break
                conn.setblocking(False)
'''),
        ("makefile streams and socket.timeout", '''
def serve_echo(listener, n_clients, timeout=2):
    served = 0
    while served < n_clients:
        conn, _ = listener.accept()
        served += 1
        conn.settimeout(timeout)
        try:
            with conn, conn.makefile("rb", buffering=0) as r:
                while chunk := r.read(1024):
                    conn.sendall(chunk)
        except (socket.timeout, ConnectionResetError, BrokenPipeError):
            continue
'''),
    ],
    "q03_5_icmp": [
        ("int.from_bytes loops and ipaddress", '''
import ipaddress

def internet_checksum(data):
    total = 0
    for i in range(0, len(data), 2):
        total += int.from_bytes(data[i:i + 2].ljust(2, b"\\0"), "big")
        total = (total & 0xFFFF) + (total >> 16)
    return 0xFFFF ^ total

def build_echo_request(ident, seq, payload):
    body = bytes([8, 0]) + b"\\0\\0" + ident.to_bytes(2, "big") + seq.to_bytes(2, "big") + payload
    return body[:2] + internet_checksum(body).to_bytes(2, "big") + body[4:]

def parse_echo_reply(raw):
    start = (raw[0] & 15) << 2
    icmp = raw[start:]
    return {"src": str(ipaddress.IPv4Address(raw[12:16])), "dst": str(ipaddress.IPv4Address(raw[16:20])),
            "ttl": raw[8], "type": icmp[0], "code": icmp[1], "id": int.from_bytes(icmp[4:6], "big"),
            "seq": int.from_bytes(icmp[6:8], "big"), "payload": bytes(icmp[8:])}
'''),
        ("array of words and struct.unpack_from", '''
import array, sys

def internet_checksum(data):
    words = array.array("H", data + b"\\0" * (len(data) % 2))
    if sys.byteorder == "little":
        words.byteswap()
    s = sum(words)
    while s > 0xFFFF:
        s = (s >> 16) + (s & 0xFFFF)
    return (~s) & 0xFFFF

def build_echo_request(ident, seq, payload):
    header = bytearray(struct.pack(">BBHHH", 8, 0, 0, ident, seq))
    struct.pack_into(">H", header, 2, internet_checksum(bytes(header) + payload))
    return bytes(header) + payload

def parse_echo_reply(raw):
    version_ihl, ttl = raw[0], raw[8]
    src, dst = struct.unpack_from("!4s4s", raw, 12)
    off = (version_ihl & 0x0F) * 4
    t, c, _, i, q = struct.unpack_from("!BBHHH", raw, off)
    return dict(src=socket.inet_ntoa(src), dst=socket.inet_ntoa(dst), ttl=ttl, type=t, code=c, id=i, seq=q,
                payload=raw[off + 8:])
'''),
    ],
    "q03_6_concurrent": [
        ("a pool as large as n_clients (the with block joins)", '''
from concurrent.futures import ThreadPoolExecutor

def serve_concurrently(listener, n_clients):
    def handle(conn):
        with conn:
            conn.settimeout(2)
            try:
                while data := conn.recv(1024):
                    conn.sendall(data)
            except OSError:
                pass
    with ThreadPoolExecutor(max_workers=max(1, n_clients)) as pool:
        for _ in range(n_clients):
            pool.submit(handle, listener.accept()[0])
'''),
        ("a Thread subclass with makefile", '''
class Echo(threading.Thread):
    def __init__(self, conn):
        super().__init__(daemon=True)
        self.conn = conn

    def run(self):
        self.conn.settimeout(2)
        with self.conn, self.conn.makefile("rb", buffering=0) as r:
            try:
                for piece in iter(lambda: r.read(4096), b""):
                    self.conn.sendall(piece)
            except OSError:
                pass

def serve_concurrently(listener, n_clients):
    workers = []
    for _ in range(n_clients):
        workers.append(Echo(listener.accept()[0]))
        workers[-1].start()
    for w in workers:
        w.join()
'''),
    ],
    "q03_7_snmp_manager": [
        ("a connected UDP socket, ids from itertools", '''
import itertools
from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind
from scapy.asn1.asn1 import ASN1_OID
_ids = itertools.count(1000)

def poll_agents(agents, oid, community, timeout):
    out = {}
    for host, port in agents:
        rid = next(_ids)
        out[(host, port)] = None
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((host, port))            # the kernel now drops datagrams from anyone else
            s.send(bytes(SNMP(community=community, PDU=SNMPget(id=rid, varbindlist=[SNMPvarbind(oid=ASN1_OID(oid))]))))
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                s.settimeout(max(end - time.monotonic(), 0.001))
                try:
                    answer = SNMP(s.recv(65535))
                except OSError:                # TimeoutError, ConnectionRefusedError
                    break
                if int(answer.PDU.id.val) == rid:
                    v = answer.PDU.varbindlist[0].value.val
                    out[(host, port)] = v.decode() if isinstance(v, bytes) else int(v)
                    break
        finally:
            s.close()
    return out
'''),
        ("one socket for all agents and select()", '''
import select
from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind
from scapy.asn1.asn1 import ASN1_OID

def poll_agents(agents, oid, community, timeout):
    results = {tuple(a): None for a in agents}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for n, agent in enumerate(agents, start=77):
            s.sendto(bytes(SNMP(community=community, PDU=SNMPget(id=n, varbindlist=[SNMPvarbind(oid=ASN1_OID(oid))]))),
                     tuple(agent))
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                ready, _, _ = select.select([s], [], [], left)
                if not ready:
                    break
                data, sender = s.recvfrom(65535)
                reply = SNMP(data)
                if sender == tuple(agent) and reply.PDU.id.val == n:
                    value = reply.PDU.varbindlist[0].value.val
                    results[tuple(agent)] = str(value, "utf-8") if isinstance(value, bytes) else value
                    break
    return results
'''),
    ],
    "q03_8_p2p": [
        ("makefile readline on both sides, a regex for HAVE", '''
import re

def run_peer(listener, chunks, n_chunks, peers):
    have = dict(chunks)
    guard = threading.Lock()

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as r:
                conn.settimeout(2)
                try:
                    line = r.readline(64).strip()
                    with guard:
                        if line == b"HAVE":
                            conn.sendall(",".join(str(i) for i in sorted(have)).encode() + b"\\n")
                        elif (m := re.fullmatch(rb"GET (\\d+)", line)) and int(m[1]) in have:
                            conn.sendall(have[int(m[1])])
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()

    def ask(addr, line):
        with socket.create_connection(addr, timeout=2) as s:
            s.sendall(line)
            s.shutdown(socket.SHUT_WR)
            with s.makefile("rb") as r:
                return r.read()

    for addr in peers:
        for number in map(int, re.findall(rb"\\d+", ask(addr, b"HAVE\\n"))):
            with guard:
                needed = number not in have
            if needed:
                data = ask(addr, b"GET %d\\n" % number)
                with guard:
                    have[number] = data
    return b"".join(have[i] for i in range(n_chunks))
'''),
        ("selectors for the server, 1-byte reads for the request line", '''
import selectors

def run_peer(listener, chunks, n_chunks, peers):
    store = dict(chunks)

    def line_of(conn):
        got = b""
        while not got.endswith(b"\\n") and len(got) < 64:
            b = conn.recv(1)
            if not b:
                break
            got += b
        return got.decode().strip()

    def server():
        sel = selectors.DefaultSelector()
        sel.register(listener, selectors.EVENT_READ)
        try:
            while listener.fileno() != -1:
                if not sel.select(timeout=0.1):
                    continue
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.settimeout(2)
                    try:
                        words = line_of(conn).split()
                        if words == ["HAVE"]:
                            conn.sendall((",".join(map(str, sorted(store))) + "\\n").encode())
                        elif len(words) == 2 and words[0] == "GET" and int(words[1]) in store:
                            conn.sendall(store[int(words[1])])
                    except (OSError, ValueError):
                        pass
        finally:
            sel.close()

    threading.Thread(target=server, daemon=True).start()
    for peer in peers:
        with socket.create_connection(peer, timeout=2) as s:
            s.sendall(b"HAVE\\n")
            offer = b"".join(iter(lambda: s.recv(4096), b"")).decode()
        for index in (int(x) for x in offer.strip().split(",") if x.strip()):
            if index not in store:
                with socket.create_connection(peer, timeout=2) as s:
                    s.sendall(f"GET {index}\\n".encode())
                    store[index] = b"".join(iter(lambda: s.recv(65536), b""))
    return b"".join(store[i] for i in range(n_chunks))
'''),
    ],
}

CELLS = {"q03_1_layers": ["q03_1_layers"], "q03_2_call_order": ["q03_2_call_order"],
         "q03_3_http_get": ["q03_3_http_get"], "q03_4_echo_server": ["q03_4_echo_server", "q03_4_echo_server_robust"],
         "q03_5_icmp": ["q03_5_icmp_checksum", "q03_5_icmp"],
         "q03_6_concurrent": ["q03_6_concurrent", "q03_6_concurrent_robust"],
         "q03_7_snmp_manager": ["q03_7_snmp_manager", "q03_7_snmp_manager_robust"],
         "q03_8_p2p": ["q03_8_p2p", "q03_8_p2p_robust"]}
CASES = [(exercise, label, answer) for exercise, styles in STYLES.items() for label, answer in styles]


@pytest.mark.parametrize("exercise,label,answer", CASES, ids=[f"{e}: {lab}" for e, lab, _ in CASES])
def test_a_correct_answer_in_another_style_gets_every_point(exercise, label, answer):
    """Does this correct answer, written differently from the solution, pass the basic and robustness cells?"""
    for grade_id in CELLS[exercise]:
        run(grade_id, answer)


def test_every_exercise_has_two_other_styles():
    """Does each autograded exercise of 03.1 and 03.2 have at least two other-style answers here?"""
    assert all(len(STYLES[e]) >= 2 for e in CELLS) and set(STYLES) == set(CELLS)

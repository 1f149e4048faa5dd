"""Correct chapter-5 answers pass, whatever their style: the instructor's, and two others per exercise.

The grade cells run in this process (real sockets, real lossy channels and reference peers).
"""
from __future__ import annotations

import pytest

from cellrun import grade_ids, run

GRADE_IDS = grade_ids("ch05")

ALTERNATIVES = {
    "q05_1_echo_client": {
        "connected socket, send/recv": '''
def udp_echo(host, port, message, timeout, retries):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect((host, port))          # the kernel drops datagrams from anyone else
        sock.settimeout(timeout)
        tries = 0
        while tries <= retries:
            sock.send(message)
            tries += 1
            try:
                return sock.recv(65535)
            except socket.timeout:
                continue
        raise socket.timeout("gave up")
    finally:
        sock.close()
''',
        "select() on an unconnected socket": '''
import select
def udp_echo(host, port, message, timeout, retries):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        for _ in range(retries + 1):
            s.sendto(message, (host, port))
            end = time.time() + timeout
            while True:
                ready, _, _ = select.select([s], [], [], max(0, end - time.time()))
                if not ready:
                    break
                data, who = s.recvfrom(65535)
                if who == (host, port):
                    return data
    raise TimeoutError("no echo")
''',
    },
    "q05_2_counter_server": {
        "defaultdict and recvfrom_into": '''
from collections import defaultdict
def serve_counts(sock, n_datagrams):
    seen = defaultdict(int)
    buf = bytearray(65535)
    for _ in range(n_datagrams):
        n, who = sock.recvfrom_into(buf)
        seen[who] += 1
        sock.sendto(str(seen[who]).encode() + b":" + bytes(buf[:n]), who)
    return dict(seen)
''',
        "selectors loop with a Counter": '''
import selectors
from collections import Counter
def serve_counts(sock, n_datagrams):
    counter, handled = Counter(), 0
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        while handled < n_datagrams:
            for _key, _ in sel.select(timeout=5):
                payload, peer = sock.recvfrom(2 ** 16)
                counter[peer] += 1
                handled += 1
                sock.sendto(f"{counter[peer]}:".encode() + payload, peer)
    return dict(counter)
''',
    },
    "q05_3_pinger": {
        "connected socket, regex, statistics": '''
import re as _re, statistics
def ping(host, port, count, timeout):
    rtts = []
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    for seq in range(1, count + 1):
        t0 = time.monotonic()
        s.send(("ping %d %.6f" % (seq, time.time())).encode())
        rtt = None
        while rtt is None:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                break
            s.settimeout(left)
            try:
                answer = s.recv(2048)
            except socket.timeout:
                break
            m = _re.match(rb"PING (\\d+) ", answer)
            if m and int(m.group(1)) == seq:
                rtt = time.monotonic() - t0
        rtts.append(rtt)
    s.close()
    ok = [r for r in rtts if r is not None]
    return {"sent": count, "received": len(ok), "loss": 1 - len(ok) / count, "rtts": rtts,
            "min": min(ok, default=None), "avg": statistics.fmean(ok) if ok else None, "max": max(ok, default=None)}
''',
        "select() with a table of send times": '''
import select
def ping(host, port, count, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    results = {}
    for seq in range(1, count + 1):
        sent_at = time.perf_counter()
        sock.sendto(b"ping " + str(seq).encode() + b" " + repr(time.time()).encode(), (host, port))
        results[seq] = None
        while time.perf_counter() - sent_at < timeout:
            r, _, _ = select.select([sock], [], [], timeout - (time.perf_counter() - sent_at))
            if not r:
                break
            data, _ = sock.recvfrom(1024)
            words = data.decode().split()
            if len(words) >= 2 and words[0] == "PING" and words[1] == str(seq):
                results[seq] = time.perf_counter() - sent_at
                break
    sock.close()
    rtts = [results[s] for s in range(1, count + 1)]
    good = sorted(r for r in rtts if r is not None)
    return {"sent": count, "received": len(good), "loss": (count - len(good)) / count, "rtts": rtts,
            "min": good[0] if good else None, "max": good[-1] if good else None,
            "avg": sum(good) / len(good) if good else None}
''',
    },
    "q05_4_rto": {
        "a small estimator class": '''
class _Estimator:
    def __init__(self, a, b, k):
        self.a, self.b, self.k, self.srtt, self.var = a, b, k, None, None
    def add(self, r):
        if self.srtt is None:
            self.srtt, self.var = r, r / 2
        else:
            self.var = (1 - self.b) * self.var + self.b * abs(self.srtt - r)
            self.srtt = (1 - self.a) * self.srtt + self.a * r
        return (self.srtt, self.var, self.srtt + self.k * self.var)
def rto_series(samples, alpha=0.125, beta=0.25, k=4):
    est = _Estimator(alpha, beta, k)
    return [est.add(r) for r in samples]
''',
        "a recursive fold": '''
def rto_series(samples, alpha=0.125, beta=0.25, k=4):
    def step(acc, r):
        if not acc:
            return [(r, r / 2, r + k * r / 2)]
        srtt, var, _ = acc[-1]
        var = (1 - beta) * var + beta * abs(srtt - r)
        srtt = srtt + alpha * (r - srtt)
        return acc + [(srtt, var, srtt + k * var)]
    out = []
    for r in samples:
        out = step(out, r)
    return out
''',
    },
    "q05_5_packets": {
        "int.from_bytes and memoryview": '''
def checksum(data):
    total = 0
    for i in range(0, len(data), 2):
        word = data[i:i + 2]
        total += int.from_bytes(word.ljust(2, b"\\x00"), "big")
    while total > 0xFFFF:
        high, low = divmod(total, 0x10000)
        total = high + low
    return 0xFFFF ^ total
def make_packet(kind, seq, payload=b""):
    head = struct.pack("!HIHH", kind, seq, len(payload), 0)
    c = checksum(head + payload)
    return head[:8] + c.to_bytes(2, "big") + payload
def parse_packet(raw):
    view = memoryview(raw)
    if len(view) < 10:
        return None
    kind, seq, length, _ = struct.unpack("!HIHH", view[:10])
    if len(view) - 10 != length or checksum(bytes(view)) != 0:
        return None
    return (kind, seq, bytes(view[10:]))
''',
        "array of words, verify by recomputing": '''
import array, sys
def checksum(data):
    if len(data) & 1:
        data = data + b"\\0"
    words = array.array("H", data)
    if sys.byteorder == "little":
        words.byteswap()
    s = sum(words)
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF
def make_packet(kind, seq, payload=b""):
    c = checksum(HEADER.pack(kind, seq, len(payload), 0) + payload)
    return HEADER.pack(kind, seq, len(payload), c) + payload
def parse_packet(raw):
    try:
        kind, seq, length, got = HEADER.unpack(raw[:HEADER.size])
    except struct.error:
        return None
    payload = raw[HEADER.size:]
    if length != len(payload) or got != checksum(HEADER.pack(kind, seq, length, 0) + payload):
        return None
    return kind, seq, payload
''',
    },
    "q05_6_stop_and_wait": {
        "connected socket and select()": '''
import select
def send_file(host, port, data, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((host, port))
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    try:
        for seq in range(len(chunks) + 1):
            packet = make_packet(DATA, seq, chunks[seq]) if seq < len(chunks) else make_packet(FIN, seq)
            done = False
            while not done:
                sock.send(packet)
                stop = time.monotonic() + timeout
                while not done:
                    r, _, _ = select.select([sock], [], [], max(0.0, stop - time.monotonic()))
                    if not r:
                        break
                    try:
                        ack = parse_packet(sock.recv(4096))
                    except ConnectionRefusedError:
                        continue
                    done = ack is not None and ack[0] == ACK and ack[1] == seq + 1
    finally:
        sock.close()
''',
        "a send-one helper, one timeout per try": '''
def _send_until_acked(sock, address, packet, want, timeout):
    while True:
        sock.sendto(packet, address)
        sock.settimeout(timeout)
        try:
            while True:
                got = parse_packet(sock.recvfrom(65535)[0])
                if got and got[:2] == (ACK, want):
                    return
        except TimeoutError:
            pass
def send_file(host, port, data, timeout):
    packets = [make_packet(DATA, i // CHUNK, data[i:i + CHUNK]) for i in range(0, len(data), CHUNK)]
    packets.append(make_packet(FIN, len(packets)))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for seq, packet in enumerate(packets):
            _send_until_acked(sock, (host, port), packet, seq + 1, timeout)
''',
    },
    "q05_7_sliding_window": {
        "resend only the oldest packet (TCP style)": '''
def send_file_window(host, port, data, window, timeout):
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    packets = [make_packet(DATA, n, c) for n, c in enumerate(chunks)] + [make_packet(FIN, len(chunks))]
    base, nxt, dest = 0, 0, (host, port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        deadline = time.monotonic() + timeout
        while base < len(packets):
            while nxt < min(base + window, len(packets)):
                s.sendto(packets[nxt], dest)
                nxt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                s.sendto(packets[base], dest)       # only the oldest unacknowledged one
                deadline = time.monotonic() + timeout
                continue
            s.settimeout(left)
            try:
                reply = parse_packet(s.recvfrom(2048)[0])
            except TimeoutError:
                continue
            if reply is not None and reply[0] == ACK and base < reply[1] <= len(packets):
                base = reply[1]
                deadline = time.monotonic() + timeout
''',
        "selective repeat with a timer per packet": '''
import select
def send_file_window(host, port, data, window, timeout):
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    packets = [make_packet(DATA, n, c) for n, c in enumerate(chunks)] + [make_packet(FIN, len(chunks))]
    sent_at = {}
    base = 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        while base < len(packets):
            now = time.monotonic()
            for seq in range(base, min(base + window, len(packets))):
                if seq not in sent_at or now - sent_at[seq] >= timeout:
                    sock.sendto(packets[seq], (host, port))
                    sent_at[seq] = now
            wake = min(sent_at[s] for s in range(base, min(base + window, len(packets)))) + timeout
            ready, _, _ = select.select([sock], [], [], max(0.0, wake - time.monotonic()))
            if ready:
                got = parse_packet(sock.recvfrom(2048)[0])
                if got and got[0] == ACK and got[1] > base:
                    base = got[1]
    finally:
        sock.close()
''',
    },
}


@pytest.mark.parametrize("grade_id", GRADE_IDS)
def test_the_instructors_answer_passes_the_whole_cell_hidden_tests_included(grade_id):
    """Does the solution in the notebook pass its grade cell, hidden tests and all?"""
    run(grade_id)


def test_every_exercise_has_two_alternative_answers_here():
    """Is there a pair of differently written correct answers for every exercise?"""
    exercises = {g.removesuffix("_robust") for g in GRADE_IDS}
    assert exercises == set(ALTERNATIVES) and all(len(v) >= 2 for v in ALTERNATIVES.values())


@pytest.mark.parametrize("exercise,style", [(e, s) for e, styles in ALTERNATIVES.items() for s in styles])
def test_a_correct_answer_in_another_style_passes_basic_and_robust(exercise, style):
    """Does a correct answer written another way earn the exercise's basic and robustness points?"""
    answer = ALTERNATIVES[exercise][style]
    for grade_id in (g for g in GRADE_IDS if g.removesuffix("_robust") == exercise):
        run(grade_id, answer)

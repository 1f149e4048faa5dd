"""Every check a chapter-5 grade cell makes can fail: for each one, a wrong answer that only it catches.

Each case is (grade cell, wrong answer, a piece of the message that the failing check gives). The
answer passes every check before that one (otherwise the message would be another check's), and
the instructor's own answer passes the whole cell (test_ch05_answers.py).
"""
from __future__ import annotations

import re

import pytest

from cellrun import changed, run

E1 = "q05_1_echo_client"
E2 = "q05_2_counter_server"
E3 = "q05_3_pinger"
E4 = "q05_4_rto"
E5 = "q05_5_packets"
E6 = "q05_6_stop_and_wait"
E7 = "q05_7_sliding_window"

CASES = {
    # -- exercise 1 --------------------------------------------------------------------------------
    "1 returns text, not bytes": (E1, changed(E1, ("return reply", "return reply.decode()")),
                                  "에코 서버의 답을 반환"),
    "1 never retries": (E1, changed(E1, ("for attempt in range(retries + 1):", "for attempt in range(1):")),
                        "예외가 발생"),
    "1 sends twice per try": (E1, changed(E1, ("sock.sendto(message, (host, port))",
                                                    "sock.sendto(message, (host, port)); sock.sendto(message, (host, port))")),
                              "더 보내지 않아야"),
    "1 changes the message on retries": (E1, changed(E1, ("sock.sendto(message, (host, port))",
                                                               "sock.sendto(message + b'?' * attempt, (host, port))"),
                                                          ("return reply", "return message")),
                                         "같은 message"),
    "1 returns None when all tries fail": (E1 + "_robust", changed(E1, ('raise TimeoutError(f"no reply', 'return None  # (f"no reply')),
                                           "TimeoutError를 raise"),
    "1 one try too few": (E1 + "_robust", changed(E1, ("for attempt in range(retries + 1):", "for attempt in range(max(1, retries)):")),
                          "모두 3번"),
    "1 waits a tenth of the timeout": (E1 + "_robust", changed(E1, ("deadline = time.monotonic() + timeout",
                                                                         "deadline = time.monotonic() + timeout / 10")),
                                       "기다려야 합니다"),
    "1 takes a reply from anyone": (E1 + "_robust", changed(E1, ("if peer[:2] == (host, port):", "if True:")),
                                    "서버가 아닌 주소"),
    # -- exercise 2 --------------------------------------------------------------------------------
    "2 one counter for everybody": (E2, changed(E2, ("counts[addr] = counts.get(addr, 0) + 1",
                                                          "counts[addr] = sum(counts.values()) + 1")),
                                    "보낸 뒤 받은 답"),
    "2 answers from another socket": (E2, changed(E2, ('sock.sendto(b"%d:" % counts[addr] + data, addr)',
                                                            'other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n'
                                                            '        other.sendto(b"%d:" % counts[addr] + data, addr); other.close()')),
                                      "서버가 아닌 주소"),
    "2 answers the wrong port": (E2, changed(E2, ('sock.sendto(b"%d:" % counts[addr] + data, addr)',
                                                       'sock.sendto(b"%d:" % counts[addr] + data, (addr[0], addr[1] ^ 1))')),
                                 "응답을 받지 못했습니다"),
    "2 stops one datagram early": (E2, changed(E2, ("for _ in range(n_datagrams):", "for _ in range(n_datagrams - 1):")),
                                   "답하기 전에 return"),
    "2 never returns": (E2, changed(E2, ("for _ in range(n_datagrams):", "while True:")), "return 하지 않았습니다"),
    "2 does not count empty datagrams": (E2 + "_robust", changed(E2, ("counts[addr] = counts.get(addr, 0) + 1",
                                                                           "counts[addr] = counts.get(addr, 0) + (1 if data else 0)")),
                                         "빈 데이터그램에도 답해야"),
    "2 reads 1024 bytes": (E2 + "_robust", changed(E2, ("sock.recvfrom(65535)", "sock.recvfrom(1024)")), "잘렸습니다"),
    "2 returns text keys": (E2 + "_robust", changed(E2, ("return counts", "return {f'{h}:{p}': n for (h, p), n in counts.items()}")),
                            "반환한 사전"),
    # -- exercise 3 --------------------------------------------------------------------------------
    "3 rtts as a dict": (E3, changed(E3, ('"rtts": rtts,', '"rtts": dict(enumerate(rtts, 1)),')), "'rtts'에 RTT"),
    "3 another message format": (E3, changed(E3, ('f"ping {seq} {time.time()}"', 'f"ping-{seq} {time.time()}"'),
                                                  ('[b"PING", str(seq).encode()]', '[b"PING-" + str(seq).encode(), reply.split()[1]]')),
                                 "보낸 핑의 seq"),
    "3 a lost ping counts as 0.0": (E3, changed(E3, ("            rtts.append(rtt)", "            rtts.append(0.0 if rtt is None else rtt)")),
                                    "잃어버린 핑"),
    "3 RTT in milliseconds": (E3, changed(E3, ("rtt = time.perf_counter() - start", "rtt = (time.perf_counter() - start) * 1000")),
                              "RTT"),
    "3 received = sent": (E3, changed(E3, ('"received": len(got),', '"received": count,')), r"\(sent, received\)"),
    "3 loss in percent": (E3, changed(E3, ('"loss": (count - len(got)) / count,', '"loss": 100 * (count - len(got)) / count,')),
                          "loss는 잃은 비율"),
    "3 takes any reply": (E3 + "_robust", changed(E3, ('if reply.split()[:2] == [b"PING", str(seq).encode()]:', "if True:")),
                          "잃어버린 핑|RTT"),
    "3 average over every ping": (E3 + "_robust", changed(E3, ('"avg": sum(got) / len(got) if got else None,',
                                                                    '"avg": sum(got) / count if got else None,')), "'avg'"),
    "3 divides by zero": (E3 + "_robust", changed(E3, ('"avg": sum(got) / len(got) if got else None,', '"avg": sum(got) / len(got),')),
                          "예외가 발생"),
    # -- exercise 4 --------------------------------------------------------------------------------
    "4 RTTVAR starts at R": (E4, changed(E4, ("srtt, rttvar = r, r / 2", "srtt, rttvar = r, r")), "첫 측정"),
    "4 SRTT before RTTVAR": (E4, changed(E4, ("""            rttvar = (1 - beta) * rttvar + beta * abs(srtt - r)
            srtt = (1 - alpha) * srtt + alpha * r""", """            srtt = (1 - alpha) * srtt + alpha * r
            rttvar = (1 - beta) * rttvar + beta * abs(srtt - r)""")), "측정 6개"),
    "4 fixed alpha": (E4, changed(E4, ("srtt = (1 - alpha) * srtt + alpha * r", "srtt = 0.875 * srtt + 0.125 * r")),
                      "alpha, beta, k"),
    "4 no samples crash": (E4, changed(E4, ("out, srtt, rttvar = [], None, None", "out, srtt, rttvar = [], samples[0], None")),
                           "예외가 발생"),
    # -- exercise 5 --------------------------------------------------------------------------------
    "5 carries not folded": (E5, changed(E5, ("""    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)""", "    total &= 0xFFFF")), "RFC 1071"),
    "5 checksum of the payload only": (E5, changed(E5, ("checksum(blank)", "checksum(payload)")), "받아들이지 않았습니다"),
    "5 seq off by one": (E5, changed(E5, ("return HEADER.pack(kind, seq, len(payload), checksum(blank)) + payload",
                                               "blank = HEADER.pack(kind, seq + 1, len(payload), 0) + payload\n"
                                               "    return HEADER.pack(kind, seq + 1, len(payload), checksum(blank)) + payload")),
                         "받는 쪽의 답"),
    "5 odd byte dropped": (E5, changed(E5, ("""    if len(data) % 2:
        data += b"\\0"
""", "    data = data[:len(data) // 2 * 2]\n")), "홀수"),
    "5 seq kept to 16 bits": (E5, changed(E5, ("HEADER.pack(kind, seq, len(payload), checksum(blank))",
                                                    "HEADER.pack(kind, seq & 0xFFFF, len(payload), checksum(blank))"),
                                               ("blank = HEADER.pack(kind, seq, len(payload), 0)",
                                                "blank = HEADER.pack(kind, seq & 0xFFFF, len(payload), 0)")), "바이트"),
    "5 parse returns a list": (E5 + "_robust", changed(E5, ("return kind, seq, raw[HEADER.size:]", "return [kind, seq, raw[HEADER.size:]]")),
                               "올바른 패킷 읽기"),
    "5 checksum never verified": (E5 + "_robust", changed(E5, ("or checksum(raw) != 0", "")), "망가진 패킷"),
    "5 length never compared": (E5 + "_robust", changed(E5, ("length != len(raw) - HEADER.size or ", "")), "틀린 패킷"),
    # -- exercise 6 --------------------------------------------------------------------------------
    "6 no FIN": (E6, changed(E6, (" + [make_packet(FIN, len(pieces))]", "")), "끝까지 받지 못했습니다"),
    "6 waits for ACK k": (E6, changed(E6, ("acked = parse_packet(raw) == (ACK, k + 1, b\"\")",
                                                "acked = parse_packet(raw) == (ACK, k, b\"\")")), "끝나지 않았습니다"),
    "6 loses a byte per chunk": (E6, changed(E6, ("data[i:i + CHUNK]", "data[i:i + CHUNK - 1]")), "보낸 파일과 다릅니다"),
    "6 sends everything at once": (E6, lambda: '''
def send_file(host, port, data, timeout):
    pieces = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    packets = [make_packet(DATA, k, p) for k, p in enumerate(pieces)] + [make_packet(FIN, len(pieces))]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, (host, port))
        sock.settimeout(3)   # its own wait must not be what fails first on a loaded machine
        while parse_packet(sock.recvfrom(2048)[0]) != (ACK, len(packets), b""):
            pass
''', "한 번에 패킷 하나만"),
    "6 never resends": (E6, changed(E6, ("            while not acked:\n", "            for _ in range(1):\n")), "잃어버린 패킷은 다시 보내야"),
    "6 takes any ACK": (E6 + "_robust", changed(E6, ("acked = parse_packet(raw) == (ACK, k + 1, b\"\")",
                                                          "acked = (parse_packet(raw) or (0,))[0] == ACK")),
                        "보낸 파일과 다릅니다|끝까지 받지|끝나지 않았습니다"),
    "6 trusts damaged ACKs": (E6 + "_robust", changed(E6, ("acked = parse_packet(raw) == (ACK, k + 1, b\"\")",
                                                                "acked = struct.unpack('!HI', raw[:6]) == (ACK, k + 1)")),
                              "망가진 ACK를 믿고"),
    "6 does not wait for the FIN's ACK": (E6 + "_robust", changed(E6, ("            acked = False\n",
        "            if k == len(packets) - 1:\n                sock.sendto(packet, (host, port))\n                return\n"
        "            acked = False\n")), "FIN도"),
    # -- exercise 7 --------------------------------------------------------------------------------
    "7 no FIN": (E7, changed(E7, (" + [make_packet(FIN, len(pieces))]", "")), "끝까지 받지 못했습니다"),
    "7 one more than the window": (E7, changed(E7, ("next_seq < base + window", "next_seq <= base + window")),
                                   r"창보다 많은 패킷을.*window=4"),
    "7 trusts damaged ACKs": (E7, changed(E7, ("packet = parse_packet(raw)",
                                                    "packet = struct.unpack('!HI', raw[:6]) if len(raw) >= 6 else None")),
                              "보낸 파일과 다릅니다|끝까지 받지"),
    "7 grows the window on duplicate ACKs": (E7, changed(E7, ("""            if packet and packet[0] == ACK and packet[1] > base:
                base = packet[1]""", """            if packet and packet[0] == ACK and packet[1] <= base and next_seq < len(packets):
                sock.sendto(packets[next_seq], (host, port)); next_seq += 1
            if packet and packet[0] == ACK and packet[1] > base:
                base = packet[1]""")), r"창보다 많은 패킷을.*window=6"),
    "7 gives up after half a second": (E7 + "_robust", changed(E7, ("        while base < len(packets):",
                                                                         "        started = time.monotonic()\n"
                                                                         "        while base < len(packets) and time.monotonic() - started < 0.5:")),
                                       "끝까지 받지 못했습니다|보낸 파일과 다릅니다"),
    "7 stop-and-wait in disguise": (E7 + "_robust", changed(E7, ("next_seq < base + window", "next_seq < base + 1")), "한도는"),
    "7 ignores the timeout argument": (E7 + "_robust", changed(E7, ("base = next_seq = 0", "base = next_seq = 0\n    timeout = 0.01")),
                                       "너무 많이 다시 보냅니다"),
}


@pytest.mark.parametrize("label", list(CASES))
def test_a_wrong_answer_fails_with_the_message_of_the_check_that_catches_it(label):
    """Does this wrong answer fail its grade cell, at the check written for it (by its message)?"""
    from socklab.testing import ExerciseFailed

    grade_id, answer, fragment = CASES[label]
    with pytest.raises(ExerciseFailed) as failed:
        run(grade_id, answer())
    message = str(failed.value)
    assert re.search(fragment, message), f"{label}: failed at another check:\n{message}"


ROBUST_ONLY = [label for label, (gid, _, _) in CASES.items() if gid.endswith("_robust")]


# A lost FIN is also among the basic cell's seeded losses, so that mistake costs both cells.
@pytest.mark.parametrize("label", [label for label in ROBUST_ONLY if label != "6 does not wait for the FIN's ACK"])
def test_a_robustness_mistake_still_earns_the_basic_points(label):
    """Does an answer whose only mistake is a robustness one pass the basic grade cell (partial credit)?"""
    grade_id, answer, _ = CASES[label]
    run(grade_id.removesuffix("_robust"), answer())

"""tshark as the oracle: socklab's per-segment table and capture files agree with Wireshark's dissector."""
from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import sys
from decimal import Decimal

import pytest
from scapy.utils import RawPcapWriter

from socklab import packets
from socklab.clients import round_trip
from socklab.packets.pcapfile import read_pcap, save_pcap
from socklab.servers import echo_server
from support import require_tool, strict_skip

FIELDS = ["tcp.stream", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.flags", "tcp.seq", "tcp.ack",
          "tcp.len", "frame.time_relative"]
_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}


def tshark_table(path, tmp_path) -> list[tuple]:
    """tshark's fields for every TCP segment of the file, as socklab spells them."""
    tshark = require_tool("tshark", "tshark")
    done = subprocess.run([tshark, "-r", str(path), "-Y", "tcp", "-T", "fields", "-E", "separator=,",
                           "-o", "tcp.relative_sequence_numbers:TRUE", *sum((["-e", f] for f in FIELDS), [])],
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    rows = []
    for line in done.stdout.splitlines():
        stream, src, sport, dst, dport, flags, seq, ack, length, t = line.split(",")
        rows.append((int(stream), src, int(sport), dst, int(dport), int(flags, 16) & 0xFF, int(seq), int(ack),
                     int(length), f"{Decimal(t):.9f}"))
    return rows


def socklab_table(records) -> list[tuple]:
    return [(s.stream, s.src, s.sport, s.dst, s.dport, sum(_BITS[f] for f in s.flags), s.rel_seq, s.rel_ack,
             s.length, f"{s.t:.9f}") for s in packets.tcp_segments(records)]


def _best_capture_tier() -> str:
    report = packets.tier()
    for tier in ("namespace", "root"):
        if report.available[tier]:
            return tier
    strict_skip(f"no capture tier here: {report.reasons['namespace']}")


def many_connections(n: int = 6) -> dict:
    """Module level (the namespace child imports it): n clients to one server, then one port used twice."""
    with echo_server(name="tshark-many") as srv:
        for i in range(n):
            round_trip(srv.address, b"x" * (i + 1), timeout=5)
        port = None
        for message in (b"first", b"second"):  # same four-tuple twice, new initial sequence numbers
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            c.bind(("127.0.0.1", port or 0))
            port = c.getsockname()[1]
            c.settimeout(5)
            c.connect(srv.address)
            c.sendall(message)
            assert c.recv(100) == message
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST: no TIME_WAIT
            c.close()
        srv.wait_for(lambda log: sum(e.kind == "close" for e in log.events) >= n + 2, timeout=5)
        return {"server": srv.port, "reused": port}


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    cap = packets.capture(many_connections, tier=_best_capture_tier(), timeout=10)
    return cap.only(cap.result["server"])


def test_single_connection_table_equals_tshark(tmp_path):
    """For the shipped one-connection capture, is every segment's flags, relative seq/ack, length and time tshark's?"""
    cap = packets.load_pcap("tcp-echo")
    path = cap.save(tmp_path / "one.pcap")
    assert socklab_table(cap.records) == tshark_table(path, tmp_path)


def test_many_connections_table_equals_tshark_segment_for_segment(many, tmp_path):
    """With 6 connections to one server and a reused client port, does each segment match tshark (tcp.stream too)?"""
    path = many.save(tmp_path / "many.pcap")
    ours, theirs = socklab_table(many.records), tshark_table(path, tmp_path)
    assert len(ours) == len(theirs) >= 8 * 7
    bad = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert not bad, f"{len(bad)} of {len(ours)} segments differ, first: {bad[:2]}"
    assert len({row[0] for row in ours}) == 8  # the reused port is a connection of its own
    shown = [int(n) for n in re.findall(r"(?:seq|ack)=(\d+)", many.text())]  # what students read
    assert len(shown) > len(ours) and max(shown) < 100


def _write(path, linktype: int, frames, *, start=(1764600000, 123456789)):
    """A nanosecond pcap of (ns offset, bytes) with absolute times like a real tcpdump file."""
    with RawPcapWriter(str(path), linktype=linktype, nano=True) as w:
        w.write_header(None)
        for offset, raw in frames:
            sec, nsec = divmod(start[0] * 10 ** 9 + start[1] + offset, 10 ** 9)
            w.write_packet(raw, sec=sec, usec=nsec)


def test_cooked_pcapng_and_nanosecond_files_read_like_tshark_reads_them(many, tmp_path):
    """Are Linux cooked (SLL, SLL2), pcapng and real-epoch nanosecond files read with the same segments and exact times as tshark?"""
    editcap = require_tool("editcap", "tshark")
    ips = [r.raw[14:] for r in many.records]
    offsets = [round(r.t * 1e9) + 7 for r in many.records]  # 7 ns: precision a float of the epoch would lose
    files = {
        "ethernet.pcap": (1, [bytes(12) + b"\x08\x00" + ip for ip in ips]),
        "sll.pcap": (113, [struct.pack("!HHH8sH", 0, 772, 6, bytes(8), 0x0800) + ip for ip in ips]),
        "sll2.pcap": (276, [struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, bytes(8)) + ip for ip in ips]),
        "raw.pcap": (101, ips),
    }
    for name, (linktype, frames) in files.items():
        _write(tmp_path / name, linktype, zip(offsets, frames))
    subprocess.run([editcap, "-F", "pcapng", str(tmp_path / "sll.pcap"), str(tmp_path / "sll.pcapng")],
                   check=True, capture_output=True, timeout=30)
    want = [r.raw for r in many.records]
    for name in [*files, "sll.pcapng"]:
        records = read_pcap(tmp_path / name)
        assert [r.raw for r in records] == want, name
        assert socklab_table(records) == tshark_table(tmp_path / name, tmp_path), name


def test_a_time_just_below_a_whole_second_is_not_written_a_second_early(tmp_path):
    """Is a packet at 1.9999995 s written (and read back by tshark) as 1.9999995 s, not 1.0 s?"""
    raw = packets.load_pcap("tcp-echo").records[0].raw
    path = save_pcap([(0.0, raw), (1.9999995, raw)], tmp_path / "edge.pcap")
    tshark = require_tool("tshark", "tshark")
    done = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-e", "frame.time_relative"],
                          capture_output=True, text=True, timeout=60, env={"PATH": os.environ.get("PATH", ""),
                                                                              "HOME": str(tmp_path)})
    assert [Decimal(x) for x in done.stdout.split()] == [Decimal("0"), Decimal("1.9999995")]
    assert [r.t for r in read_pcap(path)] == [0.0, 1.9999995]


def test_dissect_lists_the_fields_scapy_show_lists():
    """For an echo request, a TCP SYN and a UDP datagram, does dissect() name exactly the fields scapy's show() prints?"""
    from scapy.layers.inet import IP, TCP, UDP

    samples = [bytes(packets.echo_request(7, 1, b"hi")),
               bytes(IP(dst="127.0.0.1") / TCP(dport=80, flags="S", options=[("MSS", 65495)])),
               bytes(IP(dst="127.0.0.1") / UDP(dport=53) / b"q")]
    for raw in samples:
        shown = IP(raw).show(dump=True)
        want: dict[str, list] = {}
        for line in shown.splitlines():
            if m := re.match(r"\s*###\[ (.+?) \]###", line):
                layer = want.setdefault(m[1], [])
            elif m := re.match(r"[\s|]*\\?(\w+)\s*[=\\]", line):
                layer.append(m[1])
        got = {name.replace("Raw", "Raw"): list(fields) for name, fields in packets.dissect(raw).items()}
        assert [list(v) for v in got.values()] == list(want.values()), (got, want)
    assert "ts_ori" not in packets.dissect(samples[0])["ICMP"] and "gw" not in packets.dissect(samples[0])["ICMP"]


FOREIGN = """
import socket, sys
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
for line in sys.stdin:          # one connection per line we are sent, all in this other process
    with socket.create_connection(listener.getsockname(), timeout=5) as c:
        conn, _ = listener.accept()
        c.sendall(b"foreign"); conn.sendall(conn.recv(100)); c.recv(100); conn.close()
    print("done", flush=True)
"""


def test_root_capture_keeps_only_the_experiments_connections():
    """In the root tier, does another program's connection made during the capture stay out, while ours is complete?"""
    if not packets.tier().available["root"]:
        strict_skip("the root tier needs root (CAP_NET_RAW on the host)")
    other = subprocess.Popen([sys.executable, "-c", FOREIGN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        foreign_port = int(other.stdout.readline())

        def experiment():
            with echo_server(name="t-own") as own:
                other.stdin.write("go\n")
                other.stdin.flush()
                reply = round_trip(own.address, b"mine", timeout=5)
                assert other.stdout.readline().strip() == "done"  # the foreign connection happened meanwhile
                own.wait_for(lambda log: any(e.kind == "close" for e in log.events), timeout=5)
                return {"server": own.port, "reply": reply}

        cap = packets.capture(experiment, tier="root", timeout=10)
    finally:
        other.stdin.close()
        other.wait(timeout=10)
        other.stdout.close()
    ports = {p for s in cap.segments() for p in (s.sport, s.dport)}
    assert foreign_port not in ports
    assert cap.result["server"] in ports and cap.flags()[:3] == ["S", "SA", "A"]
    assert {s.stream for s in cap.segments()} == {0}

"""The chapter-5 file-transfer protocol: packets, reference receivers and the reference sender."""
from __future__ import annotations

import socket
import struct

import pytest

from socklab import lossy, rdt

STORM = lossy.Schedule(seed=5, drop=0.1, duplicate=0.1, reorder=0.1, corrupt=0.1, delay=(0.002, 0.01))
FILE = bytes(range(256)) * 60 + b"tail"


def test_packets_round_trip_and_any_single_flipped_byte_is_caught():
    """Does parse_packet() read back what make_packet() wrote, and reject every one-byte corruption?"""
    raw = rdt.make_packet(rdt.DATA, 70000, b"payload!")
    assert rdt.parse_packet(raw) == (rdt.DATA, 70000, b"payload!")
    assert struct.unpack("!HIHH", raw[:10])[:3] == (rdt.DATA, 70000, 8)
    for i in range(len(raw)):
        for mask in (0x01, 0x5A, 0xFF):
            bad = raw[:i] + bytes([raw[i] ^ mask]) + raw[i + 1:]
            assert rdt.parse_packet(bad) is None, (i, mask)
    assert rdt.parse_packet(raw[:5]) is None and rdt.parse_packet(raw + b"x") is None
    assert rdt.describe(rdt.make_packet(rdt.ACK, 4)) == "ACK 4" and rdt.describe(b"junk") == "damaged"


@pytest.mark.parametrize("window", [1, 8])
def test_reference_sender_delivers_a_file_intact_through_every_kind_of_damage(window):
    """Does the reference sender (stop-and-wait, Go-Back-N) deliver a file byte for byte through drop,
    duplicate, reorder and corrupt, in both directions, and stay inside its window on the wire?"""
    with rdt.Receiver(window, name="rdt-test-rx") as rx, lossy.channel(rx.address, STORM) as ch:
        stats = rdt.send_file(ch.address, FILE, window=window, timeout=0.05)
        files = rx.wait_files(1, timeout=2)
        kinds = {a for d in ch.datagrams() for a in d.fate.actions}
        assert rdt.window_violations(ch.datagrams(), window) == []
    assert [data for _, data in files] == [FILE]
    assert {"drop", "duplicate", "reorder", "corrupt"} <= kinds
    assert stats["packets"] == len(rdt.chunks(FILE)) + 1 and stats["retransmitted"] > 0
    assert rx.ignored > 0   # corrupted packets reached the receiver and were refused


def test_receiver_refuses_a_bad_checksum_and_acks_the_next_expected_seq():
    """Does the receiver stay silent on a damaged packet, and answer duplicates with a cumulative ACK?"""
    with rdt.stop_and_wait_receiver(name="rdt-test-rx") as rx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        good = rdt.make_packet(rdt.DATA, 0, b"abc")
        s.sendto(good[:-1] + b"X", rx.address)
        with pytest.raises(TimeoutError):
            s.recvfrom(100)
        for packet, ack in [(good, 1), (good, 1), (rdt.make_packet(rdt.DATA, 2, b"zz"), 1),
                            (rdt.make_packet(rdt.DATA, 1, b"de"), 2), (rdt.make_packet(rdt.FIN, 2), 3),
                            (rdt.make_packet(rdt.FIN, 2), 3)]:
            s.sendto(packet, rx.address)
            assert rdt.parse_packet(s.recvfrom(100)[0]) == (rdt.ACK, ack, b"")
        assert [data for _, data in rx.wait_files(1, 1)] == [b"abcde"]


def test_a_sliding_window_receiver_keeps_packets_that_arrive_early():
    """Does a window receiver keep DATA 1 that came before DATA 0, so one ACK covers both?"""
    with rdt.sliding_window_receiver(4, name="rdt-test-rx") as rx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        acks = []
        for packet in (rdt.make_packet(rdt.DATA, 1, b"B"), rdt.make_packet(rdt.FIN, 2),
                       rdt.make_packet(rdt.DATA, 0, b"A")):
            s.sendto(packet, rx.address)
            acks.append(rdt.parse_packet(s.recvfrom(100)[0])[1])
        assert acks == [0, 0, 3] and [d for _, d in rx.wait_files(1, 1)] == [b"AB"]


def test_window_violations_are_read_from_the_channel_record():
    """Does a sender that blasts every packet at once (no window) show up as violations?"""
    with rdt.Receiver(1, name="rdt-test-rx") as rx, lossy.channel(rx.address) as ch:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(6):
                s.sendto(rdt.make_packet(rdt.DATA, i, b"x"), ch.address)
        assert ch.wait_for(lambda c: len(c.datagrams("up")) == 6, 1)
        problems = rdt.window_violations(ch.datagrams(), 2)
    assert problems and "window 2" in problems[0]


def test_figures_draw_from_a_real_transfer():
    """Do the window-progress figure and the RTT histogram draw from live data?"""
    with rdt.Receiver(4, name="rdt-test-rx") as rx, lossy.channel(rx.address, STORM) as ch:
        rdt.send_file(ch.address, FILE[:4000], window=4, timeout=0.05)
        fig = rdt.progress_figure(ch.datagrams(), 4)
    assert fig.axes[0].get_legend() is not None and fig.axes[0].lines
    hist = lossy.rtt_histogram([0.01, 0.012, None, 0.02])
    assert "3 replies, 1 lost" in hist.axes[0].get_title()

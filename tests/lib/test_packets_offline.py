"""Tier 1 (offline) and the loopback guard: no privilege, and the guard never lets a packet out."""
import doctest
import importlib
import socket
import subprocess

import pytest

from socklab import packets
from socklab.packets import (NonLoopbackError, dissect, echo_request, ensure_loopback, explain_checksum,
                             hexdump, icmp_echo_bytes, internet_checksum, load_pcap, verify_checksums)
from socklab.packets import guard, offline, pingsock, scenarios, tiers, timeline

capture_mod = importlib.import_module("socklab.packets.capture")  # the package's `capture` is the function

NON_LOOPBACK = ["8.8.8.8", "10.0.0.1", "192.168.0.1", "0.0.0.0", "255.255.255.255", "::ffff:8.8.8.8",
                "2001:db8::1", "example.com", "localhost.example.com", ("1.1.1.1", 80), b"9.9.9.9", None, 2130706433]


@pytest.mark.parametrize("module", [guard, offline, tiers, timeline, scenarios, capture_mod, pingsock])
def test_docstring_examples_run(module):
    """Do the >>> examples students see on Shift-Tab actually work?"""
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_public_names_are_exported():
    """Does socklab.packets export exactly what __all__ promises?"""
    assert sorted(packets.__all__) == sorted(set(packets.__all__))
    for name in packets.__all__:
        assert hasattr(packets, name), name


@pytest.mark.parametrize("addr", ["127.0.0.1", "127.5.6.7", "::1", "localhost", ("127.0.0.1", 8080)])
def test_guard_accepts_loopback(addr):
    """Are all loopback spellings accepted?"""
    assert ensure_loopback(addr) in ("::1",) or ensure_loopback(addr).startswith("127.")


@pytest.fixture
def no_traffic(monkeypatch):
    """Record every socket or child process created; the guard must raise before any exists."""
    created = []
    real_socket = socket.socket

    class SpySocket(real_socket):
        def __init__(self, *args, **kwargs):
            created.append(("socket", args))
            super().__init__(*args, **kwargs)

    def spy_run(*args, **kwargs):
        created.append(("subprocess", args))
        raise AssertionError("a child process was started before the guard refused")

    monkeypatch.setattr(socket, "socket", SpySocket)
    monkeypatch.setattr(subprocess, "run", spy_run)
    monkeypatch.setattr(subprocess, "Popen", spy_run)
    return created


@pytest.mark.parametrize("addr", NON_LOOPBACK)
def test_ping_refuses_non_loopback_before_any_socket(addr, no_traffic):
    """Is ping() to a real-network address refused before a socket or child process exists?"""
    with pytest.raises(NonLoopbackError) as info:
        packets.ping(addr)
    assert isinstance(info.value, ValueError)
    assert "127.0.0.1" in str(info.value) or "address" in str(info.value)
    assert no_traffic == []


@pytest.mark.parametrize("tier", ["ping-socket", "namespace", "root"])
def test_every_tier_refuses_before_sending(tier, no_traffic):
    """Does a requested tier change nothing about the guard (it runs first)?"""
    with pytest.raises(NonLoopbackError):
        packets.ping("8.8.8.8", tier=tier)
    with pytest.raises(NonLoopbackError):
        pingsock._ping_raw("8.8.4.4", 1, 1.0, b"x")  # the namespace child's own guard
    assert no_traffic == []


def test_crafting_and_sniffing_refuse_non_loopback(no_traffic):
    """Can neither a crafted packet nor the sniffer be aimed away from loopback?"""
    with pytest.raises(NonLoopbackError):
        echo_request(dst="8.8.8.8")
    with pytest.raises(NonLoopbackError):
        echo_request(src="192.168.1.2")
    with pytest.raises(NonLoopbackError, match="'lo'"):
        capture_mod._Sniffer(iface="eth0")
    assert no_traffic == []


def test_names_are_not_resolved():
    """Is a host name refused with advice instead of being looked up (a lookup is traffic too)?"""
    with pytest.raises(NonLoopbackError, match="127.0.0.1"):
        ensure_loopback("my-laptop")


def test_checksum_matches_rfc1071_and_scapy():
    """Does our checksum agree with the one scapy puts in a real echo request?"""
    pkt = echo_request(7, 3, b"abc")
    icmp = bytes(pkt["ICMP"])
    assert icmp == icmp_echo_bytes(7, 3, b"abc")
    assert internet_checksum(icmp) == 0
    assert verify_checksums(bytes(pkt)) == {"IP header": True, "ICMP": True}


def test_corrupted_packet_is_detected_and_explained():
    """Does flipping one payload bit break the ICMP checksum, and does the explanation say so?"""
    raw = bytearray(bytes(echo_request(1, 1, b"hello")))
    raw[-1] ^= 0x01
    assert verify_checksums(bytes(raw)) == {"IP header": True, "ICMP": False}
    text = explain_checksum(bytes(raw), "ICMP")
    assert "WRONG" in text and "fold" in text or "invert" in text
    assert "OK" in explain_checksum(bytes(echo_request(1, 1, b"hello")), "IP")
    with pytest.raises(ValueError, match="TCP"):
        explain_checksum(bytes(raw), "TCP")


def test_dissect_and_hexdump_show_fields():
    """Does dissect() name the layers and fields, and hexdump() show the bytes?"""
    d = dissect(bytes(echo_request(42, 9, b"socklab")))
    assert d["IP"]["src"] == "127.0.0.1" and d["IP"]["ttl"] == 64
    assert d["ICMP"]["id"] == 42 and d["ICMP"]["seq"] == 9
    assert d["Raw"]["load"] == b"socklab"
    dump = hexdump(bytes(echo_request(1, 1, b"socklab")))
    assert dump.splitlines()[0].startswith("0000  45 00")
    assert dump.splitlines()[1].endswith("sock") and dump.splitlines()[2].endswith("lab")


def test_shipped_tcp_capture_is_a_complete_exchange():
    """Does the shipped tcp-echo.pcap hold one handshake, the data both ways and both FINs, once each?"""
    cap = load_pcap("tcp-echo")
    flags = cap.flags()
    assert flags[:3] == ["S", "SA", "A"]
    assert flags.count("S") == 1 and flags.count("SA") == 1 and flags[-1] == "A"
    assert sum("F" in f for f in flags) == 2 and not any("R" in f for f in flags)
    segs = cap.segments()
    client, server = (segs[0].sport, segs[0].dport)
    sent = b"".join(s.payload for s in segs if s.sport == client)
    echoed = b"".join(s.payload for s in segs if s.sport == server)
    assert sent == echoed == b"hello, socklab"
    assert [(s.rel_seq, s.rel_ack) for s in segs[:3]] == [(0, 0), (0, 1), (1, 1)]
    assert len({r.raw for r in cap.records}) == len(cap.records)  # no packet twice
    assert all(verify_checksums(r.raw)["IP header"] for r in cap.records)
    # On loopback Linux leaves the TCP checksum to "hardware" that lo does not have: explained, not hidden.
    assert "offload" in explain_checksum(cap.records[3].raw, "TCP")
    assert cap.packets[0].haslayer("TCP")  # scapy reads our file too
    text = cap.text()
    assert "SYN-ACK seq=0 ack=1" in text and "'hello, socklab'" in text
    assert "SYN-ACK seq=0 ack=1" in cap._repr_html_()  # what a notebook shows for `cap`


def test_shipped_ping_capture_and_unknown_name():
    """Does ping.pcap hold one echo request and its reply, and does a bad name list the real ones?"""
    cap = load_pcap("ping")
    lines = cap.text().splitlines()
    assert len(lines) == 2 and "echo-request" in lines[0] and "echo-reply" in lines[1]
    with pytest.raises(FileNotFoundError, match="tcp-echo"):
        load_pcap("no-such-capture")


def test_pcap_round_trip(tmp_path):
    """Does a capture saved to .pcap read back byte for byte?"""
    cap = load_pcap("tcp-echo")
    again = load_pcap(cap.save(tmp_path / "copy.pcap"))
    assert [r.raw for r in again.records] == [r.raw for r in cap.records]
    with pytest.raises(ValueError, match="pcap"):
        (tmp_path / "bad.pcap").write_bytes(b"not a capture at all, sorry")
        load_pcap(tmp_path / "bad.pcap")


def test_timeline_figure_draws_every_segment():
    """Does the timeline show one arrow per segment with flags and relative numbers?"""
    cap = load_pcap("tcp-echo")
    fig = cap.timeline()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum("seq=" in t for t in texts) == len(cap.segments())
    assert texts.count("SYN seq=0") == 1 and "SYN-ACK seq=0 ack=1" in texts
    assert any(t.startswith("client\n127.0.0.1:") for t in texts)


def test_tier_report_is_readable():
    """Does tier() always offer offline and explain every tier in Korean and English?"""
    report = packets.tier()
    assert report.available["offline"] and report.name in packets.TIERS
    assert set(report.reasons) == set(packets.TIERS)
    assert all(report.reasons[t] for t in packets.TIERS)
    assert str(report).startswith(f"packet tier: {report.name}")
    assert "<table>" in report._repr_html_()
    with pytest.raises(ValueError, match="unknown tier"):
        packets.ping("127.0.0.1", tier="wizard")


def test_cli_tier_and_guard():
    """Does `socklab packets tier` print the report, and `socklab packets ping 8.8.8.8` refuse with exit 1?"""
    import contextlib
    import io

    from socklab.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["packets", "tier"]) == 0
    assert out.getvalue().startswith("packet tier: ")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["packets", "ping", "8.8.8.8"]) == 1
    assert "not a loopback address" in err.getvalue()

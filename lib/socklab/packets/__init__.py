"""IP-level experiments on loopback: build, dissect, ping and capture packets with or without root.

>>> from socklab import packets
>>> packets.tier()              # which experiments this computer allows, and why  # doctest: +SKIP
>>> packets.ping("127.0.0.1")   # ICMP echo with the best tier                      # doctest: +SKIP
>>> cap = packets.capture("tcp-echo")                                               # doctest: +SKIP
>>> cap.timeline()              # SYN, SYN-ACK, ACK, data, FIN as a sequence diagram  # doctest: +SKIP

Without any privilege, ``packets.load_pcap("tcp-echo")`` shows a real capture shipped with socklab.
Nothing here imports scapy until a function needs it, and nothing ever leaves 127.0.0.0/8 or ::1.
"""
from __future__ import annotations

from .capture import Capture, Record, capture, load_pcap, read_pcap, save_pcap
from .guard import NonLoopbackError, ensure_loopback, ensure_loopback_iface
from .namespace import NamespaceError, run_in_namespace
from .offline import (dissect, echo_request, explain_checksum, hexdump, icmp_echo_bytes, internet_checksum,
                      verify_checksums)
from .pingsock import Reply, ping
from .scenarios import SCENARIOS
from .tiers import TIERS, TierReport, tier
from .timeline import Segment, pair_with_trace, tcp_segments, timeline_figure, timeline_text

__all__ = [
    "Capture", "NamespaceError", "NonLoopbackError", "Record", "Reply", "SCENARIOS", "Segment", "TIERS",
    "TierReport", "capture", "dissect", "echo_request", "ensure_loopback", "ensure_loopback_iface",
    "explain_checksum", "hexdump", "icmp_echo_bytes", "internet_checksum", "load_pcap", "pair_with_trace",
    "ping", "read_pcap", "run_in_namespace", "save_pcap", "tcp_segments", "tier", "timeline_figure",
    "timeline_text", "verify_checksums",
]

"""`socklab packets ...`: tier report, ping, capture a scenario, regenerate the shipped captures."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_arguments", "run", "packets_command"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("tier", help="which packet tier works here, and why the others do not")
    p = sub.add_parser("ping", help="ICMP echo to a loopback address")
    p.add_argument("host", nargs="?", default="127.0.0.1")
    p.add_argument("-c", "--count", type=int, default=3)
    p.add_argument("--tier", choices=("ping-socket", "namespace", "root"))
    c = sub.add_parser("capture", help="capture a builtin scenario and print its packets")
    c.add_argument("scenario", nargs="?", default="tcp-echo")
    c.add_argument("--tier", choices=("namespace", "root"))
    c.add_argument("--pcap", type=Path, help="also write the packets to this .pcap file")
    m = sub.add_parser("make-pcaps", help="regenerate lib/socklab/data/*.pcap from real traffic")
    m.add_argument("--out", type=Path, default=None)


def packets_command(*, action: str, host: str = "127.0.0.1", count: int = 3, tier: str | None = None,
                    scenario: str = "tcp-echo", pcap: Path | None = None, out: Path | None = None,
                    stdout=None) -> int:
    """What `socklab packets ACTION` does; returns the exit status."""
    from socklab import packets
    stdout = stdout or sys.stdout
    if action == "tier":
        print(packets.tier(), file=stdout)
    elif action == "ping":
        for reply in packets.ping(host, count=count, tier=tier):
            print(reply, file=stdout)
    elif action == "capture":
        cap = packets.capture(scenario, tier=tier)
        print(cap.text(), file=stdout)
        if pcap is not None:
            print(f"wrote {cap.save(pcap)}", file=stdout)
    elif action == "make-pcaps":
        from .make_pcaps import DATA_DIR, make_pcaps
        for name, path in make_pcaps(out or DATA_DIR).items():
            print(f"{name}: {path} ({path.stat().st_size} bytes)", file=stdout)
    else:
        raise ValueError(f"unknown action {action!r}")
    return 0


def run(args: argparse.Namespace) -> int:
    kwargs = {k: getattr(args, k) for k in ("host", "count", "tier", "scenario", "pcap", "out") if hasattr(args, k)}
    try:
        return packets_command(action=args.action, **kwargs)
    except (ValueError, RuntimeError, TimeoutError, OSError) as exc:
        print(f"socklab packets {args.action}: {exc}", file=sys.stderr)
        return 1

"""Regenerate the shipped captures from real loopback traffic in a private namespace.

    python -m socklab.packets.make_pcaps [--out DIR]

writes ``tcp-echo.pcap`` (handshake, data, FIN) and ``ping.pcap`` (one echo request/reply) to
lib/socklab/data/, so students without any privilege can still study real packets.
The namespace keeps the files clean: nothing else talks on its loopback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .capture import DATA_DIR, Record, capture, save_pcap
from .timeline import tcp_segments

__all__ = ["make_pcaps", "main"]


def _rebased(records) -> list[Record]:
    t0 = records[0].t if records else 0.0
    return [Record(round(r.t - t0, 6), r.raw) for r in records]


def make_pcaps(out_dir=DATA_DIR, *, tier: str = "namespace", timeout: float = 5.0) -> dict[str, Path]:
    """Capture the tcp-echo and ping scenarios and write them as .pcap files; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tcp = capture("tcp-echo", tier=tier, timeout=timeout)
    tcp = tcp.only(tcp.result["server"][1])
    flags = [s.flags for s in tcp_segments(tcp.records)]
    if flags[:3] != ["S", "SA", "A"] or flags.count("S") != 1 or flags[-1] != "A":
        raise RuntimeError(f"unexpected TCP exchange {flags}; not writing it")
    png = capture("ping", tier=tier, timeout=timeout)
    if len(png.records) != 2:
        raise RuntimeError(f"expected echo request + reply, captured {len(png.records)} packets")
    return {"tcp-echo": save_pcap(_rebased(tcp.records), out_dir / "tcp-echo.pcap"),
            "ping": save_pcap(_rebased(png.records), out_dir / "ping.pcap")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m socklab.packets.make_pcaps", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output directory (default: the package data)")
    parser.add_argument("--tier", default="namespace", choices=("namespace", "root"))
    args = parser.parse_args(argv)
    for name, path in make_pcaps(args.out, tier=args.tier).items():
        print(f"{name}: {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

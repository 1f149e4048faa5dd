"""Packet tiers side by side: what a ping and a captured TCP exchange cost in each tier.

The namespace tier pays for a child process (`unshare -rn` + interpreter start); the ratio
against the root tier, measured in the same run, is that overhead.
"""
from __future__ import annotations

import statistics
import time


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run() -> list[dict]:
    from socklab import packets

    report = packets.tier()
    rows: list[dict] = []
    ping_ms = {}
    for tier in ("root", "ping-socket", "namespace"):
        if report.available[tier]:
            ping_ms[tier] = _median_ms(lambda t=tier: packets.ping(count=1, tier=t), 7)
            rtts = [r.rtt_ms for r in packets.ping(count=10, tier=tier)]
            rows.append({"name": f"ping rtt ({tier})", "value": round(statistics.median(rtts), 4), "unit": "ms",
                         "baseline": None, "ratio": None, "goal": "< 1 ms on loopback"})
    base = ping_ms.get("root")
    for tier, ms in ping_ms.items():
        rows.append({"name": f"ping() call ({tier})", "value": round(ms, 3), "unit": "ms",
                     "baseline": round(base, 3) if base else None,
                     "ratio": round(ms / base, 2) if base else None,
                     "goal": "namespace < 500 ms (child process start)" if tier == "namespace" else "< 10 ms"})
    cap_ms = {}
    for tier in ("root", "namespace"):
        if report.available[tier]:
            cap_ms[tier] = _median_ms(lambda t=tier: packets.capture("tcp-echo", tier=t), 5)
    base = cap_ms.get("root")
    for tier, ms in cap_ms.items():
        rows.append({"name": f"capture tcp-echo ({tier})", "value": round(ms, 2), "unit": "ms",
                     "baseline": round(base, 2) if base else None, "ratio": round(ms / base, 2) if base else None,
                     "goal": "< 1000 ms"})
    start = time.perf_counter()
    packets.load_pcap("tcp-echo").text()
    rows.append({"name": "load_pcap + text (offline)", "value": round((time.perf_counter() - start) * 1000, 2),
                 "unit": "ms", "baseline": None, "ratio": None, "goal": "< 50 ms"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

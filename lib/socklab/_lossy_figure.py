"""Figures for chapter 5 (used by socklab.lossy and socklab.rdt; not imported directly).

* ``table`` / ``timeline``: one row per datagram the lossy channel saw, a bar from arrival to delivery, a
  marker for its fate (dropped, corrupted, duplicated, reordered, delivered), retransmissions and
  ACKs labelled.
* ``window_progress``: a sliding-window sender over time: DATA packets by seq, the ACKed edge and
  the window above it.
* ``rtt_histogram``: round-trip times of a pinger.
Uses matplotlib.figure.Figure directly (no pyplot state).
"""
from __future__ import annotations

from matplotlib.figure import Figure

COLOURS = {"up": "#1f77b4", "down": "#2ca02c", "drop": "#d62728", "corrupt": "#ff7f0e",
           "duplicate": "#9467bd", "reorder": "#8c564b"}
PAST = {"drop": "dropped", "corrupt": "corrupted", "duplicate": "duplicated", "reorder": "reordered"}
MARKERS = {"drop": "x", "corrupt": "D", "duplicate": "d", "reorder": ">"}


def _label(ko: str, en: str) -> tuple[str, dict]:
    """Text and font for a label: Korean + English with a Hangul font (fonts-nanum), else English only
    (a missing glyph would be a warning, and our tests treat warnings as errors)."""
    from matplotlib import font_manager
    names = {f.name for f in font_manager.fontManager.ttflist}
    hangul = [n for n in ("NanumGothic", "NanumBarunGothic") if n in names]
    return (f"{ko} {en}", {"family": hangul}) if hangul else (en, {})


def table(datagrams, describe=None) -> str:
    rows = [f"{'t ms':>8}  dir   #   fate                    delivered"]
    for d in datagrams:
        what = describe(d.data) if describe else repr(d.data[:24])
        fate = ",".join(d.fate.actions) or "ok"
        if d.fate.delay:
            fate += f" +{d.fate.delay * 1000:.0f}ms"
        again = " (again)" if d.retransmission else ""
        rows.append(f"{d.t_in * 1000:8.1f}  {d.direction:<4} {d.index:>3}   {fate:<22}  {len(d.out)}x  {what}{again}")
    return "\n".join(rows)


def timeline(datagrams, *, describe=None, title: str = "lossy channel") -> Figure:
    rows = list(datagrams)
    fig = Figure(figsize=(8.5, max(2.4, 0.24 * len(rows) + 1.2)))
    ax = fig.add_subplot(1, 1, 1)
    for y, d in enumerate(rows):
        t0 = d.t_in * 1000
        colour = COLOURS[d.direction]
        end = max(d.out) * 1000 if d.out else t0
        ax.plot([t0, end], [y, y], color=colour, linewidth=2, alpha=0.6)
        ax.plot([t0], [y], "o", color=colour, markersize=4)
        for t in d.out:
            ax.plot([t * 1000], [y], "|", color=colour, markersize=9, markeredgewidth=2)
        for action in d.fate.actions:
            ax.plot([end], [y], MARKERS[action], color=COLOURS[action], markersize=7)
        label = describe(d.data) if describe else f"{len(d.data)} B"
        bits = [f"{'→' if d.direction == 'up' else '←'} #{d.index} {label}"]
        if d.retransmission:
            bits.append("retransmitted" if d.direction == "up" else "again")
        bits += [PAST[a] for a in d.fate.actions]
        if not d.fate.actions:
            bits.append("delivered")
        ax.annotate("  ".join(bits), (end, y), xytext=(8, -3), textcoords="offset points", fontsize=7)
    ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -0.8)
    ax.set_yticks([])
    text, font = _label("시간", "time (ms)")
    ax.set_xlabel(text, **font)
    ax.set_title(f"{title}: → up (client→server), ← down; x dropped, ◆ corrupted, duplicated, ▶ reordered",
                 fontsize=8)
    right = max([max(d.out) for d in rows if d.out] + [d.t_in for d in rows] + [0.001]) * 1000
    ax.set_xlim(-right * 0.02, right * 1.45)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def window_progress(datagrams, window: int, *, title: str = "sliding window") -> Figure:
    from socklab.rdt import ACK, parse_packet

    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot(1, 1, 1)
    sends, again, acks = [], [], []
    for d in datagrams:
        if d.direction == "up":
            packet = parse_packet(d.data)
            if packet and packet[0] != ACK:
                (again if d.retransmission else sends).append((d.t_in * 1000, packet[1]))
        else:
            packet = parse_packet(d.sent_data)
            for t in d.out:
                if packet and packet[0] == ACK:
                    acks.append((t * 1000, packet[1]))
    if sends:
        ax.plot(*zip(*sends), ".", color=COLOURS["up"], label="DATA (first time)")
    if again:
        ax.plot(*zip(*again), "x", color=COLOURS["drop"], label="DATA (retransmitted)")
    if acks:
        acks.sort()
        edge, best = [], 0
        for t, a in acks:
            best = max(best, a)
            edge.append((t, best))
        ts, base = zip(*edge)
        ax.step(ts, base, where="post", color=COLOURS["down"], label="ACKed (next expected)")
        ax.fill_between(ts, base, [b + window for b in base], step="post", color=COLOURS["down"], alpha=0.12,
                        label=f"window ({window})")
    text, font = _label("시간", "time (ms)")
    ax.set_xlabel(text, **font)
    ax.set_ylabel("seq")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def rtt_histogram(rtts, *, title: str = "RTT") -> Figure:
    values = [r * 1000 for r in rtts if r is not None]
    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(values, bins=max(5, min(20, len(values))), color=COLOURS["up"], edgecolor="white")
    lost = sum(r is None for r in rtts)
    text, font = _label("왕복 시간", "RTT (ms)")
    ax.set_xlabel(text, **font)
    text, font = _label("개수", "count")
    ax.set_ylabel(text, **font)
    ax.set_title(f"{title}: {len(values)} replies, {lost} lost")
    fig.tight_layout()
    return fig

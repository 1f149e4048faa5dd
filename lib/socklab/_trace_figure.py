"""Draw a socklab.trace as a sequence diagram (used by Trace.figure(); not imported directly).

Two lanes, Server and Client; one row per call; arrows join the two ends of each connection:
connect -> accept, send -> the recv that got its first byte, close/shutdown -> the EOF it caused.
Uses matplotlib.figure.Figure directly (no pyplot state), so it works with the Agg backend.
Titles and lane names are Korean + English when a Hangul font is installed, English otherwise.
"""
from __future__ import annotations

from matplotlib.figure import Figure

from socklab._figures import blank_axes, font_context, ko_en

LANE_X = {"server": 0.3, "client": 0.7}
COLOURS = {"socket": "#777777", "bind": "#1f77b4", "listen": "#1f77b4", "accept": "#2ca02c", "connect": "#2ca02c",
           "send": "#d62728", "sendall": "#d62728", "sendto": "#d62728", "recv": "#9467bd", "recvfrom": "#9467bd",
           "shutdown": "#ff7f0e", "close": "#ff7f0e"}
_WILDCARD = ("0.0.0.0", "::", "")


def _same(a, b) -> bool:
    return bool(a and b) and a[1] == b[1] and (a[0] == b[0] or a[0] in _WILDCARD or b[0] in _WILDCARD)


def _faces(c, d) -> bool:
    """Are calls c and d on the two ends of the same connection (c's peer is d's local and vice versa)?"""
    return _same(c.peer, d.local) and _same(c.local, d.peer)


def _label(c) -> str:
    text = f"#{c.sock_id} {c.op}()"
    if c.nbytes:
        text += f"  {c.nbytes} B"
    if c.result not in ("ok", "") and not (c.op == "socket" and c.result.endswith("socket")):
        text += f"  {c.result[:40]}"
    elif c.op == "socket":
        text += f"  {c.result}"
    return text


def _arrows(calls) -> list[tuple[int, int, str]]:
    arrows: list[tuple[int, int, str]] = []
    used: set[int] = set()
    # connect -> accept: nearest unused accept that faces it
    for i, c in enumerate(calls):
        if c.op == "connect" and c.result == "ok":
            options = [j for j, d in enumerate(calls) if d.op == "accept" and j not in used and
                       _same(d.local, c.peer) and _same(d.peer, c.local)]
            if options:
                j = min(options, key=lambda j: abs(j - i))
                used.add(j)
                arrows.append((i, j, ko_en("연결 요청", "connect (SYN)", " ")))
    # data: by byte position, each send points at the recv that got its first byte
    ends: dict[tuple, list[int]] = {}
    for i, c in enumerate(calls):
        if c.local and c.peer:
            ends.setdefault((c.local, c.peer), []).append(i)
    for (local, peer), rows in ends.items():
        sends = [i for i in rows if calls[i].op in ("send", "sendall", "sendto") and calls[i].nbytes]
        if not sends:
            continue
        recvs = [j for j, d in enumerate(calls) if d.op in ("recv", "recvfrom") and d.nbytes and _faces(calls[sends[0]], d)]
        pos, ends_at = 0, []
        for j in recvs:
            pos += calls[j].nbytes
            ends_at.append((pos, j))
        sent = 0
        for i in sends:
            target = next((j for end, j in ends_at if end > sent), None)
            sent += calls[i].nbytes
            if target is not None:
                arrows.append((i, target, f"{calls[i].nbytes} B"))
    # end of stream: the first close/shutdown(WR) of a socket -> the EOF recv on the other end
    done: set[int] = set()
    for i, c in enumerate(calls):
        fin = c.op == "close" or (c.op == "shutdown" and c.result in ("SHUT_WR", "SHUT_RDWR"))
        if fin and c.sock_id not in done and c.local and c.peer:
            done.add(c.sock_id)
            j = next((j for j, d in enumerate(calls) if d.op == "recv" and d.result == "EOF" and j not in used
                      and _faces(c, d)), None)
            if j is not None:
                used.add(j)
                arrows.append((i, j, ko_en("송신 종료", "FIN → EOF", " ")))
    return arrows


LANE_NAMES = {"server": ("서버", "Server"), "client": ("클라이언트", "Client")}


def draw(calls, *, max_calls: int = 60, title: str | None = None) -> Figure:
    """Return a Figure with the sequence diagram of ``calls`` (a list of trace.Call)."""
    with font_context():
        return _draw(calls, max_calls=max_calls, title=title)


def _draw(calls, *, max_calls: int, title: str | None) -> Figure:
    shown = calls[:max_calls]
    n = max(len(shown), 1)
    fig = Figure(figsize=(9, 1.6 + 0.32 * n))
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlim(0, 1)
    ax.set_ylim(n + 0.2, -1.6)
    blank_axes(ax)
    for role, x in LANE_X.items():
        ax.plot([x, x], [-0.9, n], color="#bbbbbb", linewidth=1.5, zorder=0)
        ax.text(x, -1.2, ko_en(*LANE_NAMES[role], " "), ha="center", va="center", fontsize=12,
                bbox=dict(boxstyle="round", facecolor="#eeeeee", edgecolor="#999999"))
    for i, c in enumerate(shown):
        x = LANE_X.get(c.role, LANE_X["client"])
        colour = COLOURS.get(c.op, "black")
        ax.plot([x], [i], marker="o", color=colour, markersize=5, zorder=3)
        outward = -1 if x < 0.5 else 1
        ax.text(x + 0.015 * outward, i, _label(c), ha="right" if outward < 0 else "left", va="center",
                fontsize=8.5, color=colour, family="monospace")
    for i, j, text in _arrows(shown):
        a, b = shown[i], shown[j]
        xa, xb = LANE_X.get(a.role, LANE_X["client"]), LANE_X.get(b.role, LANE_X["client"])
        ax.annotate("", xy=(xb, j), xytext=(xa, i),
                    arrowprops=dict(arrowstyle="->", color=COLOURS.get(a.op, "black"), linewidth=1.2,
                                    shrinkA=4, shrinkB=4))
        ax.text((xa + xb) / 2, (i + j) / 2 - 0.15, text, ha="center", va="bottom", fontsize=7.5, color="#444444")
    if len(calls) > len(shown):
        ax.text(0.5, n, f"... {len(calls) - len(shown)} more call(s) not drawn (see .text())", ha="center",
                fontsize=8, color="#777777")
    if not calls:
        ax.text(0.5, 0, ko_en("기록된 소켓 호출이 없습니다", "no socket calls recorded", " / "), ha="center", fontsize=10, color="#777777")
    ax.set_title(title or ko_en("소켓 호출 순서 (위에서 아래로 시간 순)", "socket calls, top to bottom in time order"),
                 fontsize=10)
    fig.tight_layout()
    return fig

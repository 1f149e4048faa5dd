"""Chapter pictures drawn by code: the layer stack, the three connection models, the port number
line with this kernel's ephemeral range, and a byte map of an SNMP message.

Every function returns a ``matplotlib.figure.Figure`` (shown as a picture in Jupyter) and draws
from live data where the data is live: ``port_line()`` reads the kernel's range when called,
``snmp_byte_map()`` maps the bytes you give it (e.g. a datagram an agent really received).
Labels are Korean and English when a Hangul font is installed (fonts-nanum), English otherwise.

>>> fig = port_line((32768, 60999))
>>> fig.socklab["ephemeral"]
(32768, 60999)
"""
from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from socklab._figures import blank_axes, font_context, ko_en, korean_font, register_figure_display

__all__ = ["layer_stack", "models", "port_line", "snmp_byte_map"]

_BLUE, _GREEN, _ORANGE, _GREY, _RED, _PURPLE = "#4c78a8", "#54a24b", "#f58518", "#bab0ac", "#e45756", "#b279a2"


def _figure(width: float, height: float) -> Figure:
    register_figure_display()
    return Figure(figsize=(width, height))


def _box(ax, x, y, w, h, text, colour, *, size=10, alpha=0.9):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.01,rounding_size=0.02", facecolor=colour,
                                edgecolor="#333333", alpha=alpha, linewidth=1))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size,)


def layer_stack() -> Figure:
    """The 4-layer TCP/IP stack with the socket API as the boundary between programs and kernel
    (the slide "네트워크 프로그래밍의 계층별 분류"): what socket programming touches, and what not."""
    with font_context():
        fig = _figure(9, 5.2)
        ax = fig.add_subplot(1, 1, 1)
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 6.2)
        blank_axes(ax)
        layers = [(ko_en("응용 계층", "application", " "), "HTTP · FTP · SSH · DNS · SNMP", "#d4e6f1"),
                  (ko_en("전송 계층", "transport", " "), ko_en("TCP · UDP · 포트 번호", "TCP · UDP · port numbers",
                                                              " (") + (")" if korean_font() else ""), "#d5f5e3"),
                  (ko_en("인터넷 계층", "internet", " "), ko_en("IP · ICMP · IP 주소", "IP · ICMP · IP addresses",
                                                            " (") + (")" if korean_font() else ""), "#fdebd0"),
                  (ko_en("네트워크 접근 계층", "network access", " "), "Ethernet · Wi-Fi · MAC", "#ebdef0")]
        for i, (name, what, colour) in enumerate(layers):
            y = 4.65 if i == 0 else 4.4 - i * 1.2
            _box(ax, 0.3, y, 5.2, 0.95, f"{name}\n{what}", colour, size=10)
        # the socket boundary between application and transport
        ax.plot([0.1, 9.8], [4.4, 4.4], color=_RED, linewidth=2.5, linestyle="--")
        ax.text(9.8, 4.5, ko_en("소켓 API (경계)", "socket API (boundary)", " "), ha="right", va="bottom",
                color=_RED, fontsize=10)
        ax.text(9.8, 4.3, "socket() bind() listen() accept() connect() send() recv() close()", ha="right", va="top",
                color=_RED, fontsize=7.5, family="monospace")
        ax.annotate("", xy=(5.7, 4.65), xytext=(5.7, 5.6), arrowprops=dict(arrowstyle="<->", color=_BLUE))
        ax.text(5.85, 5.12, ko_en("소켓 네트워크 프로그래밍\n(사용자 프로그램)", "socket network programming\n(your program)"),
                va="center", fontsize=9, color=_BLUE)
        ax.annotate("", xy=(5.7, 0.45), xytext=(5.7, 3.95), arrowprops=dict(arrowstyle="<->", color="#555555"))
        ax.text(5.85, 3.0, ko_en("운영체제 커널이 맡음\n(재전송, 경로, 프레임)", "the kernel's job\n(retransmission, routing, frames)"),
                va="center", fontsize=9, color="#555555")
        ax.annotate("", xy=(5.55, 2.55), xytext=(7.4, 1.55), arrowprops=dict(arrowstyle="->", color=_ORANGE))
        ax.text(7.45, 1.45, ko_en("IP 수준 (raw/ping 소켓):\n패킷 캡처, ICMP 직접", "IP level (raw/ping socket):\n"
                                  "packet capture, ICMP by hand"), va="top", fontsize=9, color=_ORANGE)
        ax.set_title(ko_en("네트워크 프로그래밍의 계층별 분류", "network programming, layer by layer"), fontsize=11)
        fig.socklab = {"layers": [name for name, _, _ in layers]}
        return fig


def _node(ax, x, y, text, colour, w=1.7, h=0.6):
    _box(ax, x - w / 2, y - h / 2, w, h, text, colour, size=8.5)


def _arrow(ax, a, b, colour, text=None, style="->"):
    ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle=style, color=colour, shrinkA=16, shrinkB=16,
                                                    linewidth=1.3))
    if text:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, text, fontsize=7, color=colour, ha="center", va="center",
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5))


def models(*, agents: list[tuple[str, int]] | None = None, silent: tuple[int, ...] = (),
           peers: int = 4) -> Figure:
    """The three connection models side by side: server & client (1:N, clients start),
    manager & agent (the manager polls N agents over UDP 161; `silent` agents never answer),
    P2P (every peer is a server and a client). `agents` may be live agents' addresses."""
    agents = list(agents) if agents else [("10.0.0.1", 161), ("10.0.0.2", 161), ("10.0.0.3", 161)]
    with font_context():
        fig = _figure(12, 4.4)
        axes = fig.subplots(1, 3)
        for ax in axes:
            ax.set_xlim(0, 6)
            ax.set_ylim(0, 6)
            blank_axes(ax)
        ax = axes[0]
        _node(ax, 3, 4.9, ko_en("서버", "server", " "), "#d4e6f1")
        for i, x in enumerate((1, 3, 5)):
            _node(ax, x, 1.2, ko_en(f"클라이언트 {i + 1}", f"client {i + 1}", "\n"), "#d5f5e3", w=1.6, h=0.8)
            _arrow(ax, (x, 1.2), (3, 4.9), _BLUE, "connect()" if i == 0 else None)
        ax.set_title(ko_en("서버 & 클라이언트 (1:N)", "server & client (1:N)", "\n"), fontsize=10)
        ax.text(3, 0.2, ko_en("클라이언트가 연결을 시작", "clients start the connection"), ha="center", fontsize=8)

        ax = axes[1]
        _node(ax, 3, 4.9, ko_en("매니저", "manager", " ") + "\n(UDP client)", "#fdebd0", h=0.8)
        xs = [0.9 + i * (4.2 / max(len(agents) - 1, 1)) for i in range(len(agents))]
        for i, (x, (host, port)) in enumerate(zip(xs, agents)):
            quiet = i in silent
            label = ko_en("에이전트", "agent", " ") + f"\n{host}:{port}"
            _node(ax, x, 1.2, label, "#eeeeee" if quiet else "#ebdef0", w=1.75, h=0.8)
            _arrow(ax, (3 - 0.15, 4.9), (x - 0.15, 1.2), _ORANGE)
            if not quiet:
                _arrow(ax, (x + 0.15, 1.2), (3 + 0.15, 4.9), _PURPLE)
            else:
                ax.text(x, 0.45, ko_en("대답 없음: timeout", "no answer: timeout", "\n"), ha="center", fontsize=7,
                        color=_RED, va="top")
        ax.text(0.2, 3.3, "GET", color=_ORANGE, fontsize=8)
        ax.text(0.2, 2.9, "Response", color=_PURPLE, fontsize=8)
        ax.text(3, 5.6, ko_en("매니저가 요청을 시작 (UDP 161)", "the manager starts every request (UDP 161)", "\n"),
                ha="center", fontsize=8)
        ax.set_title(ko_en("매니저 & 에이전트 (1:N 폴링, SNMP)", "manager & agent (1:N polling, SNMP)", "\n"), fontsize=10)

        ax = axes[2]
        import math
        points = [(3 + 2 * math.cos(2 * math.pi * k / peers + math.pi / 2), 3.1 + 2 * math.sin(2 * math.pi * k / peers
                   + math.pi / 2)) for k in range(peers)]
        for a in range(peers):
            for b in range(a + 1, peers):
                _arrow(ax, points[a], points[b], _GREEN, style="<->")
        for k, (x, y) in enumerate(points):
            _node(ax, x, y, ko_en(f"피어 {k + 1}", f"peer {k + 1}", "\n"), "#d5f5e3", w=1.3, h=0.75)
        ax.set_title(ko_en("P2P (N:N)", "peer to peer (N:N)", "\n"), fontsize=10)
        ax.text(3, 0.2, ko_en("피어마다 서버이자 클라이언트", "each peer is a server and a client"), ha="center", fontsize=8)
        fig.tight_layout()
        fig.socklab = {"agents": agents, "silent": tuple(silent), "peers": peers}
        return fig


def port_line(kernel_range: tuple[int, int] | None = None, *, observed: list[int] = ()) -> Figure:
    """The port number line 0 | 1-1023 | 1024-49151 | 49152-65535 (IANA, RFC 6335) with the kernel's
    ephemeral range drawn over it, read from /proc/sys/net/ipv4/ip_local_port_range when
    `kernel_range` is None. `observed` ports (e.g. your clients' ephemeral ports) are marked."""
    from socklab import ports

    if kernel_range is None:
        live = ports.ephemeral_range()
        low, high, source = live.low, live.high, live.source
    else:
        low, high = (int(x) for x in kernel_range)
        source = "given"
    if not 0 <= low <= high <= 65535:
        raise ValueError(f"an ephemeral range is two port numbers low <= high in 0-65535, not {low}-{high}")
    with font_context():
        fig = _figure(11, 3.1)
        ax = fig.add_subplot(1, 1, 1)
        ax.set_xlim(-5000, 67000)
        ax.set_ylim(-0.95, 2.3)
        blank_axes(ax)
        segments = [(0, 1, ko_en("예약", "reserved", "\n"), _GREY),
                    (1, 1024, ko_en("잘 알려진 포트", "well-known", "\n") + "\n1-1023", _RED),
                    (1024, 49152, ko_en("등록된 포트 (IANA 등록)", "registered (IANA-registered)", "\n") + "\n1024-49151",
                     _BLUE),
                    (49152, 65536, ko_en("동적/사적 포트", "dynamic / private", "\n") + "\n49152-65535", _GREEN)]
        for start, stop, text, colour in segments:
            width = max(stop - start, 300)  # ports 0 and 1-1023 would be invisible to scale
            ax.add_patch(Rectangle((start, 0), width, 0.8, facecolor=colour, alpha=0.55, edgecolor="#333333",
                                   gid=f"iana-{start}"))
            if start == 0:
                ax.text(0, -0.2, text, ha="right", va="top", fontsize=8)
            elif start == 1:
                ax.text(0, 1.0, text, ha="left", va="bottom", fontsize=8)
            else:
                ax.text(start + width / 2, 1.0, text, ha="center", va="bottom", fontsize=8)
        band = Rectangle((low, 1.55), high - low + 1, 0.35, facecolor=_ORANGE, edgecolor="#333333", gid="ephemeral")
        ax.add_patch(band)
        ax.text((low + high) / 2, 2.0, ko_en(f"이 커널의 임시 포트 범위 {low}-{high}",
                                            f"this kernel's ephemeral range {low}-{high}", " / "),
                ha="center", va="bottom", fontsize=9)
        for x in (low, high):
            ax.plot([x, x], [0.8, 1.55], color=_ORANGE, linewidth=1, linestyle=":")
        for p in observed:
            ax.plot([p], [0.4], marker="v", color="black", markersize=7)
        if observed:
            ax.text((low + high) / 2, -0.2, ko_en("관찰한 포트", "observed", " ") + ": " + ", ".join(map(str, observed[:6])),
                    ha="center", va="top", fontsize=8)
        for tick in (0, 32768, 49152, 65535):
            ax.text(tick, -0.75, str(tick), ha="center", fontsize=7, color="#555555")
        ax.set_title(ko_en("포트 번호 (16비트, 0-65535)", "port numbers (16 bits, 0-65535)", " / "), fontsize=10)
        fig.socklab = {"ephemeral": (low, high), "source": source, "observed": list(observed)}
        return fig


_FIELD_COLOURS = {"message": "#dddddd", "version": "#aec7e8", "community": "#ffbb78", "PDU": "#dddddd",
                  "request-id": "#98df8a", "error-status": "#c5b0d5", "error-index": "#c5b0d5",
                  "variable-bindings": "#dddddd", "varbind": "#dddddd", "name (OID)": "#ff9896", "value": "#f7b6d2"}


_ROLE_KO = {"version": "버전", "community": "커뮤니티 (평문 비밀번호)", "request-id": "요청 번호 (응답과 짝 맞춤)",
            "error-status": "오류 상태", "error-index": "오류 위치", "name (OID)": "객체 식별자 OID",
            "value": "값 (요청에서는 NULL)"}


def snmp_byte_map(data: bytes, *, per_row: int = 16) -> Figure:
    """Every byte of an SNMP message in hex, coloured by the field it belongs to (version,
    community, request-id, OID, ...), with tag/length bytes marked: pass the bytes that were sent."""
    from socklab.snmp import fields

    data = bytes(data)
    parts = fields(data)
    leaves = [f for f in parts if not f.tag & 0x20]
    owner: dict[int, tuple[str, bool]] = {}
    for f in parts:  # outer elements first, so the innermost owner wins
        for i in range(f.offset, f.end):
            inner = i >= f.offset + f.header
            if f.tag & 0x20 and inner:
                continue  # a SEQUENCE's body is its children's bytes
            owner[i] = (f.role, inner)
    rows = -(-len(data) // per_row)
    with font_context():
        fig = _figure(11, 1.2 + 0.55 * rows + 0.26 * len(leaves))
        ax = fig.add_subplot(1, 1, 1)
        total = rows + 0.6 + 0.45 * len(leaves)
        ax.set_xlim(-0.2, per_row + 7)
        ax.set_ylim(total, -0.8)
        blank_axes(ax)
        for i, byte in enumerate(data):
            r, c = divmod(i, per_row)
            role, inner = owner.get(i, ("", True))
            ax.add_patch(Rectangle((c, r), 0.95, 0.9, facecolor=_FIELD_COLOURS.get(role, "#ffffff"),
                                   edgecolor="#333333" if inner else "#999999", linewidth=0.8,
                                   hatch=None if inner else "///", gid=f"byte-{i}"))
            ax.text(c + 0.47, r + 0.45, f"{byte:02x}", ha="center", va="center", fontsize=8, family="monospace")
        for r in range(rows):
            ax.text(-0.15, r + 0.45, f"{r * per_row:04x}", ha="right", va="center", fontsize=7, color="#777777",
                    family="monospace")
        y = rows + 0.4
        ax.text(0, y, ko_en("빗금 = 태그·길이 바이트, 칠한 칸 = 값", "hatched = tag and length bytes, filled = value",
                            " / "), fontsize=8, color="#555555", va="top")
        for f in leaves:
            y += 0.45
            shown = f.value if f.value is not None else ""
            ax.add_patch(Rectangle((0, y - 0.15), 0.6, 0.32, facecolor=_FIELD_COLOURS.get(f.role, "#ffffff"),
                                   edgecolor="#333333"))
            ax.text(0.8, y, f"{f.offset:>3}-{f.end - 1:<3} {f.role or '?':<13} {f.type:<17} {shown}", va="center",
                    fontsize=8, family="monospace")
            if korean_font() and f.role in _ROLE_KO:
                ax.text(per_row + 6.8, y, _ROLE_KO[f.role], va="center", ha="right", fontsize=8)
        ax.set_title(ko_en(f"SNMP 메시지 {len(data)}바이트, 필드별", f"an SNMP message, {len(data)} bytes, field by field",
                           " / "), fontsize=10)
        fig.socklab = {"fields": [(f.role, f.offset, f.end, f.value) for f in leaves], "length": len(data)}
        return fig

"""socklab.figures: chapter pictures drawn from live data, Korean when a Hangul font is installed."""
import io
import pathlib
import re

import pytest
from matplotlib.patches import Rectangle

from socklab import _figures, figures, snmp
from support import strict_skip

RANGE_FILE = pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range")


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")  # a missing glyph would be a warning, i.e. an error here
    return out.getvalue()


def _patch(fig, gid):
    return next(p for ax in fig.axes for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == gid)


def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in [*ax.texts, ax.title])


def test_port_line_draws_the_range_this_kernel_reports():
    """Does the port line's ephemeral band span exactly the range in /proc/sys/net/ipv4/ip_local_port_range?"""
    if not RANGE_FILE.exists():
        strict_skip("no ip_local_port_range on this system")
    low, high = (int(x) for x in RANGE_FILE.read_text().split())
    fig = figures.port_line()
    band = _patch(fig, "ephemeral")
    assert (band.get_x(), band.get_x() + band.get_width() - 1) == (low, high)
    assert fig.socklab == {"ephemeral": (low, high), "source": str(RANGE_FILE), "observed": []}
    assert f"{low}-{high}" in _texts(fig)
    assert _png(fig).startswith(b"\x89PNG")


def test_port_line_moves_with_the_range_it_is_given():
    """Is the band drawn from the data (another range moves it), and is a nonsense range refused clearly?"""
    band = _patch(figures.port_line((40000, 40999), observed=[40500]), "ephemeral")
    assert (band.get_x(), band.get_width()) == (40000, 1000)
    with pytest.raises(ValueError, match="low <= high"):
        figures.port_line((60000, 1000))


def test_iana_segments_are_the_rfc_6335_ranges():
    """Are the four IANA segments where RFC 6335 puts them (0, 1-1023, 1024-49151, 49152-65535)?"""
    fig = figures.port_line((32768, 60999))
    assert [_patch(fig, f"iana-{start}").get_x() for start in (0, 1, 1024, 49152)] == [0, 1, 1024, 49152]
    assert _patch(fig, "iana-49152").get_width() == 65536 - 49152


def test_snmp_byte_map_maps_the_datagram_an_agent_really_received():
    """Does the byte map show every byte of the GET that reached the agent, with its request id and OID?"""
    with snmp.agent({snmp.SYS_NAME: "router-1"}, name="fig-agent") as agent:
        assert snmp.get(agent.address, snmp.SYS_NAME, timeout=1.0) == "router-1"
        sent = agent.datagrams[0]
    fig = figures.snmp_byte_map(sent)
    roles = {role: value for role, _, _, value in fig.socklab["fields"]}
    assert roles["version"] == "SNMPv2c" and roles["community"] == "public"
    assert roles["name (OID)"] == snmp.SYS_NAME
    assert roles["request-id"] == snmp.fields(sent)[4].value  # the id this very datagram carried
    assert [p for p in fig.axes[0].patches if str(p.get_gid()).startswith("byte-")].__len__() == len(sent)
    assert fig.socklab["length"] == len(sent)
    _png(fig)


def test_ber_walker_refuses_a_cut_message():
    """Does snmp.fields() say where a truncated message breaks instead of drawing garbage?"""
    data = snmp.get_request(snmp.SYS_NAME, request_id=9)
    with pytest.raises(ValueError, match="says .* bytes but only"):
        snmp.fields(data[:-3])


@pytest.mark.parametrize("draw", [figures.layer_stack, figures.models, lambda: figures.port_line((1024, 2048))])
def test_every_picture_renders(draw):
    """Does each picture render to a PNG with no warning (no missing glyph)?"""
    assert _png(draw()).startswith(b"\x89PNG")


def test_models_show_live_agents_and_which_are_silent():
    """Does the manager/agent panel label the live agents' addresses and mark the silent one?"""
    fig = figures.models(agents=[("127.0.0.1", 40001), ("127.0.0.1", 40002)], silent=(1,))
    text = _texts(fig)
    assert "127.0.0.1:40001" in text and "127.0.0.1:40002" in text and "timeout" in text
    assert fig.socklab["silent"] == (1,)


def test_labels_are_korean_when_a_hangul_font_is_installed():
    """With fonts-nanum (as CI installs it), do the figures carry Korean and English labels?"""
    if _figures.korean_font() is None:
        strict_skip("no Hangul font (install fonts-nanum)")
    text = _texts(figures.layer_stack())
    assert "네트워크 프로그래밍의 계층별 분류" in text and "network programming, layer by layer" in text
    assert "소켓 API" in text


def test_labels_fall_back_to_english_without_a_hangul_font(monkeypatch):
    """Without a Hangul font, are the labels English only (no boxes for missing glyphs)?"""
    monkeypatch.setattr(_figures, "_found", [None])
    fig = figures.port_line((32768, 60999))
    text = _texts(fig)
    assert "ephemeral range 32768-60999" in text
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in text)
    _png(fig)


def test_a_notebook_figure_is_svg_with_its_words_as_text():
    """Is a figure shown in a notebook an SVG whose labels are <text> the browser sets (not glyph outlines)?"""
    svg = _figures.figure_svg(figures.port_line((32768, 60999)))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "32768-60999" in svg and "<text" in svg
    assert "<path" in svg  # the boxes are still drawn as shapes
    # a browser without DejaVu Sans (Windows, macOS) must fall back to a sans font, not its serif default
    assert all(family.rstrip().endswith(("sans-serif", "monospace"))
               for family in re.findall(r"font-family: ?([^;\"]*)", svg))


@pytest.mark.parametrize("bbox", [None, "tight"])
def test_hiding_a_diagrams_axes_changes_no_pixel(bbox):
    """Does blank_axes() draw exactly what axis("off") drew (it only skips laying out unseen tick labels)?"""
    def png(fig):
        out = io.BytesIO()
        fig.savefig(out, format="png", bbox_inches=bbox)
        return out.getvalue()
    fig = figures.layer_stack()
    blank = png(fig)
    for ax in fig.axes:
        ax.xaxis.set_visible(True)
        ax.yaxis.set_visible(True)
    assert not fig.axes[0].axison
    assert png(fig) == blank


def _svg_size(svg: str) -> tuple[float, float, float]:
    root = svg[svg.index("<svg"):svg.index(">", svg.index("<svg"))]
    width, height = (float(re.search(rf'\s{key}="([0-9.]+)px"', root).group(1)) for key in ("width", "height"))
    return width, height, float(root.split('viewBox="')[1].split()[2])


def test_svg_figures_are_as_large_as_the_pngs_were_but_fit_the_notebook():
    """Is an SVG drawn at the PNG's 100 px per inch, and is a 12-inch one shrunk to the output column
    (JupyterLab never shrinks an SVG), its aspect kept?"""
    width, height, view_width = _svg_size(_figures.figure_svg(figures.port_line((32768, 60999))))
    assert width == pytest.approx(min(view_width * 100 / 72, _figures.MAX_WIDTH_PX), abs=0.1)
    fig = figures.models()
    width, height, view_width = _svg_size(_figures.figure_svg(fig))
    assert width == _figures.MAX_WIDTH_PX < view_width * 100 / 72
    small = _figures.figure_svg(figures.layer_stack())
    width, _, view_width = _svg_size(small)
    assert width == pytest.approx(view_width * 100 / 72, abs=0.1) and width < _figures.MAX_WIDTH_PX

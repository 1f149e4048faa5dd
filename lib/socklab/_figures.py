"""Matplotlib figures that show as pictures in Jupyter without importing pyplot.

socklab draws with ``matplotlib.figure.Figure`` only (no global pyplot state, works on any
backend), but IPython renders a bare Figure as ``<Figure size ...>`` text until pyplot has been
imported. Registering an SVG printer for Figure fixes that for every socklab diagram.

Why SVG with text kept as text: the diagrams are boxes, arrows and words, and rasterising every
glyph into a PNG was most of a figure's cost (a notebook draws several). The browser sets the
text itself (any Hangul font it has), the output is a tenth of the PNG's size, and it stays sharp.
"""
from __future__ import annotations

SVG = "image/svg+xml"
MAX_WIDTH_PX = 860   # JupyterLab's output column in a 1400 px window with the file browser open
_PX_PER_INCH = 100   # the size the PNGs had (IPython draws them at 100 dpi)


def figure_svg(fig) -> str:
    """`fig` as SVG text, cropped to what is drawn, text as <text> (not glyph outlines).

    JupyterLab shows an SVG output at its own size (an <img> it never shrinks, unlike a PNG), so
    the size is set in px: as large as the PNG was (100 px per inch), but never wider than a
    notebook's output column (`MAX_WIDTH_PX`), the aspect kept.
    """
    import io
    import re

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    start = svg.index("<svg")
    root = svg[start:svg.index(">", start)]
    width, height = (float(re.search(rf'\b{key}="([0-9.]+)pt"', root).group(1)) for key in ("width", "height"))
    scale = min(_PX_PER_INCH / 72, MAX_WIDTH_PX / width)
    sized = re.sub(r'\bwidth="[0-9.]+pt"', f'width="{width * scale:.1f}px"', root, count=1)
    sized = re.sub(r'\bheight="[0-9.]+pt"', f'height="{height * scale:.1f}px"', sized, count=1)
    return svg[:start] + sized + svg[start + len(root):]


def register_figure_display() -> None:
    """Let a returned or displayed Figure show as a picture (SVG) in Jupyter (no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "display_formatter"):
        return
    from matplotlib.figure import Figure
    svg = ip.display_formatter.formatters[SVG]
    if Figure in svg.type_printers:
        return
    svg.for_type(Figure, figure_svg)


def blank_axes(ax) -> None:
    """Hide `ax`'s frame, ticks and tick labels: a diagram, not a plot.

    ``axis("off")`` alone still lays out every tick label to find the figure's bounding box (a
    third of a diagram's drawing time); hiding the axes skips that work and changes no pixel.
    """
    ax.axis("off")
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)


def show_figure(fig, fallback_text: str | None = None) -> None:
    """Display `fig` as a picture in a notebook; elsewhere print `fallback_text` (if given)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        register_figure_display()
        display(fig)
    elif fallback_text is not None:
        print(fallback_text)


# -- Korean text ---------------------------------------------------------------------------------
# matplotlib's default font (DejaVu Sans) has no Hangul, and a missing glyph is a warning (an error
# under our pytest config) plus empty boxes for the student. So figures carry Korean only when a
# Hangul font is really there (Debian's fonts-nanum in CI), and fall back to English otherwise.
_HANGUL_FAMILIES = ("NanumGothic", "NanumBarunGothic", "NanumSquare", "Noto Sans CJK KR", "Noto Sans KR",
                    "Malgun Gothic", "AppleGothic", "UnDotum")
_FONT_GLOBS = ("/usr/share/fonts/truetype/nanum/Nanum*.ttf", "/usr/share/fonts/opentype/noto/NotoSansCJK*.ttc",
               "/usr/share/fonts/**/Nanum*.ttf")
_found: list[str | None] = []


def korean_font() -> str | None:
    """The name of an installed font with Hangul (e.g. 'NanumGothic'), or None.

    Fonts installed after matplotlib built its font cache are added from the usual folders.
    """
    if _found:
        return _found[0]
    import glob

    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in _HANGUL_FAMILIES if n in names), None)

    name = known()
    if name is None:
        for pattern in _FONT_GLOBS:
            for path in sorted(glob.glob(pattern, recursive=True)):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # an unreadable font file is no reason to fail a figure
        name = known()
    _found.append(name)
    return name


def font_context():
    """rc_context for drawing: DejaVu Sans (Latin, arrows, symbols), then the Hangul font (if any).

    matplotlib takes each glyph from the first family that has it, so Hangul comes from the second.
    The generic "sans-serif" last is for the browser, which sets an SVG's text itself: without
    DejaVu Sans (Windows, macOS) it takes its own sans font, not its default serif one.
    """
    import matplotlib

    family = [f for f in ("DejaVu Sans", korean_font(), "sans-serif") if f]
    return matplotlib.rc_context({"font.family": family, "axes.unicode_minus": False})


def ko_en(ko: str, en: str, sep: str = "\n") -> str:
    """'ko<sep>en' when a Hangul font is installed, else only the English text (no empty boxes)."""
    return f"{ko}{sep}{en}" if korean_font() else en

"""Matplotlib figures that show as pictures in Jupyter without importing pyplot.

socklab draws with ``matplotlib.figure.Figure`` only (no global pyplot state, works on any
backend), but IPython renders a bare Figure as ``<Figure size ...>`` text until pyplot has been
imported. Registering a PNG printer for Figure fixes that for every socklab diagram.
"""
from __future__ import annotations


def register_figure_png() -> None:
    """Let a returned or displayed Figure show as a PNG in Jupyter (no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "display_formatter"):
        return
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure
    png = ip.display_formatter.formatters["image/png"]
    if Figure in png.type_printers:
        return
    png.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


def show_figure(fig, fallback_text: str | None = None) -> None:
    """Display `fig` as a picture in a notebook; elsewhere print `fallback_text` (if given)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        register_figure_png()
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
    """
    import matplotlib

    family = [f for f in ("DejaVu Sans", korean_font()) if f]
    return matplotlib.rc_context({"font.family": family, "axes.unicode_minus": False})


def ko_en(ko: str, en: str, sep: str = "\n") -> str:
    """'ko<sep>en' when a Hangul font is installed, else only the English text (no empty boxes)."""
    return f"{ko}{sep}{en}" if korean_font() else en

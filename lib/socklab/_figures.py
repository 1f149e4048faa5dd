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

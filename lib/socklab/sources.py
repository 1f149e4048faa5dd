"""Text sources → nbgrader source notebooks: ``solutions/chNN/NN.M-title.md`` → ``….ipynb``.

The course is written as jupytext MyST Markdown (``md:myst``): prose reads and diffs as prose,
nbgrader's cell metadata sits beside each cell (``+++ {"nbgrader": …}`` for Markdown, a YAML
block for ``{code-cell}``). ``build_notebook`` turns one source into the notebook nbgrader reads,
byte-stable: cell ids come from the nbgrader ``grade_id`` (``q03_1_layers`` → ``q03-1-layers``)
or, for a plain cell, from the notebook's slug and position (``03-1-c08``) — never random — and
the JSON is written the way ``release.normalise_notebook`` writes it.
"""
from __future__ import annotations

import json
import pathlib
import re

__all__ = ["SourceError", "build_notebook", "cell_id", "slug_of", "KERNELSPEC"]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SourceError(ValueError):
    """A text source cannot become a notebook; the message names the file and the cell."""


def slug_of(stem: str) -> str:
    """The id prefix of a notebook's plain cells.

    >>> slug_of("03.1-what-is-a-socket")
    '03-1'
    """
    return stem.split("-", 1)[0].replace(".", "-")


def cell_id(cell: dict, index: int, slug: str) -> str:
    """A cell's stable id: its grade_id with ``_`` → ``-``, else ``<slug>-cNN`` (1-based position).

    >>> cell_id({"metadata": {"nbgrader": {"grade_id": "q03_1_layers"}}}, 6, "03-1")
    'q03-1-layers'
    >>> cell_id({"metadata": {}}, 8, "03-1")
    '03-1-c08'
    """
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return (grade_id or f"{slug}-c{index:02d}").replace("_", "-")[:64]


def build_notebook(path: str | pathlib.Path) -> str:
    """The nbgrader source notebook (JSON text) that the MyST source at `path` describes.

    Outputs and execution counts are empty; the notebook metadata is the source's kernelspec
    plus ``language_info`` (jupytext's own header is dropped: it describes the text file).
    """
    import jupytext

    from socklab.release import normalise_notebook

    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    try:
        nb = jupytext.reads(text, fmt="md:myst")
    except Exception as exc:  # jupytext raises many kinds; all mean "this is not valid MyST"
        raise SourceError(f"{path}: not a jupytext MyST notebook ({type(exc).__name__}: {exc})") from None
    slug = slug_of(path.stem)
    seen: dict[str, int] = {}
    cells = []
    for index, cell in enumerate(nb.cells, 1):
        data = dict(cell)
        data.pop("id", None)
        data["metadata"] = json.loads(json.dumps(cell.metadata))
        cid = cell_id(data, index, slug)
        if not _ID.match(cid):
            raise SourceError(f"{path}: cell {index}: grade_id {cid!r} may only use letters, digits, '_' and '-'")
        if cid in seen:
            raise SourceError(f"{path}: cells {seen[cid]} and {index} have the same grade_id ({cid!r}): "
                              f"nbgrader needs each grade_id once; rename one")
        seen[cid] = index
        data["id"] = cid
        if data["cell_type"] == "code":
            data["execution_count"] = None
            data["outputs"] = []
        data["source"] = _lines(cell.source)
        cells.append(data)
    metadata = {"kernelspec": dict(nb.metadata.get("kernelspec") or KERNELSPEC),
                "language_info": {"name": "python"}}
    out = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return normalise_notebook(json.dumps(out, ensure_ascii=False))


def _lines(text: str) -> list[str]:
    # nbformat's on-disk form: a list of lines, each keeping its "\n" (only "\n" splits, as nbformat does).
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

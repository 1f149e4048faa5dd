"""Build solutions/ch05/*.ipynb from their jupytext MyST sources (solutions/ch05/*.md).

    .venv/bin/python tools/ch05_build.py          # write
    .venv/bin/python tools/ch05_build.py --check  # exit 1 if a committed notebook differs

Stop-gap until `socklab release` builds notebooks from .md (the authoring branch): cell ids come
from grade ids (`_` → `-`) or a stable `<slug>-cNN` counter, so rebuilding gives the same bytes.
"""
from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDER = ROOT / "solutions" / "ch05"


def build(md: pathlib.Path) -> str:
    import jupytext

    from socklab.release import normalise_notebook

    nb = jupytext.read(md, fmt="md:myst")
    slug = md.stem.split("-", 1)[0].replace(".", "_")
    for n, cell in enumerate(nb.cells, 1):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = (gid or f"{slug}-c{n:02d}").replace("_", "-")[:64]
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return normalise_notebook(jupytext.writes(nb, fmt="ipynb"))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for md in sorted(FOLDER.glob("*.md")):
        out = md.with_suffix(".ipynb")
        text = build(md)
        if out.is_file() and out.read_text(encoding="utf-8") == text:
            continue
        stale.append(out.name)
        if not check:
            out.write_text(text, encoding="utf-8")
    for name in stale:
        print(("stale: " if check else "wrote: ") + f"solutions/ch05/{name}")
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Write solutions/ch03/*.ipynb (nbgrader source notebooks) from the content in tools/ch03/.

    .venv/bin/python tools/ch03_source.py          # write
    .venv/bin/python tools/ch03_source.py --check  # exit 1 if a committed notebook differs

The committed .ipynb files are the source of truth for nbgrader; this script is how they are
written, so that prose, prompts and tests are reviewed as Python diffs. Outputs are never stored.
"""
from __future__ import annotations

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from ch03 import nb_03_1, nb_03_2, nb_03_3  # noqa: E402

NOTEBOOKS = {
    "03.1-what-is-a-socket.ipynb": nb_03_1.build,
    "03.2-network-models.ipynb": nb_03_2.build,
    "03.3-service-ports.ipynb": nb_03_3.build,
}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    out = ROOT / "solutions" / "ch03"
    out.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, build in NOTEBOOKS.items():
        text = build().json()
        path = out / name
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not check:
            path.write_text(text, encoding="utf-8")
    for name in stale:
        print(("stale: " if check else "wrote: ") + f"solutions/ch03/{name}")
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make bench`: run every bench/bench_*.py, print one table, write bench/results/<stamp>.json.

Each module exposes run() -> list of dicts {name, value, unit, baseline, ratio, goal}; ratios are
measured side by side in this one run, never against numbers from another machine or day.
"""
from __future__ import annotations

import importlib.util
import json
import pathlib
import platform
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def _load(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    only = set(argv)
    rows: list[dict] = []
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        area = path.stem.removeprefix("bench_")
        if only and area not in only:
            continue
        print(f"== {area}", flush=True)
        try:
            for row in _load(path).run():
                row.setdefault("area", area)
                rows.append(row)
                _print_row(row)
        except Exception as exc:  # one broken benchmark must not hide the others
            failed.append(area)
            print(f"   {area} failed: {type(exc).__name__}: {exc}", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    doc = {"when": stamp, "python": sys.version.split()[0], "machine": platform.machine(), "rows": rows,
           "failed": failed}
    (out / f"{stamp}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    (out / "latest.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    print(f"\nwrote {out / (stamp + '.json')}")
    return 1 if failed else 0


def _print_row(row: dict) -> None:
    base = row.get("baseline")
    ratio = row.get("ratio")
    base_s = f"{base:10.3f}" if isinstance(base, (int, float)) else " " * 10
    ratio_s = f"{ratio:6.2f}x" if isinstance(ratio, (int, float)) else " " * 7
    print(f"   {row['name']:<58} {row['value']:10.3f} {row['unit']:<4} base {base_s} {ratio_s}  goal {row.get('goal', '')}",
          flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

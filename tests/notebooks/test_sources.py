"""Text sources (jupytext MyST) → nbgrader source notebooks: content, ids, points, errors."""
from __future__ import annotations

import json
import pathlib

import pytest

from nbtools import ALL_IDS, ALL_NOTEBOOKS, COURSE, ROOT, load, nbgrader_meta
from socklab.release import ReleaseError, release
from socklab.sources import SourceError, build_notebook


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=ALL_IDS)
def test_building_is_byte_stable_and_matches_the_committed_notebook(notebook):
    """Does building a text source twice give the same bytes, equal to the committed solutions .ipynb?"""
    once, twice = build_notebook(ROOT / notebook.source), build_notebook(ROOT / notebook.source)
    assert once == twice
    assert once == (ROOT / notebook.solution).read_text(encoding="utf-8"), f"{notebook.solution} is stale: run `make release`"


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=ALL_IDS)
def test_points_in_the_course_map_equal_the_notebooks_grade_cells(notebook):
    """Does course.toml give each notebook exactly the points its grade cells add up to?"""
    cells = load(ROOT / notebook.solution)["cells"]
    total = sum(nbgrader_meta(c).get("points", 0) for c in cells if nbgrader_meta(c).get("grade"))
    assert notebook.points == total, f"course.toml says {notebook.file} is worth {notebook.points}, its grade cells add up to {total}"


def test_every_text_source_is_in_the_course_map_and_the_other_way_round():
    """Is each solutions/chNN/*.md a notebook of course.toml, and each notebook there a .md on disk?"""
    on_disk = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "solutions").glob("ch[0-9][0-9]/*.md"))
    assert on_disk == sorted(nb.source for nb in COURSE.notebooks())


MYST = """---
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# A title

```{code-cell} ipython3
print("demo")
```
"""
GRADE_CELL = """
```{code-cell} ipython3
---
nbgrader:
  grade: true
  grade_id: q99_1_thing
  locked: true
  points: 2
  schema_version: 3
  solution: false
  task: false
---
assert True
```
"""
MYST += GRADE_CELL


def test_ids_come_from_grade_ids_or_the_position_and_metadata_is_kept(tmp_path):
    """Do plain cells get <slug>-cNN, graded cells their grade_id, and does nbgrader metadata survive as typed?"""
    path = tmp_path / "99.1-thing.md"
    path.write_text(MYST, encoding="utf-8")
    nb = json.loads(build_notebook(path))
    assert [c["id"] for c in nb["cells"]] == ["99-1-c01", "99-1-c02", "q99-1-thing"]
    meta = nb["cells"][2]["metadata"]["nbgrader"]
    assert meta["points"] == 2 and meta["grade"] is True and meta["schema_version"] == 3
    assert nb["cells"][1]["outputs"] == [] and nb["cells"][1]["execution_count"] is None
    assert "jupytext" not in nb["metadata"]


def test_a_grade_id_used_twice_is_refused_with_both_cells_named(tmp_path):
    """Does a source whose two cells share a grade_id get an error naming both, not a silently broken notebook?"""
    path = tmp_path / "99.1-thing.md"
    path.write_text(MYST + GRADE_CELL, encoding="utf-8")
    with pytest.raises(SourceError, match=r"cells 3 and 4 have the same grade_id \('q99-1-thing'\)"):
        build_notebook(path)


def _scratch(tmp_path) -> pathlib.Path:
    from support import copy_course
    return copy_course(tmp_path / "course", ROOT)


def test_a_text_source_missing_from_the_map_stops_the_release_with_what_to_add(tmp_path):
    """Does a .md that course.toml does not list stop the release, saying which block to add?"""
    root = _scratch(tmp_path)
    (root / "solutions" / "ch03" / "03.4-extra.md").write_text(MYST, encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"03.4-extra.md is not in course.toml: add a \[\[chapters.notebooks\]\] block"):
        release(root=root, check=True)


def test_points_that_disagree_with_the_map_stop_the_release_saying_both_numbers(tmp_path):
    """When a grade cell's points change but course.toml does not, does release say which numbers disagree?"""
    root = _scratch(tmp_path)
    md = root / "solutions" / "ch03" / "03.1-what-is-a-socket.md"
    text = md.read_text(encoding="utf-8")
    import re
    from socklab.course import load_course
    points = int(re.search(r"grade_id: q03_1_layers\n  locked: true\n  points: (\d+)\n", text).group(1))
    mapped = load_course(root=root).chapter("ch03").notebooks[0].points
    md.write_text(text.replace(f"grade_id: q03_1_layers\n  locked: true\n  points: {points}\n",
                               f"grade_id: q03_1_layers\n  locked: true\n  points: {points + 1}\n"), encoding="utf-8")
    with pytest.raises(ReleaseError, match=rf"add up to {mapped + 1} points but course.toml says points = {mapped} "
                                           r"for '03.1-what-is-a-socket'"):
        release(root=root, check=True)


def test_a_hand_edited_built_notebook_is_not_overwritten(tmp_path):
    """When solutions/*.ipynb was edited after its .md, does release stop (writing nothing) and say how to keep the edit?"""
    import os
    root = _scratch(tmp_path)
    built = root / "solutions" / "ch03" / "03.2-network-models.ipynb"
    edited = built.read_text(encoding="utf-8").replace("03.2 네트워크 연결 모델", "03.2 네트워크 연결 모델 (edited)", 1)
    built.write_text(edited, encoding="utf-8")
    md = built.with_suffix(".md").stat()
    os.utime(built, ns=(md.st_atime_ns, md.st_mtime_ns + 10**9))
    with pytest.raises(ReleaseError, match=r"03.2-network-models.ipynb was changed after its text source .*"
                                           r"`jupytext --to md:myst solutions/ch03/03.2-network-models.ipynb`"):
        release(root=root)
    assert built.read_text(encoding="utf-8") == edited


def test_a_notebook_in_the_map_without_its_text_source_is_a_clear_error(tmp_path):
    """Does a map entry whose .md is missing say which file to write?"""
    root = _scratch(tmp_path)
    (root / "solutions" / "ch03" / "03.2-network-models.md").unlink()
    with pytest.raises(ReleaseError, match=r"solutions/ch03/03.2-network-models.md is missing"):
        release(root=root, check=True)

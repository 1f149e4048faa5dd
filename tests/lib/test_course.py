"""The course map (course.toml) read through socklab.course: the real file, and bad ones."""
from __future__ import annotations

import pathlib

import pytest

from socklab.course import NEEDS, CourseError, load_course, with_chapter_table

ROOT = pathlib.Path(__file__).resolve().parents[2]

GOOD = '''
[[chapters]]
id = "ch04"
title_ko = "주소"
title_en = "Addresses"
book_chapter = 4
book_mapping = "provisional"
book_note = "guess"
needs = "namespace"
goals_ko = ["하나"]
goals_en = ["one"]
  [[chapters.notebooks]]
  file = "04.1-addresses"
  title_ko = "주소"
  title_en = "Addresses"
  points = 20
  needs = "namespace"
'''


def write(tmp_path, text: str) -> pathlib.Path:
    (tmp_path / "course.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_real_map_has_chapter_3_confirmed_from_its_slides():
    """Does course.toml load, with ch03 first, mapped to book chapter 3 (confirmed) and its three notebooks?"""
    course = load_course(root=ROOT)
    ch03 = course.chapter("ch03")
    assert course.ids[0] == "ch03" and ch03.book_chapter == 3 and ch03.book_mapping == "confirmed"
    assert [nb.file for nb in ch03.notebooks] == ["03.1-what-is-a-socket", "03.2-network-models", "03.3-service-ports"]
    assert ch03.notebooks[0].points == 26 and ch03.points == sum(nb.points for nb in ch03.notebooks) >= 50
    assert ch03.notebooks[0].source == "solutions/ch03/03.1-what-is-a-socket.md"
    assert all(ch.book_mapping == "provisional" for ch in course.chapters if ch.id != "ch03")
    assert all(ch.needs in NEEDS and ch.goals_ko and ch.goals_en for ch in course.chapters)


def test_readme_chapter_table_is_the_one_generated_from_the_map():
    """Is the README's chapter table exactly what course.toml generates (`make release` rewrites it)?"""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == with_chapter_table(readme, load_course(root=ROOT)), "README chapter table is stale: run `make release`"


def test_a_good_block_loads_into_typed_records(tmp_path):
    """Does a well-formed chapter block come back as typed records with the notebook's paths?"""
    course = load_course(root=write(tmp_path, GOOD))
    ch = course.chapter("ch04")
    assert ch.goals_en == ("one",) and ch.notebooks[0].student == "notebooks/ch04/04.1-addresses.ipynb"
    with pytest.raises(CourseError, match=r"'ch05' is not a chapter of .* \(chapters: ch04\)"):
        course.chapter("ch05")


@pytest.mark.parametrize("change, message", [
    (('needs = "namespace"\ngoals', 'needs = "everything"\ngoals'),
     r"chapter ch04: 'needs' is 'everything'; use one of: 'nothing', 'ping socket', 'namespace', 'root'"),
    (('points = 20', 'points = "20"'), r"chapter ch04, notebook 1: 'points' must be a int, got '20'"),
    (('book_mapping = "provisional"', 'book_mapping = "maybe"'), r"'book_mapping' is 'maybe'"),
    (('file = "04.1-addresses"', 'file = "05.1-addresses"'), r"must start with the chapter number 04\."),
    (('file = "04.1-addresses"', 'file = "04.1 Addresses"'), r"'file' is '04.1 Addresses'; it must look like"),
    (('title_en = "Addresses"\nbook', 'book'), r"chapter ch04: missing key 'title_en'"),
    (('goals_en = ["one"]', 'goals_en = ["one"]\ngoal_en = ["typo"]'), r"unknown key\(s\) 'goal_en'"),
    (('needs = "namespace"\ngoals', 'needs = "nothing"\ngoals'),
     r"'needs' is 'nothing' but a notebook needs 'namespace'"),
    (('id = "ch04"', 'id = "ch04'), r"not valid TOML"),
])
def test_a_bad_map_gets_an_error_naming_the_place_and_the_fix(tmp_path, change, message):
    """Does each kind of mistake in course.toml get a CourseError that says where it is and what is expected?"""
    with pytest.raises(CourseError, match=message):
        load_course(root=write(tmp_path, GOOD.replace(*change, 1)))


def test_a_chapter_listed_twice_or_no_file_at_all_is_refused(tmp_path):
    """Does a duplicated chapter id, or a missing course.toml, get a clear error?"""
    with pytest.raises(CourseError, match="chapter id\\(s\\) listed twice: ch04"):
        load_course(root=write(tmp_path, GOOD + GOOD))
    with pytest.raises(CourseError, match="no course.toml in"):
        load_course(root=tmp_path / "elsewhere")


def test_grade_names_the_chapters_of_the_map(capsys):
    """Does `socklab grade` list the course map's chapters in its help, and refuse one the map lacks?"""
    from socklab.cli import build_parser, main

    assert main(["grade", "ch99", "--root", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "'ch99' is not a chapter of course.toml; chapters: " + ", ".join(load_course(root=ROOT).ids) in err
    import os
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        help_text = build_parser()._subparsers._group_actions[0].choices["grade"].format_help()
    finally:
        os.chdir(here)
    help_text = " ".join(help_text.split())  # argparse wraps lines
    assert "ch03" in help_text and "(from course.toml)" in help_text

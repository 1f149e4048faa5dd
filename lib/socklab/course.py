"""The course map: ``course.toml`` at the course root, read into typed records.

One ``[[chapters]]`` block per chapter lists its titles, the textbook chapter it follows, its
learning goals, what it needs from the machine and its notebooks (with their points). `socklab
release`, `socklab grade`, the README's chapter table and the tests all read it through
``load_course()``, so adding a chapter is one block plus its sources in ``solutions/chNN/``.

A file that does not follow the schema raises ``CourseError`` naming the file, the chapter and
the key, and saying what is expected.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re
import tomllib

__all__ = ["CourseError", "Course", "Chapter", "Notebook", "NEEDS", "load_course", "find_root",
           "chapter_table", "with_chapter_table"]

FILE_NAME = "course.toml"
# From least to most: what a chapter or notebook needs from the machine (see socklab.packets.tier).
NEEDS = ("nothing", "ping socket", "namespace", "root")
MAPPINGS = ("confirmed", "provisional")
_CHAPTER_ID = re.compile(r"^ch\d\d$")
_STEM = re.compile(r"^\d\d\.\d+-[a-z0-9]+(-[a-z0-9]+)*$")


class CourseError(ValueError):
    """course.toml is missing or does not follow the schema; the message says where and what to do."""


@dataclasses.dataclass(frozen=True)
class Notebook:
    """One notebook of a chapter: ``file`` is its stem (``03.1-what-is-a-socket``)."""

    file: str
    title_ko: str
    title_en: str
    points: int
    needs: str
    chapter: str

    @property
    def source(self) -> str:
        """Its text source, relative to the course root (``solutions/ch03/03.1-....md``)."""
        return f"solutions/{self.chapter}/{self.file}.md"

    @property
    def solution(self) -> str:
        """The nbgrader source notebook built from it (``solutions/ch03/03.1-....ipynb``)."""
        return f"solutions/{self.chapter}/{self.file}.ipynb"

    @property
    def student(self) -> str:
        """The released student notebook (``notebooks/ch03/03.1-....ipynb``)."""
        return f"notebooks/{self.chapter}/{self.file}.ipynb"


@dataclasses.dataclass(frozen=True)
class Chapter:
    """One chapter = one nbgrader assignment (``id``, e.g. ``ch03``)."""

    id: str
    title_ko: str
    title_en: str
    book_chapter: int
    book_mapping: str
    book_note: str
    needs: str
    goals_ko: tuple[str, ...]
    goals_en: tuple[str, ...]
    notebooks: tuple[Notebook, ...]

    @property
    def points(self) -> int:
        """The chapter's total points (its notebooks' sum)."""
        return sum(nb.points for nb in self.notebooks)


@dataclasses.dataclass(frozen=True)
class Course:
    """The whole map: chapters in teaching order."""

    root: pathlib.Path
    chapters: tuple[Chapter, ...]

    @property
    def ids(self) -> list[str]:
        """Chapter (assignment) ids in order, e.g. ``['ch03']``."""
        return [ch.id for ch in self.chapters]

    def chapter(self, chapter_id: str) -> Chapter:
        """The chapter called `chapter_id`; a clear ``CourseError`` lists the known ones."""
        for ch in self.chapters:
            if ch.id == chapter_id:
                return ch
        raise CourseError(f"{chapter_id!r} is not a chapter of {self.root / FILE_NAME} "
                          f"(chapters: {', '.join(self.ids) or 'none'})")

    def notebooks(self) -> list[Notebook]:
        """Every notebook of every chapter, in order."""
        return [nb for ch in self.chapters for nb in ch.notebooks]


def find_root(start: str | pathlib.Path = ".") -> pathlib.Path | None:
    """The nearest folder at or above `start` that holds a course.toml, or None."""
    here = pathlib.Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / FILE_NAME).is_file():
            return folder
    return None


class _Table:
    """Reads one TOML table with the error context ("chapter ch03, notebook 2")."""

    def __init__(self, data, where: str, path: pathlib.Path) -> None:
        self.path, self.where = path, where
        if not isinstance(data, dict):
            self.fail(f"expected a table, got {type(data).__name__}")
        self.data = data

    def fail(self, message: str):
        raise CourseError(f"{self.path}: {self.where}: {message}")

    def get(self, key: str, kind: type, *, choices=None, pattern=None, default=None):
        if key not in self.data:
            if default is not None:
                return default
            self.fail(f"missing key {key!r}")
        value = self.data[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            self.fail(f"{key!r} must be a {kind.__name__}, got {value!r}")
        if choices and value not in choices:
            self.fail(f"{key!r} is {value!r}; use one of: {', '.join(map(repr, choices))}")
        if pattern and not pattern.match(value):
            self.fail(f"{key!r} is {value!r}; it must look like {pattern.pattern}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list)
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"{key!r} must be a non-empty list of non-empty strings")
        return tuple(value)

    def unknown(self, allowed: set[str]) -> None:
        extra = sorted(set(self.data) - allowed)
        if extra:
            self.fail(f"unknown key(s) {', '.join(map(repr, extra))} (known: {', '.join(sorted(allowed))})")


_NOTEBOOK_KEYS = {"file", "title_ko", "title_en", "points", "needs"}
_CHAPTER_KEYS = {"id", "title_ko", "title_en", "book_chapter", "book_mapping", "book_note", "needs",
                 "goals_ko", "goals_en", "notebooks"}


def _notebook(data, where: str, path: pathlib.Path, chapter: str) -> Notebook:
    t = _Table(data, where, path)
    t.unknown(_NOTEBOOK_KEYS)
    file = t.get("file", str, pattern=_STEM)
    if not file.startswith(chapter[2:] + "."):
        t.fail(f"'file' {file!r} must start with the chapter number {chapter[2:]}. (solutions/{chapter}/{chapter[2:]}.M-title)")
    points = t.get("points", int)
    if points < 0:
        t.fail(f"'points' must be >= 0, got {points}")
    return Notebook(file=file, title_ko=t.get("title_ko", str), title_en=t.get("title_en", str), points=points,
                    needs=t.get("needs", str, choices=NEEDS), chapter=chapter)


def _chapter(data, index: int, path: pathlib.Path) -> Chapter:
    t = _Table(data, f"chapter {index}", path)
    cid = t.get("id", str, pattern=_CHAPTER_ID)
    t.where = f"chapter {cid}"
    t.unknown(_CHAPTER_KEYS)
    raw = t.get("notebooks", list)
    if not raw:
        t.fail("no [[chapters.notebooks]] blocks: a chapter needs at least one notebook")
    notebooks = tuple(_notebook(nb, f"chapter {cid}, notebook {i}", path, cid) for i, nb in enumerate(raw, 1))
    stems = [nb.file for nb in notebooks]
    if len(set(stems)) != len(stems):
        t.fail(f"a notebook file is listed twice: {stems}")
    needs = t.get("needs", str, choices=NEEDS)
    most = max((NEEDS.index(nb.needs) for nb in notebooks), default=0)
    if NEEDS.index(needs) < most:
        t.fail(f"'needs' is {needs!r} but a notebook needs {NEEDS[most]!r}: the chapter states the most any notebook needs")
    book = t.get("book_chapter", int)
    if book < 1:
        t.fail(f"'book_chapter' must be a chapter number >= 1, got {book}")
    return Chapter(id=cid, title_ko=t.get("title_ko", str), title_en=t.get("title_en", str), book_chapter=book,
                   book_mapping=t.get("book_mapping", str, choices=MAPPINGS), book_note=t.get("book_note", str),
                   needs=needs, goals_ko=t.strings("goals_ko"), goals_en=t.strings("goals_en"), notebooks=notebooks)


def load_course(*, root: str | pathlib.Path = ".") -> Course:
    """Read ``course.toml`` from the course `root` into a ``Course`` (chapters in file order).

    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "course.toml").write_text('[[chapters]]\\nid = "ch3"\\n', encoding="utf-8")
    >>> load_course(root=root)
    Traceback (most recent call last):
    ...
    socklab.course.CourseError: .../course.toml: chapter 1: 'id' is 'ch3'; it must look like ^ch\\d\\d$
    """
    root = pathlib.Path(root).resolve()
    path = root / FILE_NAME
    if not path.is_file():
        raise CourseError(f"no {FILE_NAME} in {root}: run from the course root or pass root= "
                          f"(the course map lists the chapters; see the README, 'Adding an exercise')")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"chapters"})
    if extra:
        raise CourseError(f"{path}: unknown top-level key(s) {', '.join(map(repr, extra))}: only [[chapters]] blocks belong here")
    raw = data.get("chapters")
    if not isinstance(raw, list) or not raw:
        raise CourseError(f"{path}: no [[chapters]] blocks")
    chapters = tuple(_chapter(ch, i, path) for i, ch in enumerate(raw, 1))
    ids = [ch.id for ch in chapters]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CourseError(f"{path}: chapter id(s) listed twice: {', '.join(dupes)}")
    return Course(root=root, chapters=chapters)


TABLE_BEGIN, TABLE_END = "<!-- chapters:begin -->", "<!-- chapters:end -->"


def with_chapter_table(readme: str, course: Course) -> str:
    """`readme` with the text between the chapters:begin/end markers replaced by ``chapter_table``."""
    head, sep, rest = readme.partition(TABLE_BEGIN)
    _, sep2, tail = rest.partition(TABLE_END)
    if not (sep and sep2):
        raise CourseError(f"the README has no {TABLE_BEGIN} … {TABLE_END} block for the chapter table")
    return f"{head}{TABLE_BEGIN}\n{chapter_table(course)}\n{TABLE_END}{tail}"


def chapter_table(course: Course) -> str:
    """The README's chapter table (Markdown), generated from the map."""
    lines = ["| chapter | title | book | notebooks | points | needs |", "| --- | --- | --- | --- | --- | --- |"]
    for ch in course.chapters:
        mapping = f"ch. {ch.book_chapter}" + ("" if ch.book_mapping == "confirmed" else " (provisional)")
        nbs = "<br>".join(f"`{nb.file}` {nb.title_en} ({nb.points})" for nb in ch.notebooks)
        lines.append(f"| `{ch.id}` | {ch.title_ko}<br>{ch.title_en} | {mapping} | {nbs} | {ch.points} | {ch.needs} |")
    return "\n".join(lines)

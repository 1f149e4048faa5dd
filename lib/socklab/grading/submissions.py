"""Find submissions in nbgrader's layout, and import loose notebooks from an LMS export.

nbgrader layout: ``grader/submitted/<student>/<assignment>/<notebook>.ipynb``.

An LMS export is a folder or a zip of notebooks whose *file name* carries the student id:
``<student>_<notebook>.ipynb`` (also ``-`` or a space as separator, and LMS decorations such as
``_12345_67890`` after the id), or ``<student>/<notebook>.ipynb`` (one folder per student), or a
student's zipped workspace ``<student>/work/chNN/<notebook>.ipynb`` (``work/`` and ``chNN/`` optional).
Anything that cannot be matched is reported, never silently dropped.
"""
from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path, PurePosixPath

MAX_NOTEBOOK_BYTES = 50 << 20   # a zip bomb or a stray video is not a notebook
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@+-]*$")
_CHAPTER = re.compile(r"^ch\d+$")


@dataclasses.dataclass
class Submission:
    student: str
    folder: Path
    notebooks: dict[str, Path]          # expected name -> file
    missing: list[str]                  # expected names without a file
    unexpected: list[str]               # *.ipynb files that match no expected name


def find_submissions(submitted_root: Path, assignment: str, expected: list[str],
                     students: list[str] | None = None) -> list[Submission]:
    """Every ``<student>/<assignment>/`` folder under `submitted_root` (or just `students`)."""
    found = []
    root = Path(submitted_root)
    names = students or sorted(p.parent.name for p in root.glob(f"*/{assignment}") if p.is_dir())
    for student in names:
        folder = root / student / assignment
        if not folder.is_dir():
            raise FileNotFoundError(f"no submission folder {folder} for student {student!r}")
        files = {p.stem: p for p in folder.glob("*.ipynb")}
        found.append(Submission(
            student=student, folder=folder,
            notebooks={name: files[name] for name in expected if name in files},
            missing=[name for name in expected if name not in files],
            unexpected=sorted(f"{stem}.ipynb" for stem in files if stem not in expected)))
    return found


@dataclasses.dataclass
class ImportReport:
    imported: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)   # (student, notebook, source)
    unmatched: list[tuple[str, str]] = dataclasses.field(default_factory=list)       # (source, reason)

    def text(self) -> str:
        lines = [f"imported {len(self.imported)} notebook(s) for "
                 f"{len({s for s, _, _ in self.imported})} student(s)"]
        lines += [f"  NOT imported: {src}: {reason}" for src, reason in self.unmatched]
        return "\n".join(lines)


def match_name(path: str, expected: list[str]) -> tuple[str | None, str | None, str]:
    """(student, notebook, reason) for one exported file path.

    >>> match_name("20231234_03.1-what-is-a-socket.ipynb", ["03.1-what-is-a-socket"])
    ('20231234', '03.1-what-is-a-socket', '')
    >>> match_name("kim/03.1-what-is-a-socket.ipynb", ["03.1-what-is-a-socket"])
    ('kim', '03.1-what-is-a-socket', '')
    >>> match_name("kim/work/ch03/03.1-what-is-a-socket.ipynb", ["03.1-what-is-a-socket"])  # a zipped workspace
    ('kim', '03.1-what-is-a-socket', '')
    >>> match_name("kim_homework.ipynb", ["03.1-what-is-a-socket"])[2]
    'file name matches no notebook of the assignment (expected one of: 03.1-what-is-a-socket.ipynb)'
    """
    p = PurePosixPath(path.replace("\\", "/"))
    if p.suffix != ".ipynb":
        return None, None, "not a notebook (.ipynb)"
    stem = p.stem
    # LMS re-uploads often append "-1", "(1)" or " 2" to the file name.
    stem = re.sub(r"(\s*\(\d+\)|-\d+| \d+)$", "", stem)
    for name in sorted(expected, key=len, reverse=True):
        if stem == name or stem.endswith(name):
            prefix = stem[: len(stem) - len(name)].strip("_- .")
            if not prefix:
                # <student>/<notebook>, or a student's zipped workspace <student>/[work/]chNN/<notebook>
                folders = [part for part in p.parent.parts if part not in ("", ".", "work")
                           and not _CHAPTER.match(part)]
                prefix = folders[-1] if folders else ""
            student = re.split(r"[_\s]+", prefix.strip("_- ."))[0] if prefix else ""
            if not student or not _ID.match(student):
                return None, name, f"cannot tell the student id from {path!r} (name files <student>_{name}.ipynb)"
            return student, name, ""
    listing = ", ".join(f"{n}.ipynb" for n in expected)
    return None, None, f"file name matches no notebook of the assignment (expected one of: {listing})"


def import_submissions(source: Path, *, submitted_root: Path, assignment: str,
                       expected: list[str]) -> ImportReport:
    """Copy notebooks from an LMS export folder or zip into the nbgrader layout."""
    source = Path(source)
    report = ImportReport()
    if not source.exists():
        raise FileNotFoundError(f"nothing to import at {source}")
    entries: list[tuple[str, callable, int]] = []
    if source.is_dir():
        for p in sorted(source.rglob("*")):
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts):
                entries.append((str(p.relative_to(source)), p.read_bytes, p.stat().st_size))
    elif zipfile.is_zipfile(source):
        archive = zipfile.ZipFile(source)
        for info in archive.infolist():
            if not info.is_dir() and not PurePosixPath(info.filename).name.startswith("."):
                entries.append((info.filename, lambda i=info: archive.read(i), info.file_size))
    else:
        raise ValueError(f"{source} is neither a folder nor a zip file")
    seen: dict[tuple[str, str], str] = {}
    for name, read, size in entries:
        student, notebook, reason = match_name(name, expected)
        if reason:
            report.unmatched.append((name, reason))
            continue
        if size > MAX_NOTEBOOK_BYTES:
            report.unmatched.append((name, f"larger than {MAX_NOTEBOOK_BYTES >> 20} MB"))
            continue
        if (student, notebook) in seen:
            report.unmatched.append((name, f"second file for {student}/{notebook} (kept {seen[student, notebook]})"))
            continue
        seen[student, notebook] = name
        dest = Path(submitted_root) / student / assignment / f"{notebook}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(read())
        report.imported.append((student, notebook, name))
    return report


def shipped_files(coursedir, assignment: str) -> set[str]:
    """Relative paths of the non-notebook files the assignment's release folder ships."""
    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    if not release.is_dir():
        return set()
    return {p.relative_to(release).as_posix() for p in release.rglob("*")
            if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts}

"""The student workspace work/: a student's notebooks survive everything the course regenerates."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from socklab import workspace

REPO = Path(__file__).resolve().parents[2]
NB = "ch03/03.1-what-is-a-socket.ipynb"


def _course(tmp_path: Path) -> Path:
    """A copy of the course: config, solutions/ and notebooks/ (no git, no gradebook)."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", root)
    if (REPO / "course.toml").is_file():
        shutil.copy2(REPO / "course.toml", root)
    (root / "grader").mkdir()
    shutil.copy2(REPO / "grader" / "nbgrader_config.py", root / "grader")
    for folder in ("solutions", "notebooks"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root


def _edit(path: Path, answer: str = "def layer_of(name):\n    return 'mine'\n") -> bytes:
    """Write an answer into the first solution cell, as saving in JupyterLab would; returns the bytes."""
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    cell["source"] = answer
    path.write_text(json.dumps(nb, indent=1))
    return path.read_bytes()


def _change_release(root: Path, rel: str = NB) -> None:
    nb = json.loads((root / "notebooks" / rel).read_text())
    nb["cells"][0]["source"] = "# 새 버전 / new release\n" + "".join(nb["cells"][0]["source"])
    (root / "notebooks" / rel).write_text(json.dumps(nb, indent=1))


def test_first_sync_copies_only_released_notebooks(tmp_path):
    """Does the first sync copy every released .ipynb into work/chNN/ and nothing else (no .md sources)?"""
    root = _course(tmp_path)
    (root / "notebooks" / "ch03" / "03.9-notes.md").write_text("# a text source, not a notebook\n")
    report = workspace.sync(root=root)
    released = sorted(p.relative_to(root / "notebooks").as_posix() for p in (root / "notebooks").glob("*/*.ipynb"))
    assert report.added == released and len(released) >= 3
    assert sorted(p.relative_to(root / "work").as_posix() for p in (root / "work").rglob("*")
                  if p.is_file() and not p.name.startswith(".")) == released
    again = workspace.sync(root=root)
    assert (again.added, again.updated, again.outdated) == ([], [], []) and again.kept == released


def test_edited_notebook_is_never_touched_and_untouched_one_follows_the_release(tmp_path):
    """After a new release, is an edited copy kept byte for byte (and reported), while an untouched one is updated?"""
    root = _course(tmp_path)
    workspace.sync(root=root)
    mine = _edit(root / "work" / NB)
    other = "ch03/03.2-network-models.ipynb"
    _change_release(root, NB)
    _change_release(root, other)
    report = workspace.sync(root=root)
    assert (root / "work" / NB).read_bytes() == mine
    assert report.outdated == [NB] and f"socklab fresh {NB}" in report.text()
    assert report.updated == [other]
    assert "새 버전 / new release" in (root / "work" / other).read_text()


def test_fresh_copy_keeps_the_old_work_as_a_backup(tmp_path):
    """Does `socklab fresh` back the old notebook up under work/backups/ (never overwriting a backup) first?"""
    root = _course(tmp_path)
    workspace.sync(root=root)
    mine = _edit(root / "work" / NB)
    when = dt.datetime(2026, 3, 1, 10, 15, 0)
    fresh, backup = workspace.fresh_copy(root=root, notebook="03.1", now=when)
    assert backup == root / "work" / "backups" / "ch03" / "03.1-what-is-a-socket.backup-20260301-101500.ipynb"
    assert backup.read_bytes() == mine and fresh == root / "work" / NB
    assert "return 'mine'" not in fresh.read_text()
    _edit(fresh, "def layer_of(name):\n    return 'second try'\n")
    _, second = workspace.fresh_copy(root=root, notebook=f"work/{NB}", now=when)
    assert second != backup and backup.read_bytes() == mine and "second try" in second.read_text()
    assert workspace.sync(root=root).outdated == []   # a fresh copy counts as untouched


def test_fresh_copy_of_an_unknown_notebook_says_what_exists(tmp_path):
    """Does asking for a notebook that was never released fail clearly, listing the released ones?"""
    root = _course(tmp_path)
    with pytest.raises(ValueError, match="03.1-what-is-a-socket.ipynb"):
        workspace.fresh_copy(root=root, notebook="09.9-nothing")


def test_cli_fresh(tmp_path):
    """Does `socklab fresh NOTEBOOK` in a fresh process print where the old work went?"""
    root = _course(tmp_path)
    workspace.sync(root=root)
    _edit(root / "work" / NB)
    done = subprocess.run([sys.executable, "-m", "socklab.cli", "fresh", NB, "--root", str(root)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "work/backups/ch03/03.1-what-is-a-socket.backup-" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "socklab.cli", "fresh", "nope", "--root", str(root)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Released notebooks" in bad.stderr


@pytest.mark.slow
def test_work_survives_make_release(tmp_path):
    """Does `socklab release` (what `make release` runs) rewrite notebooks/ yet leave work/ as the student left it?"""
    root = _course(tmp_path)
    workspace.sync(root=root)
    mine = _edit(root / "work" / NB)
    (root / "notebooks" / NB).write_text("{}")   # stale on purpose, so release must rewrite it
    done = subprocess.run([sys.executable, "-m", "socklab.cli", "release", "--root", str(root), "--no-gradebook"],
                          capture_output=True, text=True, timeout=240, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((root / "notebooks" / NB).read_text())["cells"], "release did not rewrite notebooks/"
    assert (root / "work" / NB).read_bytes() == mine


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def test_git_pull_of_a_new_chapter_keeps_work_and_adds_the_chapter(tmp_path):
    """Does a `git pull` that brings a new chapter merge cleanly, and does the next sync add it beside the kept work?"""
    upstream = _course(tmp_path)
    shutil.copy2(REPO / ".gitignore", upstream / ".gitignore")
    _git(upstream, "init", "-q", "-b", "main")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "ch03")
    clone = tmp_path / "student"
    _git(tmp_path, "clone", "-q", str(upstream), str(clone))
    workspace.sync(root=clone)
    mine = _edit(clone / "work" / NB)
    assert _git(clone, "status", "--porcelain") == "", "work/ must be invisible to git"

    chapter = upstream / "notebooks" / "ch98"   # a chapter the course does not have yet
    chapter.mkdir()
    shutil.copy2(upstream / "notebooks" / NB, chapter / "98.1-next-chapter.ipynb")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "ch98")
    _git(clone, "pull", "-q", "--ff-only")

    report = workspace.sync(root=clone)
    assert report.added == ["ch98/98.1-next-chapter.ipynb"]
    assert (clone / "work" / NB).read_bytes() == mine
    assert _git(clone, "status", "--porcelain") == ""


def test_grade_import_takes_a_zipped_workspace(tmp_path):
    """Does `socklab grade --import` file a student's zipped work/ folder under that student, and report the backups?"""
    import zipfile

    from socklab.grading.submissions import import_submissions

    root = _course(tmp_path)
    workspace.sync(root=root)
    _edit(root / "work" / NB)
    workspace.fresh_copy(root=root, notebook=NB)
    mine = _edit(root / "work" / NB, "def layer_of(name):\n    return 'second try'\n")
    archive = tmp_path / "kim.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted((root / "work").rglob("*.ipynb")):
            if "ch03" in path.parts:   # the ch03 hand-in: work/ch03/ and its backups
                z.write(path, "kim/work/" + path.relative_to(root / "work").as_posix())
    expected = [Path(p).stem for p in workspace._released(root) if p.startswith("ch03/")]
    report = import_submissions(archive, submitted_root=tmp_path / "submitted", assignment="ch03", expected=expected)
    assert sorted(n for _, n, _ in report.imported) == sorted(expected)
    assert {s for s, _, _ in report.imported} == {"kim"}
    assert (tmp_path / "submitted" / "kim" / "ch03" / "03.1-what-is-a-socket.ipynb").read_bytes() == mine
    assert [src for src, _ in report.unmatched] == [
        next(n for n in zipfile.ZipFile(archive).namelist() if "/backups/" in n)]

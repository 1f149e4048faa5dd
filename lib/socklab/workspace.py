"""A student's own copies of the released notebooks, in ``work/``, that nothing the course regenerates touches.

``notebooks/chNN/*.ipynb`` is the release folder: tracked by git and rewritten by ``make release``
(and by formgrader's *Generate*). A student who edits there loses work. So ``make lab`` first
calls :func:`sync`, which copies every released notebook into ``work/chNN/`` (git-ignored) when it
is not there yet, and the student lab opens on ``work/``:

* a notebook the student has never changed follows the release (it is replaced by the new
  version, since nothing of the student's is in it);
* a notebook the student changed is never touched; if the release changed meanwhile, the sync
  report says so and how to get the new version on purpose: :func:`fresh_copy` (``socklab fresh``)
  moves the old copy to ``work/backups/`` first, never overwriting anything silently.

What "never changed" means is recorded in ``work/.socklab-workspace.json``: the SHA-256 of each
release and of the copy as written. Only ``.ipynb`` files are copied (course sources are elsewhere);
a copy carries this Python's ``language_info``, as the kernel reports it.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RELEASE_DIR", "WORKSPACE_DIR", "SyncReport", "fresh_copy", "sync", "workspace_dir"]

RELEASE_DIR = "notebooks"
WORKSPACE_DIR = "work"
BACKUP_DIR = "backups"
_MANIFEST = ".socklab-workspace.json"


def workspace_dir(root: Path | str) -> Path:
    """The student workspace of the course at `root`: ``<root>/work``."""
    return Path(root) / WORKSPACE_DIR


@dataclass
class SyncReport:
    """What :func:`sync` did, as paths relative to the workspace."""

    workspace: Path
    added: list[str] = field(default_factory=list)       # new in the release: copied
    updated: list[str] = field(default_factory=list)     # untouched copies that followed a new release
    outdated: list[str] = field(default_factory=list)    # edited copies whose release changed: left alone
    kept: list[str] = field(default_factory=list)        # everything else, as it was

    def text(self) -> str:
        lines = []
        if self.added:
            lines.append(f"새 노트북 / new notebooks in {self.workspace}: " + ", ".join(self.added))
        if self.updated:
            lines.append("손대지 않은 노트북을 새 버전으로 / untouched notebooks updated: " + ", ".join(self.updated))
        for rel in self.outdated:
            lines.append(f"{rel}: 새 버전이 있지만 여러분의 작업을 그대로 두었습니다 / a newer release exists; your work "
                         f"is kept. For a fresh copy (old one backed up): socklab fresh {rel}")
        return "\n".join(lines)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _load_manifest(work: Path) -> dict[str, dict]:
    """{notebook: {"release": digest of the released file, "copy": digest of the copy as written}}."""
    try:
        data = json.loads((work / _MANIFEST).read_text(encoding="utf-8"))
        return {str(k): v for k, v in data["notebooks"].items() if isinstance(v, dict)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _save_manifest(work: Path, notebooks: dict[str, dict]) -> None:
    path = work / _MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"notebooks": dict(sorted(notebooks.items()))}, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def _released(root: Path) -> dict[str, Path]:
    """Released notebooks: workspace-relative path (``ch03/03.1-....ipynb``) -> file in notebooks/."""
    release = Path(root) / RELEASE_DIR
    return {p.relative_to(release).as_posix(): p
            for p in sorted(release.glob("*/*.ipynb")) if ".ipynb_checkpoints" not in p.parts}


def language_info() -> dict:
    """What ipykernel reports as ``language_info`` for this Python.

    With it already in a notebook, JupyterLab has nothing to add when the kernel starts, so the
    notebook does not show as unsaved the moment it opens."""
    return {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
            "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3", "version": sys.version.split()[0]}


def _student_copy(src: Path) -> bytes:
    """The bytes of a student's copy of the released notebook `src` (nbformat's own layout)."""
    notebook = json.loads(src.read_text(encoding="utf-8"))
    notebook.setdefault("metadata", {})["language_info"] = language_info()
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _copy(src: Path, dest: Path) -> dict:
    """Write the copy via a temporary name (a crash never leaves half a notebook); its manifest entry."""
    data = _student_copy(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.socklab-tmp")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return {"release": _digest(src.read_bytes()), "copy": _digest(data)}


def sync(*, root: Path | str, workspace: Path | str | None = None) -> SyncReport:
    """Bring the workspace up to date with notebooks/ without ever touching a student's edits.

    Copies notebooks that are new in the release, replaces copies the student never changed
    when their release changed, and reports edited copies whose release changed.
    """
    root = Path(root)
    work = Path(workspace) if workspace is not None else workspace_dir(root)
    work.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(work)
    report = SyncReport(work)
    for rel, src in _released(root).items():
        dest = work / rel
        entry = manifest.get(rel)
        if not dest.exists():
            manifest[rel] = _copy(src, dest)
            report.added.append(rel)
        elif entry is not None and entry.get("release") == _digest(src.read_bytes()):
            report.kept.append(rel)
        elif entry is not None and entry.get("copy") == _digest(dest.read_bytes()):
            manifest[rel] = _copy(src, dest)   # untouched since we copied it: follow the release
            report.updated.append(rel)
        elif entry is None and dest.read_bytes() == _student_copy(src):
            manifest[rel] = {"release": _digest(src.read_bytes()), "copy": _digest(dest.read_bytes())}
            report.kept.append(rel)           # the manifest was lost; the copy is the current release
        else:
            report.outdated.append(rel)
    _save_manifest(work, manifest)
    return report


def _resolve(notebook: str | Path, root: Path, work: Path) -> str:
    """Workspace-relative path for `notebook`: a path (work/..., notebooks/... or ch03/...) or a stem."""
    released = _released(root)
    text = Path(notebook).as_posix()
    candidate = Path(notebook)
    if candidate.is_absolute() or candidate.exists():
        for base in (work, root / RELEASE_DIR):
            try:
                text = candidate.resolve().relative_to(base.resolve()).as_posix()
                break
            except ValueError:
                continue
    for prefix in (f"{WORKSPACE_DIR}/", f"{RELEASE_DIR}/"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text in released:
        return text
    matches = [rel for rel in released if Path(rel).stem == text or Path(rel).name == text
               or Path(rel).stem.startswith(text + "-")]
    if len(matches) == 1:
        return matches[0]
    listing = "\n  ".join(released) or "(none: run `make release` first)"
    what = "matches several" if matches else "is not one of the released notebooks"
    raise ValueError(f"{notebook!r} {what} / 배포된 노트북이 아닙니다. Released notebooks:\n  {listing}")


def fresh_copy(*, root: Path | str, notebook: str | Path, workspace: Path | str | None = None,
               now: _dt.datetime | None = None) -> tuple[Path, Path | None]:
    """Replace one workspace notebook by a fresh copy of its release; the old one goes to backups/.

    Returns ``(fresh copy, backup or None)``. The backup name carries the time, so nothing is ever
    overwritten: ``work/backups/ch03/03.1-what-is-a-socket.backup-20260301-101500.ipynb``.
    """
    root = Path(root)
    work = Path(workspace) if workspace is not None else workspace_dir(root)
    rel = _resolve(notebook, root, work)
    dest = work / rel
    backup = None
    if dest.exists():
        stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
        backup = work / BACKUP_DIR / Path(rel).parent / f"{dest.stem}.backup-{stamp}.ipynb"
        n = 1
        while backup.exists():
            n += 1
            backup = backup.with_name(f"{dest.stem}.backup-{stamp}-{n}.ipynb")
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(dest, backup)   # copy first, then replace: the work exists somewhere at every moment
    manifest = _load_manifest(work)
    manifest[rel] = _copy(_released(root)[rel], dest)
    _save_manifest(work, manifest)
    return dest, backup


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``socklab fresh``."""
    parser.add_argument("notebook", help="the notebook to reset, e.g. ch03/03.1-what-is-a-socket.ipynb or 03.1")
    parser.add_argument("--root", type=Path, default=None, help="course root (default: this repository)")


def run(args: argparse.Namespace) -> int:
    """``socklab fresh NOTEBOOK``: a fresh copy in work/, the old one kept in work/backups/."""
    from socklab.lab import COURSE_ROOT

    try:
        dest, backup = fresh_copy(root=args.root or COURSE_ROOT, notebook=args.notebook)
    except ValueError as error:
        print(f"socklab fresh: {error}", file=sys.stderr)
        return 2
    if backup is not None:
        print(f"이전 작업은 여기 있습니다 / your previous work is kept in: {backup}")
    print(f"새 사본 / fresh copy: {dest}")
    return 0

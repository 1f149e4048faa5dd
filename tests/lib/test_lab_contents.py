"""The instructor lab's contents manager: MyST sources open clean, and saving never pairs."""
from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor

from support import REPO
from socklab.lab import lab_command
from socklab.lab_contents import InstructorContents
from socklab.workspace import language_info

SOURCE = REPO / "solutions" / "ch03" / "03.1-what-is-a-socket.md"


def _sync(coroutine_function, *args):
    """Run a contents-manager coroutine to its end, on a thread of its own: the test process may
    already have an event loop running on this one (Playwright's sync API keeps one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function(*args))).result(timeout=60)


def _manager(tmp_path) -> InstructorContents:
    shutil.copy2(SOURCE, tmp_path / SOURCE.name)
    shutil.copy2(REPO / "jupytext.toml", tmp_path / "jupytext.toml")
    return InstructorContents(root_dir=str(tmp_path))


def test_a_source_opens_with_the_kernels_language_info(tmp_path):
    """Does a .md source open as a notebook already carrying what the kernel will report (so it is not unsaved)?"""
    model = _sync(_manager(tmp_path).get, SOURCE.name)
    assert model["type"] == "notebook"
    assert model["content"]["metadata"]["language_info"] == language_info()
    assert any("nbgrader" in c["metadata"] for c in model["content"]["cells"])


def test_saving_a_source_writes_no_python_version_and_no_pair(tmp_path):
    """Does saving keep language_info out of the .md and refuse a pairing asked for in the metadata?"""
    cm = _manager(tmp_path)
    model = _sync(cm.get, SOURCE.name)
    model["content"]["metadata"].setdefault("jupytext", {})["formats"] = "ipynb,md:myst"
    _sync(cm.save, {"type": "notebook", "format": "json", "content": model["content"]}, SOURCE.name)
    text = (tmp_path / SOURCE.name).read_text(encoding="utf-8")
    assert "language_info" not in text and "formats:" not in text
    assert "grade_id: q03_2_call_order" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([SOURCE.name, "jupytext.toml"])


def test_only_the_instructor_lab_uses_it(tmp_path):
    """Does `make lab-instructor` select this manager, and the student lab keep Jupyter's own?"""
    flag = "--ServerApp.contents_manager_class=socklab.lab_contents.InstructorContents"
    assert flag in lab_command(tmp_path, mode="instructor")
    assert not any("contents_manager_class" in a for a in lab_command(tmp_path, mode="student"))

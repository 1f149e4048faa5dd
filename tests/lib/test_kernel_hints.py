"""socklab.kernel_hints in a real kernel: a NameError after a restart names the cell to run, grading unchanged."""
from __future__ import annotations

import json
import os
import queue
from pathlib import Path

import pytest

from socklab.kernel_hints import hint_for

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "ch03" / "03.1-what-is-a-socket.ipynb"


def _cells():
    return json.loads(NOTEBOOK.read_text())["cells"]


def _source(grade_id: str) -> str:
    cell = next(c for c in _cells() if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(cell["source"])


def _run(client, code: str) -> tuple[list[str], str]:
    """Execute `code`; return (error names, stdout) as the notebook would show them."""
    msg_id = client.execute(code)
    errors, stdout = [], ""
    while True:
        try:
            msg = client.get_iopub_msg(timeout=30)
        except queue.Empty:
            raise AssertionError(f"no reply to {code[:60]!r}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "error":
            errors.append(content["ename"])
        elif kind == "stream" and content["name"] == "stdout":
            stdout += content["text"]
        elif kind == "status" and content["execution_state"] == "idle":
            return errors, stdout


@pytest.fixture(params=["lab", "nbgrader"])
def kernel(request, tmp_path):
    """A real ipykernel for NOTEBOOK with the extension loaded, as the student lab's profile loads it."""
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ, JPY_SESSION_NAME=str(NOTEBOOK), IPYTHONDIR=str(tmp_path / "ipython"))
    env.pop("NBGRADER_EXECUTION", None)
    if request.param == "nbgrader":
        env["NBGRADER_EXECUTION"] = "autograde"
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(NOTEBOOK.parent))
    try:
        assert _run(client, "%load_ext socklab.kernel_hints") == ([], "")
        yield request.param, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.slow
def test_test_cell_before_setup_fails_with_the_setup_hint(kernel):
    """In a fresh (restarted) kernel, does exercise 1's test cell still fail with NameError, and, in the lab only,
    say "run the setup cell first" in Korean and English?"""
    where, client = kernel
    errors, stdout = _run(client, _source("q03_1_layers"))
    assert errors == ["NameError"]   # the verdict: a failed cell, exactly as without the extension
    if where == "lab":
        assert "준비 셀을 먼저 실행하세요" in stdout and "run the setup cell first" in stdout
    else:
        assert stdout == ""


@pytest.mark.slow
def test_after_setup_a_missing_answer_names_the_answer_cell(kernel):
    """With the setup cell run but the answer cell not, does the hint point at the answer cell, and does a plain
    typo get no hint at all?"""
    where, client = kernel
    setup = next("".join(c["source"]) for c in _cells()
                 if c.get("metadata", {}).get("nbgrader", {}).get("locked")
                 and not c["metadata"]["nbgrader"].get("grade") and c["cell_type"] == "code")
    assert _run(client, setup)[0] == []
    errors, stdout = _run(client, _source("q03_1_layers"))
    assert errors == ["NameError"]
    assert ("layer_of" in stdout and "answer cell" in stdout) if where == "lab" else stdout == ""
    errors, stdout = _run(client, "print(lenn('x'))")
    assert errors == ["NameError"] and stdout == ""


def test_hint_only_for_names_the_notebook_defines(tmp_path):
    """Is there no hint for a name that no setup or answer cell defines, or when the notebook cannot be read?"""
    assert hint_for("expect_equal", NOTEBOOK) is not None
    from socklab.kernel_hints import _cells, defined_names

    after_setup = set().union(*(defined_names(src) for role, src in _cells(NOTEBOOK) if role == "setup"))
    assert {"expect_equal", "check", "testing"} <= after_setup
    assert hint_for("layer_of", NOTEBOOK, after_setup).startswith("💡 `layer_of`은(는)")
    assert "setup cell first" in hint_for("layer_of", NOTEBOOK, after_setup - {"testing"})
    assert hint_for("no_such_name", NOTEBOOK) is None
    assert hint_for("expect_equal", tmp_path / "missing.ipynb") is None

"""The sandbox on its own: loopback only, private folders hidden, read-only elsewhere, wall clock."""
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grading.conftest import sandbox_processes
from socklab.grading.sandbox import Limits, Sandbox, resolve_isolation

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _run(tmp_path, cells, **kw):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    box = Sandbox(tmp_path / "work", **kw).start()
    return box.run(nb)


def _text(result, index):
    outputs = dict(result["cells"] or []).get(index, [])
    return "".join(str(o.get("text", "")) + str(o.get("evalue", "")) for o in outputs)


def test_namespace_sandbox_sees_only_loopback_and_no_private_files(tmp_path, need_namespaces):
    """Does code in the sandbox see only `lo`, no routes, no hidden folder, and no writable file outside its folder?"""
    secret = ARTIFACTS / f"sandbox-secret-{time.monotonic_ns()}"
    secret.mkdir(parents=True)
    (secret / "answer.txt").write_text("42")
    try:
        result = _run(tmp_path, [
            "import os, socket\nprint(sorted(n for _, n in socket.if_nameindex()), "
            "len(open('/proc/net/route').read().splitlines()))",
            f"print(os.listdir({str(secret)!r}))",
            f"open({str(ARTIFACTS / 'escape.txt')!r}, 'w')",
            "open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())",
            "s = socket.create_server(('127.0.0.1', 0)); c = socket.create_connection(s.getsockname(), timeout=5)\n"
            "a, _ = s.accept(); c.sendall(b'ping'); print(a.recv(4)); [x.close() for x in (a, c, s)]",
        ], hide=[secret], limits=Limits(cell_timeout=20), isolation="namespace")
    finally:
        (secret / "answer.txt").unlink()
        secret.rmdir()
    assert result["status"] == "ok", result
    assert _text(result, 0).strip() == "['lo'] 1"
    # A hidden folder is empty inside; when the whole checkout lives under /tmp (itself replaced by an
    # empty tmpfs), it is not there at all. Either way its file cannot be read.
    listing = _text(result, 1).strip()
    assert listing == "[]" or "No such file or directory" in listing, listing
    escape = _text(result, 2)
    assert "Read-only file system" in escape or "No such file or directory" in escape, escape
    assert not (ARTIFACTS / "escape.txt").exists()
    assert _text(result, 3).strip() == "ok"
    assert _text(result, 4).strip() == "b'ping'"
    assert sandbox_processes() == []


def test_wall_clock_cap_kills_everything(tmp_path):
    """Does the wall-clock cap end a notebook that keeps a cell busy, leaving no process behind?"""
    t0 = time.monotonic()
    result = _run(tmp_path, ["import time\nfor _ in range(100):\n    time.sleep(0.5)"],
                  limits=Limits(cell_timeout=60, wall_seconds=3), isolation=resolve_isolation("auto")[0])
    assert result["status"] == "timeout" and "wall-clock" in result["reason"]
    assert time.monotonic() - t0 < 60
    assert sandbox_processes() == []


def test_isolation_argument_is_checked():
    """Is a wrong isolation name a clear error?"""
    with pytest.raises(ValueError, match="'auto', 'namespace' or 'none'"):
        resolve_isolation("docker")


def test_the_leak_check_sees_a_sandbox_this_process_started(tmp_path):
    """Does `sandbox_processes()` list a live sandbox of ours (so the "none left" assertions can fail), and none once it is closed?"""
    box = Sandbox(tmp_path / "work", limits=Limits(cell_timeout=20)).start()
    try:
        deadline = time.monotonic() + 10   # bounded polling: the child may still be between exec()s
        while box.proc.pid not in sandbox_processes():
            assert box.proc.poll() is None, f"the sandbox exited ({box.proc.returncode}): {box.log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"a live sandbox was never listed: {sandbox_processes()}"
            time.sleep(0.05)
    finally:
        box.close()
    assert sandbox_processes() == []

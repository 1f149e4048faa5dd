"""The path most students take: an ordinary (non-root) user in the namespace tier.

.ci/nonroot.sh creates the user and a Debian-Python venv with scapy and exports
SOCKLAB_NONROOT_USER / SOCKLAB_NONROOT_PYTHON. We copy lib/socklab to a temp dir that user can
read (the repo may sit under a directory it cannot enter) and run as that user.
"""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from support import strict_skip

import socklab

SCRIPT = r"""
import json, os
from socklab import packets
report = packets.tier()
replies = packets.ping("127.0.0.1", count=2)
cap = packets.capture("tcp-echo")
server = cap.result["server"][1]
out = {
    "uid": os.getuid(),
    "tier": report.name,
    "available": report.available,
    "ping": [[r.seq, r.ttl, r.tier] for r in replies],
    "capture_tier": cap.tier,
    "flags": cap.flags(server),
    "client": cap.result["client"][1],
    "first_ports": [[s.sport, s.dport] for s in cap.segments(server)[:3]],
    "reply": cap.result["reply"].decode(),
    "records": len(cap.only(server).records),
}
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def nonroot():
    user = os.environ.get("SOCKLAB_NONROOT_USER")
    python = os.environ.get("SOCKLAB_NONROOT_PYTHON")
    if not user or not python:
        strict_skip("SOCKLAB_NONROOT_USER/SOCKLAB_NONROOT_PYTHON not set: run `source .ci/nonroot.sh` as root")
    if os.geteuid() != 0:
        strict_skip("switching to the non-root user needs root")
    runner = shutil.which("runuser") or shutil.which("setpriv")
    if runner is None:
        strict_skip("neither runuser nor setpriv is installed (util-linux)")
    return user, python


@pytest.fixture
def readable_dir():
    # Not pytest's tmp_path: /tmp/pytest-of-root is private to root, the student could not enter it.
    with tempfile.TemporaryDirectory(prefix="socklab-nonroot-") as name:
        path = Path(name)
        path.chmod(0o755)
        yield path


def test_namespace_tier_as_ordinary_user(nonroot, readable_dir):
    """Can a non-root student ping and capture a TCP handshake via the namespace tier?"""
    user, python = nonroot
    tmp_path = readable_dir
    shutil.copytree(Path(socklab.__file__).parent, tmp_path / "socklab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(tmp_path),
           "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    if shutil.which("runuser"):
        cmd = ["runuser", "-u", user, "--", python, "-c", SCRIPT]
    else:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", python, "-c", SCRIPT]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    assert out["uid"] != 0
    assert out["available"]["root"] is False and out["available"]["namespace"] is True
    assert out["tier"] == "namespace"
    assert out["ping"] == [[1, 64, "namespace"], [2, 64, "namespace"]]
    assert out["capture_tier"] == "namespace"
    flags = out["flags"]
    assert flags[:3] == ["S", "SA", "A"] and flags.count("S") == 1 and flags.count("SA") == 1, flags
    assert sum("F" in f for f in flags) == 2 and flags[-1] == "A" and "R" not in "".join(flags), flags
    c, s = out["client"], out["first_ports"][0][1]
    assert out["first_ports"] == [[c, s], [s, c], [c, s]]
    assert out["records"] == len(flags)  # each packet once
    assert out["reply"] == "hello, socklab"

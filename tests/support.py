"""Shared helpers for socklab's own tests (not for grade cells: those use socklab.testing)."""
import os

import pytest

STRICT = os.environ.get("SOCKLAB_STRICT") == "1"


def strict_skip(reason: str) -> None:
    """Skip with `reason`, but fail instead when SOCKLAB_STRICT=1 (set by .ci/run).

    CI must exercise every tier and the browser; a missing prerequisite there is a
    defect of .ci/run, not a reason to go green.
    """
    if STRICT:
        pytest.fail(f"SOCKLAB_STRICT=1 but this test would skip: {reason}", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, package: str) -> str:
    """The path of command `name`, or a (strict) skip saying which Debian package `.ci/run` installs it from."""
    import shutil

    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        strict_skip(f"{name} is missing: `apt-get install -y {package}` (.ci/run installs it)")
    return path

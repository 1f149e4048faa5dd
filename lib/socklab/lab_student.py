"""What makes ``make lab`` a *student's* lab (instructor mode does not use this module).

* The server's root is the student's workspace ``work/`` (see :mod:`socklab.workspace`): the
  file browser and the contents API cannot reach ``solutions/``, ``grader/`` or anything else
  of the course. It keeps its own Jupyter settings and workspaces in ``.jupyter-runtime/student/``,
  so the instructor's saved layout (formgrader tabs) never reopens in a student's lab.
* nbgrader's instructor parts are off: no formgrader, course list, assignment list or
  *Create Assignment* panel, in the page or on the server. The Validate button stays, but
  :mod:`socklab.lab_validate` answers it with ``socklab check``, and socklab's lab plugin
  (``data/labextension``, plain JavaScript) shows the whole verdict in its dialog.
* A terminal opened in the lab finds ``socklab``: its shell is not a login shell (Debian's
  ``/etc/profile`` would reset PATH), and for bash an rc file puts the venv's bin first again
  after ``~/.bashrc``.
* Kernels load :mod:`socklab.kernel_hints` (through the IPython profile of this lab only).
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

__all__ = ["INSTRUCTOR_PLUGINS", "INSTRUCTOR_SERVER_EXTENSIONS", "prepare", "shell_command"]

#: nbgrader's lab plugins a student never needs (Validate stays).
INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                      "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:assignment-list",
                      "@jupyter/nbgrader:menu"]
#: nbgrader's server extensions, off for students; socklab's validator takes Validate's place.
INSTRUCTOR_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list",
                                "nbgrader.server_extensions.assignment_list",
                                "nbgrader.server_extensions.validate_assignment"]
_VALIDATOR = "socklab.lab_validate"
_HINTS = "socklab.kernel_hints"


def shell_command(state_dir: Path, bin_dir: Path, shell: str | None = None) -> list[str]:
    """The lab terminal's shell: interactive, not a login shell, with `bin_dir` first on PATH."""
    shell = shell or os.environ.get("SHELL") or shutil.which("bash") or "/bin/sh"
    if Path(shell).name != "bash":
        return [shell, "-i"]   # inherits the server's PATH, which starts with the venv's bin
    rc = Path(state_dir) / "bashrc"
    quoted = shlex.quote(str(bin_dir))
    rc.write_text(
        "# socklab lab terminal: your usual ~/.bashrc, then the course's tools first on PATH.\n"
        "[ -r /etc/bash.bashrc ] && . /etc/bash.bashrc\n"
        '[ -r "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n'
        f"export PATH={quoted}:\"$PATH\"\n"
        f"export VIRTUAL_ENV={shlex.quote(str(Path(bin_dir).parent))}\n")
    return [shell, "--rcfile", str(rc), "-i"]


def prepare(root: Path, state_dir: Path, env: dict[str, str]) -> None:
    """Write the student lab's config into `state_dir` (a fresh copy on every start)."""
    from socklab.workspace import sync

    sync(root=root)   # the server's root must exist and hold the released notebooks
    config_dir = Path(env["JUPYTER_CONFIG_DIR"])
    labconfig = config_dir / "labconfig"
    page_config = json.loads((labconfig / "page_config.json").read_text())
    page_config.setdefault("disabledExtensions", {}).update({name: True for name in INSTRUCTOR_PLUGINS})
    (labconfig / "page_config.json").write_text(json.dumps(page_config, indent=2) + "\n")
    bin_dir = Path(sys.executable).parent
    server_config = {"ServerApp": {
        "jpserver_extensions": {**{name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}, _VALIDATOR: True},
        "terminado_settings": {"shell_command": shell_command(state_dir, bin_dir)},
    }}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server_config, indent=2) + "\n")
    profile = Path(env["IPYTHONDIR"]) / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(
        "# Written by socklab.lab_student on every start of the student lab.\n"
        f"c.InteractiveShellApp.extensions = [{_HINTS!r}]\n")
    plugin = Path(env["JUPYTER_DATA_DIR"]) / "labextensions" / "socklab-lab"
    shutil.rmtree(plugin, ignore_errors=True)
    shutil.copytree(Path(__file__).parent / "data" / "labextension", plugin)

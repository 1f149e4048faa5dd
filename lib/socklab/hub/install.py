"""Install socklab for a class on one machine: a shared Python, Unix accounts, the course, the exchange.

This is what The Littlest JupyterHub does for a generic hub, reduced to what a socklab class needs.
Everything lives in two folders a sysadmin can read: the Python in ``prefix`` (default
``/opt/socklab-hub``) and the class in ``state`` (default ``/srv/socklab``)::

    state/hub/         the hub's database, cookie secret, pid files, logs (root only)
    state/course/      the instructor's course root (solutions, gradebook, submissions): instructor only
    state/exchange/    nbgrader's exchange: release, inbound, feedback (nbgrader sets the modes)
    state/config/ROLE  Jupyter config for student and instructor servers (extensions, nbgrader)

Every student and the instructor is a real Unix account, so nbgrader's exchange permissions keep
students out of each other's submissions, and each submission carries its owner's name.
"""
from __future__ import annotations

import dataclasses
import grp
import hashlib
import json
import os
import pathlib
import pwd
import secrets
import shutil
import subprocess

__all__ = ["HubPlan", "HubError", "install_python", "ensure_users", "install_course", "write_configs"]

DEFAULT_PREFIX = pathlib.Path("/opt/socklab-hub")
DEFAULT_STATE = pathlib.Path("/srv/socklab")
# Debian's interpreter: one every account can execute (a pyenv build under /root is not).
DEFAULT_PYTHON = "/usr/bin/python3"
COURSE_ID = "socklab"
# What the instructor's course root holds from the repository (grader/ data is never overwritten).
COURSE_FILES = ["course.toml", "nbgrader_config.py", "grader/nbgrader_config.py"]
COURSE_DIRS = ["solutions", "notebooks"]


class HubError(RuntimeError):
    """The hub cannot be installed or started; the message says what to do."""


@dataclasses.dataclass
class HubPlan:
    """Who is in the class and where everything goes."""

    repo: pathlib.Path
    instructor: str = "instructor"
    students: list[str] = dataclasses.field(default_factory=list)
    prefix: pathlib.Path = DEFAULT_PREFIX
    state: pathlib.Path = DEFAULT_STATE
    python: str = DEFAULT_PYTHON

    @property
    def users(self) -> list[str]:
        return [self.instructor, *self.students]

    @property
    def course(self) -> pathlib.Path:
        return self.state / "course"

    @property
    def exchange(self) -> pathlib.Path:
        return self.state / "exchange"

    @property
    def hubdir(self) -> pathlib.Path:
        return self.state / "hub"

    def config_dir(self, role: str) -> pathlib.Path:
        return self.state / "config" / role


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise HubError(f"{what} failed ({' '.join(cmd[:3])} …, exit {proc.returncode}):\n"
                       f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def _source_hash(repo: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for path in sorted([repo / "pyproject.toml", *(repo / "lib").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(repo).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def install_python(plan: HubPlan) -> bool:
    """Create or update the shared Python in ``plan.prefix``; True when something was installed.

    socklab is installed as a copy (not editable): users' servers then never need to read the
    repository, whose solutions/ they must not see.
    """
    stamp = plan.prefix / ".socklab-source"
    wanted = _source_hash(plan.repo)
    if stamp.is_file() and stamp.read_text() == wanted and (plan.prefix / "bin" / "jupyterhub").is_file():
        return False
    if not os.access(plan.python, os.X_OK):
        raise HubError(f"{plan.python} is missing: install Debian's python3 and python3-venv "
                       "(apt-get install python3 python3-venv), or pass --python")
    # The same script the Kubernetes image's Dockerfile runs (deploy/image/install.sh).
    _run(["bash", str(plan.repo / "deploy" / "image" / "install.sh"), str(plan.prefix), str(plan.repo), plan.python],
         "installing socklab and JupyterHub (deploy/image/install.sh)")
    stamp.write_text(wanted)
    return True


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_users(plan: HubPlan) -> dict[str, str]:
    """Create the Unix accounts that do not exist yet; return {name: password} for the new ones.

    New passwords are random and also appended to ``state/hub/passwords.csv`` (root only), the
    sheet an instructor hands out. Existing accounts and their passwords are left alone.
    """
    created: dict[str, str] = {}
    for name in plan.users:
        if _user_exists(name):
            continue
        _run(["useradd", "--create-home", "--shell", "/bin/bash", name], f"creating user {name}")
        password = secrets.token_urlsafe(12)
        proc = subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True,
                              capture_output=True, timeout=30)
        if proc.returncode != 0:
            raise HubError(f"setting {name}'s password failed: {proc.stderr.strip()}")
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
        created[name] = password
    if created:
        plan.hubdir.mkdir(parents=True, exist_ok=True)
        sheet = plan.hubdir / "passwords.csv"
        new = not sheet.exists()
        with open(sheet, "a", encoding="utf-8") as out:
            if new:
                out.write("user,password\n")
            out.writelines(f"{n},{p}\n" for n, p in created.items())
        os.chmod(sheet, 0o600)
    return created


def _chown_tree(path: pathlib.Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.lchown(p, entry.pw_uid, entry.pw_gid)


def install_course(plan: HubPlan) -> None:
    """Copy the course sources into the instructor's course root; grader data is never touched.

    Sources come from the repository at every start (edit them there, ``make release``, restart);
    the gradebook, submissions and feedback under ``course/grader/`` stay as they are.
    """
    for folder in (plan.state, plan.state / "config"):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
    plan.hubdir.mkdir(parents=True, exist_ok=True)
    os.chmod(plan.hubdir, 0o700)
    course = plan.course
    course.mkdir(exist_ok=True)
    for rel in COURSE_DIRS:
        shutil.rmtree(course / rel, ignore_errors=True)
        shutil.copytree(plan.repo / rel, course / rel,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for rel in COURSE_FILES:
        if (plan.repo / rel).is_file():
            (course / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(plan.repo / rel, course / rel)
    _chown_tree(course, plan.instructor)
    os.chmod(course, 0o700)   # solutions and hidden tests: the instructor's eyes only
    # nbgrader's release step wants an exchange root every account may write to (it then sets
    # each course folder's own mode: inbound is write-only for students).
    plan.exchange.mkdir(exist_ok=True)
    os.chmod(plan.exchange, 0o777)


def _page_config(disabled: list[str]) -> dict:
    # The announcements plugin asks about "Jupyter news" (network) on first start.
    names = ["@jupyterlab/apputils-extension:announcements", *disabled]
    return {"disabledExtensions": {name: True for name in names}}


STUDENT_HIDDEN = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyter/nbgrader:course-list"]


def write_configs(plan: HubPlan) -> None:
    """Jupyter config for the two roles, read by every user server through JUPYTER_CONFIG_PATH."""
    nbgrader = (f"c = get_config()  # noqa: F821\n"
                f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
                f"c.Exchange.root = {str(plan.exchange)!r}\n"
                # Submissions readable by the instructor's group only (nbgrader#978).
                f"c.ExchangeFactory.submit = 'socklab.hub.exchange.PrivateSubmit'\n")
    roles = {
        "student": {
            "server": {"ServerApp": {"jpserver_extensions": {
                "nbgrader.server_extensions.formgrader": False,
                "nbgrader.server_extensions.course_list": False,
                "nbgrader.server_extensions.assignment_list": True,
                "nbgrader.server_extensions.validate_assignment": True}}},
            "page": _page_config(STUDENT_HIDDEN),
        },
        "instructor": {
            # JupyterHub >= 4.1 forbids framing (nbgrader#1870); formgrader opens in an iframe
            # of the instructor's own lab, so allow frames from the same origin only.
            "server": {"ServerApp": {"tornado_settings": {"headers": {
                "Content-Security-Policy": "frame-ancestors 'self'"}}}},
            "page": _page_config([]),
        },
    }
    for role, files in roles.items():
        folder = plan.config_dir(role)
        (folder / "labconfig").mkdir(parents=True, exist_ok=True)
        (folder / "jupyter_server_config.json").write_text(json.dumps(files["server"], indent=1) + "\n")
        (folder / "labconfig" / "page_config.json").write_text(json.dumps(files["page"], indent=1) + "\n")
        text = nbgrader
        if role == "instructor":
            # A user server starts in the home folder; formgrader must find the course's own
            # config (source = solutions/, release = notebooks/, gradebook in grader/) wherever.
            text = (f"c = get_config()  # noqa: F821\n"
                    f"load_subconfig({str(plan.course / 'grader' / 'nbgrader_config.py')!r})  # noqa: F821\n"
                    + nbgrader.split("\n", 1)[1])
        (folder / "nbgrader_config.py").write_text(text)
        subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True, timeout=30)


def group_of(user: str) -> str:
    """The primary group name of `user` (for messages and tests)."""
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name

"""Start JupyterLab on the course: ``make lab`` (student) and ``make lab-instructor``.

The server listens on 127.0.0.1 only, on a port the kernel picks (port 0), behind a
random token. Its root is the course root (the repository), because nbgrader's
formgrader only works when the course lives inside the server's root directory.
Jupyter's per-user state (config, settings, runtime files, IPython profile) is kept
in ``.jupyter-runtime/`` next to the course so the lab behaves the same on every
machine, whatever ``~/.jupyter`` holds. Nothing is fetched from the internet: the
news/update plugin is disabled and the server never checks for updates.

Tests start the very same server through :func:`start_lab`.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Process helpers live with the rest of the lab's process handling (tests import them from here too).
from socklab.lab_lifecycle import _descendants, _reap, _signal_group, _signal_pid, _start_time, term_when_parent_dies

__all__ = ["COURSE_ROOT", "MODES", "LabError", "LabServer", "add_arguments", "lab_command", "lab_env", "main", "run",
           "start_lab"]

#: The course: the repository this package is installed from in editable mode
#: (lib/socklab/lab.py), otherwise the working directory.
COURSE_ROOT = Path(__file__).resolve().parents[2]
if not (COURSE_ROOT / "nbgrader_config.py").is_file():
    COURSE_ROOT = Path.cwd()

#: mode -> folder the lab opens on, inside the server's root (a student's root is work/).
MODES = {"student": "", "instructor": "solutions"}

# Jupyter's own defaults. A student's server never sees solutions/ or grader/: its root is work/.
_HIDDEN = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", ".ipynb_checkpoints"]

# The announcements plugin asks every new user about "official Jupyter news" and then
# polls the internet; a classroom lab needs neither.
_PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
_SETTING_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


class LabError(RuntimeError):
    """JupyterLab did not start (the message includes the end of its log)."""


@dataclass
class LabServer:
    """A running JupyterLab started by :func:`start_lab`; ``stop()`` ends it and its kernels."""

    process: subprocess.Popen
    root: Path
    port: int
    token: str
    mode: str
    state_dir: Path
    log_path: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "", *, token: bool = True) -> str:
        """The full URL of `path` on this server, with ``?token=`` unless `token` is False."""
        url = self.base_url + "/" + path.lstrip("/")
        if token:
            url += ("&" if "?" in url else "?") + "token=" + self.token
        return url

    @property
    def lab_url(self) -> str:
        """Where a browser should go: JupyterLab opened on this mode's folder."""
        return self.url(f"lab/tree/{MODES[self.mode]}".rstrip("/"))

    @property
    def server_root(self) -> Path:
        """The folder the file browser and the contents API show (work/ for a student)."""
        return server_root(self.root, self.mode)

    def api(self, path: str, *, method: str = "GET", body: dict | None = None, timeout: float = 10.0):
        """Call the server's REST API with the token; returns the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url(path, token=False), data=data, method=method)
        request.add_header("Authorization", "token " + self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def descendants(self) -> list[int]:
        """PIDs of every live process under the server (kernels run in their own sessions)."""
        return _descendants(self.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and every kernel it started, by PID; idempotent.

        A polite SIGTERM first (the server shuts its kernels down), then SIGKILL for
        anything still alive at the deadline, so a test never leaves processes behind.
        """
        if self._stopped:
            return
        self._stopped = True
        # Remember each process by (pid, start time): once the server is gone its PIDs can be
        # reused by strangers, who must never receive our SIGKILL.
        known = {pid: _start_time(pid) for pid in [self.pid, *self.descendants()]}
        if self.process.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        for pid, started in known.items():
            if started is not None and _start_time(pid) == started:
                _signal_group(pid, signal.SIGKILL)  # a kernel leads its own group (its children too)
                _signal_pid(pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            pass
        _reap(known, deadline=time.monotonic() + timeout)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def server_root(root: Path, mode: str) -> Path:
    """The server's root folder: the course for an instructor, the student's workspace for a student."""
    if mode == "student":
        from socklab.workspace import workspace_dir
        return workspace_dir(root)
    return Path(root)


def lab_command(root: Path, *, mode: str = "student", port: int = 0, expose_app: bool = False) -> list[str]:
    """The ``jupyter lab`` command line for `mode`, as a list of arguments."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")
    argv = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={int(port)}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={server_root(root, mode)}",
        f"--LabApp.default_url=/lab/tree/{MODES[mode]}".rstrip("/"),
        # No traffic to the internet: no news feed, no update check, no PyPI extension search.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.expose_app_in_browser={bool(expose_app)}",
    ]
    argv += [f"--ContentsManager.hide_globs={pattern}" for pattern in _HIDDEN]
    if mode == "instructor":   # sources open clean and never pair (socklab.lab_contents)
        argv.append("--ServerApp.contents_manager_class=socklab.lab_contents.InstructorContents")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI run as root; the server still binds loopback only
    return argv


def lab_env(state_dir: Path, *, token: str) -> dict[str, str]:
    """Environment for the server: Jupyter's per-user dirs under `state_dir`, the token."""
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": state_dir / "config",
        "JUPYTER_DATA_DIR": state_dir / "data",
        "JUPYTER_RUNTIME_DIR": state_dir / "runtime",
        "IPYTHONDIR": state_dir / "ipython",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps(_PAGE_CONFIG, indent=2) + "\n")
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(_SETTING_OVERRIDES, indent=2) + "\n")
    env["JUPYTER_TOKEN"] = token
    # nbgrader runs the `alembic` command when it creates a gradebook, and `make lab` calls
    # .venv/bin/python without activating the venv: put its bin/ first on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    env.pop("NBGRADER_EXECUTION", None)  # the lab is interactive: demos and widgets must run
    return env


def start_lab(
    root: Path | str | None = None,
    *,
    mode: str = "student",
    port: int = 0,
    token: str | None = None,
    state_dir: Path | str | None = None,
    log_path: Path | str | None = None,
    expose_app: bool = False,
    timeout: float = 60.0,
) -> LabServer:
    """Start JupyterLab on the course at `root` and return once it answers HTTP requests.

    ``port=0`` lets the kernel choose a free port; the real one is read back from the
    server's info file. Server output goes to `log_path` (or this terminal when None).
    Raises :class:`LabError` with the log's tail if it does not come up within `timeout`.
    """
    root = Path(root or COURSE_ROOT).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise LabError(f"{root} is not a socklab course (no nbgrader_config.py there): "
                       "run from the socklab repository or pass --root <repository>")
    state_dir = Path(state_dir or root / ".jupyter-runtime").resolve()
    token = token or secrets.token_hex(24)
    if mode == "student":
        from socklab import lab_student
        state_dir = state_dir / "student"   # settings, workspaces and runtime files apart from the instructor's
        env = lab_env(state_dir, token=token)
        lab_student.prepare(root, state_dir, env)
    else:
        env = lab_env(state_dir, token=token)
        _open_sources_as_notebooks(Path(env["JUPYTER_CONFIG_DIR"]))
    _ensure_exchange(root)
    log_file = None
    if log_path is not None:
        log_path = Path(log_path)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log_path, "wb")
    try:
        # cwd: nbgrader's extensions read nbgrader_config.py from the working directory (instructor);
        # a student's terminals start there, so for a student it is their work/.
        # start_new_session: the server leads its own process group, so stop() can signal it.
        process = subprocess.Popen(
            lab_command(root, mode=mode, port=port, expose_app=expose_app),
            cwd=server_root(root, mode), env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            start_new_session=True, preexec_fn=term_when_parent_dies,
        )
    finally:
        if log_file is not None:
            log_file.close()
    server = LabServer(process, root, port, token, mode, state_dir, log_path)
    try:
        server.port = _wait_ready(server, Path(env["JUPYTER_RUNTIME_DIR"]), timeout)
    except BaseException:
        server.stop()
        raise
    return server


# Instructor mode: a double-click on solutions/chNN/NN.M-title.md (the MyST text source) opens it as
# a notebook through jupytext, so the Create Assignment panel edits its nbgrader metadata and
# saving writes the .md (never a paired .ipynb: see jupytext.toml at the course root).
_INSTRUCTOR_VIEWERS = {"@jupyterlab/docmanager-extension:plugin": {
    "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}


def _open_sources_as_notebooks(config_dir: Path) -> None:
    path = config_dir / "labconfig" / "default_setting_overrides.json"
    overrides = json.loads(path.read_text()) if path.is_file() else {}
    overrides.update(_INSTRUCTOR_VIEWERS)
    path.write_text(json.dumps(overrides, indent=2) + "\n")


def _ensure_exchange(root: Path) -> None:
    # The course config points nbgrader's exchange at grader/exchange; the assignment
    # list reports an error until that folder exists.
    (root / "grader" / "exchange").mkdir(parents=True, exist_ok=True)


def _wait_ready(server: LabServer, runtime_dir: Path, timeout: float) -> int:
    """Poll (bounded) for the server's info file, then for /api/status; return the port."""
    info_file = runtime_dir / f"jpserver-{server.pid}.json"
    deadline = time.monotonic() + timeout
    port = 0
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LabError(f"JupyterLab exited with code {server.process.returncode}.{_log_tail(server)}")
        if not port and info_file.is_file():
            try:
                port = int(json.loads(info_file.read_text())["port"])
            except (ValueError, KeyError):
                port = 0  # half-written; read it again on the next round
            server.port = port
        if port:
            try:
                server.api("api/status", timeout=2.0)
                return port
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(0.1)
    raise LabError(f"JupyterLab did not answer within {timeout:.0f} s.{_log_tail(server)}")


def _log_tail(server: LabServer, lines: int = 30) -> str:
    if server.log_path is None or not Path(server.log_path).is_file():
        return ""
    tail = Path(server.log_path).read_text(errors="replace").splitlines()[-lines:]
    return "\n--- end of the JupyterLab log ---\n" + "\n".join(tail)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m socklab.lab`` and ``socklab lab``."""
    parser.add_argument("--mode", choices=sorted(MODES), default="student",
                        help="student: open notebooks/; instructor: open solutions/ and formgrader")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--root", type=Path, default=COURSE_ROOT, help="course root (default: this repository)")
    parser.add_argument("--verbose", action="store_true", help="show JupyterLab's log here instead of in a file")


def main(argv: list[str] | None = None) -> int:
    """``python -m socklab.lab --mode student|instructor``: run the lab until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m socklab.lab", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Start the lab described by parsed `args`, print its URL, and wait for Ctrl-C, SIGTERM or SIGHUP."""
    from socklab import lab_lifecycle as life

    root = args.root.resolve()
    state_dir = root / ".jupyter-runtime"
    life.watch_parent()   # `make` killed: we get SIGHUP, and stop everything below
    with life.stop_signals():
        running = life.running_lab(state_dir, args.mode)
        if running is not None:
            _say(f"\nsocklab: the {args.mode} lab is already running (pid {running['launcher_pid']}); "
                 f"reusing it. / 이미 실행 중인 lab을 그대로 씁니다:\n\n    {running['url']}\n")
            return 0
        if args.mode == "student" and (root / "nbgrader_config.py").is_file():
            _say(_sync_workspace(root))   # what is new since the last run (start_lab syncs again: a no-op)
        # The server's log is long and would push the URL off the screen: it goes to a file.
        log_path = None if args.verbose else state_dir / f"jupyterlab{'-student' if args.mode == 'student' else ''}.log"
        server = None
        try:
            server = start_lab(root, mode=args.mode, port=args.port, log_path=log_path)
            life.record(state_dir, args.mode, url=server.lab_url, server_pid=server.pid, token=server.token,
                        base_url=server.base_url)
            _print_banner(server, args.mode, log_path)
            code = server.process.wait()
            _say(f"socklab: JupyterLab exited (code {code}).{_log_tail(server)}", err=True)
            return 1
        except (LabError, ValueError) as error:
            _say(f"socklab: {error}", err=True)
            return 1
        except KeyboardInterrupt as stop:   # Ctrl-C, or life.Stop from SIGTERM / SIGHUP (even while starting)
            why = f" ({stop})" if isinstance(stop, life.Stop) else ""
            _say(f"\nsocklab: stopping JupyterLab and its kernels{why} ...", err=True)
            return 0
        finally:
            if server is not None:
                server.stop()
                life.forget(state_dir, args.mode)


def _sync_workspace(root: Path) -> str:
    from socklab.workspace import sync

    return sync(root=root).text()


def _print_banner(server: LabServer, mode: str, log_path: Path | None) -> None:
    lines = ["", "=" * 72, f"  socklab lab ({mode}) is running. Open this URL in your browser:",
             f"  브라우저에서 이 주소를 여세요:\n\n    {server.lab_url}\n"]
    if mode == "instructor":
        lines.append(f"  Formgrader (nbgrader):\n\n    {server.url('formgrader')}\n")
        lines.append("  Sources: double-click solutions/chNN/*.md (opens as a notebook); after saving, `make release`.\n")
    else:
        lines.append(f"  Your notebooks / 여러분의 노트북: {server.server_root}")
    if log_path is not None:
        lines.append(f"  JupyterLab log: {log_path}")
    lines += ["  Stop with Ctrl-C. / 끝내려면 Ctrl-C.", "=" * 72, ""]
    _say("\n".join(lines))


def _say(text: str, *, err: bool = False) -> None:
    """Print, but never fail: after SIGHUP the terminal is gone and writing to it raises EIO."""
    if not text:
        return
    try:
        print(text, file=sys.stderr if err else sys.stdout, flush=True)
    except OSError:
        # Say nothing more, and let nothing fail at exit while flushing what could not be written.
        sys.stdout = sys.stderr = open(os.devnull, "w")


if __name__ == "__main__":
    sys.exit(main())

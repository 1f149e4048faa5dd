"""The project's own setup files: do they agree with each other?"""
import pathlib
import re
import subprocess
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _pyproject_requirements() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for name, extra in meta.get("optional-dependencies", {}).items():
        if name != "hub":   # the class hub's Python (/opt/socklab-hub, `make hub`), not a student's env
            reqs.extend(extra)
    return {r.replace(" ", "") for r in reqs}


def _environment_requirements() -> set[str]:
    # environment.yml is simple enough to read without a YAML dependency: pip lines are "      - x".
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    reqs = set()
    for line in lines[start + 1:]:
        m = re.match(r"^\s{6}- (.+?)\s*$", line)
        if m and not m.group(1).startswith("-e"):
            reqs.add(m.group(1).replace(" ", ""))
    return reqs


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    """Does environment.yml pip-install exactly what pyproject.toml declares (runtime + test)?"""
    assert _environment_requirements() == _pyproject_requirements()


def test_environment_yml_pins_python_311_and_installs_the_project():
    """Does environment.yml ask for Python 3.11 and install this project itself?"""
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*- python=3\.11\s*$", text, re.M)
    assert re.search(r"^\s*- -e \.\s*$", text, re.M)


def test_gitignore_keeps_lib_and_ignores_the_grader_workspace():
    """Is lib/ tracked while the gradebook and submissions stay out of git?"""
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0

    assert not ignored("lib/socklab/servers.py")
    assert not ignored("grader/nbgrader_config.py")
    for path in [".venv/bin/python", "grader/gradebook.db", "grader/submitted/s1/ch03/x.ipynb",
                 "grader/autograded/s1/ch03/x.ipynb", "grader/feedback/s1/ch03/x.html",
                 "solutions/ch03/.ipynb_checkpoints/x.ipynb", "bench/results/latest.json", "work/ch03/x.ipynb",
                 "work/backups/ch03/x.backup-20260101-000000.ipynb"]:
        assert ignored(path), path


def test_console_command_is_declared():
    """Does installing the project give students a `socklab` command?"""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["scripts"]["socklab"] == "socklab.cli:main"


def _make_dry_run(target: str) -> str:
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_lab_installs_no_test_tools_and_make_test_adds_them():
    """Does `make lab` install the project without the test extra (no pytest, no Playwright), while `make test`
    installs the extra, and does pyproject declare the license as an SPDX string (no setuptools deprecation box)?"""
    lab = _make_dry_run("lab")
    assert "-e ." in lab and "[test]" not in lab
    assert "-e '.[test]'" in _make_dry_run("test")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert {"pytest>=8", "playwright>=1.45"} <= set(meta["project"]["optional-dependencies"]["test"])
    assert not {r.split(">")[0].split("=")[0] for r in meta["project"]["dependencies"]} & {"pytest", "playwright"}

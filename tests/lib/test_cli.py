"""The `socklab` console command: is it a thin, working layer over the library?"""
import subprocess
import sys

import pytest

from socklab import cli


def test_help_lists_every_subcommand(capsys):
    """Does `socklab --help` name check, grade, release and packets?"""
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ["check", "grade", "release", "packets"]:
        assert name in out


def test_no_subcommand_prints_help_and_fails(capsys):
    """Does a bare `socklab` explain itself and exit non-zero instead of doing something?"""
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_installed_console_script_runs_packets_tier():
    """Does the installed `socklab` command run end to end in a fresh process?"""
    exe = [sys.executable, "-m", "socklab.cli", "packets", "tier"]
    done = subprocess.run(exe, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "offline" in done.stdout

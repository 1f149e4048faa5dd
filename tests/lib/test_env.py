"""socklab.env: the small questions notebooks ask about where they run."""
import doctest
import sys

import pytest

import socklab
from socklab import env


def test_under_nbgrader_follows_the_variable(monkeypatch):
    """Does under_nbgrader() say yes exactly when NBGRADER_EXECUTION is set (and not empty)?"""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert env.under_nbgrader() is False
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert env.under_nbgrader() is True
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    assert env.under_nbgrader() is False


def test_services_path_on_this_machine():
    """Is the services file looked for in /etc/services on Linux?"""
    if sys.platform.startswith("win"):
        pytest.skip("Linux/macOS path")
    assert str(env.services_path()) == "/etc/services"


def test_services_path_on_windows(monkeypatch):
    """On Windows, is the file %SystemRoot%\\System32\\drivers\\etc\\services?"""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("SystemRoot", r"D:\Win")
    path = str(env.services_path()).replace("/", "\\")
    assert path == r"D:\Win\System32\drivers\etc\services"


def test_has_services_file(monkeypatch, tmp_path):
    """Does has_services_file() tell a present file from a missing one?"""
    monkeypatch.setattr(env, "services_path", lambda: tmp_path / "services")
    assert env.has_services_file() is False
    (tmp_path / "services").write_text("ssh 22/tcp\n")
    assert env.has_services_file() is True


def test_packet_tier_is_a_known_name():
    """Does packet_tier() name one of the four tiers socklab.packets knows?"""
    assert env.packet_tier() in {"offline", "ping-socket", "namespace", "root"}


def test_packet_tier_is_offline_when_packets_cannot_load(monkeypatch):
    """If socklab.packets cannot be imported at all, is the answer 'offline' rather than a crash?"""
    monkeypatch.delattr(socklab, "packets", raising=False)
    monkeypatch.setitem(sys.modules, "socklab.packets", None)
    assert env.packet_tier() == "offline"


def test_doctests():
    """Do the examples in env's docstrings run as written?"""
    result = doctest.testmod(env, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0

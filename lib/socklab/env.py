"""Where are we running? Small questions the notebooks and grade cells ask about their environment.

>>> isinstance(under_nbgrader(), bool)
True
>>> services_path().name
'services'
"""
from __future__ import annotations

import os
import pathlib
import sys

__all__ = ["under_nbgrader", "services_path", "has_services_file", "packet_tier"]

#: nbgrader sets this variable while it validates or autogrades a notebook.
NBGRADER_VARIABLE = "NBGRADER_EXECUTION"


def under_nbgrader() -> bool:
    """Is this code being run by nbgrader (validate / autograde) rather than by a person?

    Widgets and demo servers check this and do nothing under nbgrader, so grading never waits
    for a human or for a server nobody will talk to.

    >>> import os
    >>> os.environ["NBGRADER_EXECUTION"] = "autograde"; under_nbgrader()
    True
    >>> del os.environ["NBGRADER_EXECUTION"]; under_nbgrader()
    False
    """
    return bool(os.environ.get(NBGRADER_VARIABLE))


def services_path() -> pathlib.Path:
    """Where this operating system keeps its services file (service name <-> port number).

    Linux and macOS: ``/etc/services``.
    Windows: ``%SystemRoot%\\System32\\drivers\\etc\\services``.
    """
    if sys.platform.startswith("win"):
        root = os.environ.get("SystemRoot") or os.environ.get("SYSTEMROOT") or r"C:\Windows"
        return pathlib.Path(root) / "System32" / "drivers" / "etc" / "services"
    return pathlib.Path("/etc/services")


def has_services_file() -> bool:
    """Does this machine have a readable services file? (Minimal containers often do not.)"""
    path = services_path()
    return path.is_file() and os.access(path, os.R_OK)


def packet_tier() -> str:
    """Which packet-level tier works here: 'offline', 'ping-socket', 'namespace' or 'root'.

    Asks :func:`socklab.packets.tier` (imported only now: scapy is slow to import). If that
    cannot be imported at all, the honest answer is 'offline': packets can still be built and
    parsed, just not sent.
    """
    try:
        from socklab import packets
    except Exception:  # noqa: BLE001 - any import failure (scapy missing, broken install) means offline
        return "offline"
    return packets.tier().name

"""socklab: live, autograded TCP/IP socket programming in Jupyter.

Modules load on first use, so ``import socklab`` is instant::

    import socklab
    with socklab.servers.echo_server() as srv:
        socklab.clients.round_trip(srv.address, b"hi")
"""
import importlib

__version__ = "0.1.0"

# What notebooks and grade cells use (``socklab.<name>`` imports it on first use).
__all__ = ["addresses", "clients", "concurrency", "env", "eventlog", "faults", "figures", "iomodels", "lossy", "p2p",
           "packets", "ports", "protocols", "rdt", "relay", "servers", "slowpeer", "snmp", "tcpstate", "testing", "trace",
           "widgets"]

# Machinery behind the `socklab` command and `make lab`; importable, but not part of the course API.
_TOOLS = ("cli", "course", "grading", "hub", "kernel_hints", "lab", "lab_contents", "lab_lifecycle", "lab_student",
          "lab_validate", "release", "sources", "verdict", "workspace")

TYPE_CHECKING = False
if TYPE_CHECKING:  # editors and type checkers see the modules; at run time __getattr__ loads them
    from socklab import (addresses, clients, concurrency, env, eventlog, faults, figures, iomodels, lossy, p2p, packets,
                         ports, protocols, rdt, relay, servers, slowpeer, snmp, tcpstate, testing, trace, widgets)


def __getattr__(name):
    if name in __all__ or name in _TOOLS:
        module = importlib.import_module(f"socklab.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'socklab' has no attribute {name!r}; public modules: {', '.join(__all__)}")


def __dir__():
    return sorted(set(globals()) | set(__all__))

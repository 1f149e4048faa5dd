"""Small builtin experiments that capture() and the namespace child can run by name.

A function from a notebook cell cannot always be sent to a child process; a scenario name can.

>>> sorted(SCENARIOS)
['ping', 'tcp-echo']
"""
from __future__ import annotations

import socket

__all__ = ["SCENARIOS", "get_scenario", "tcp_echo", "ping_once"]


def tcp_echo(message: bytes = b"hello, socklab", *, timeout: float = 5.0) -> dict:
    """One client talks to socklab's echo server: connect, sendall, shutdown(SHUT_WR), recv, close.

    Returns the server and client addresses and the reply, so a capture can be matched to it.
    """
    from socklab.servers import echo_server

    with echo_server(name="socklab-packets-echo", timeout=timeout) as srv:
        client = socket.create_connection(srv.address, timeout=timeout)  # SYN, SYN-ACK, ACK
        with client:
            local = client.getsockname()
            client.sendall(message)                   # PSH,ACK with our bytes
            client.shutdown(socket.SHUT_WR)           # FIN: "I have nothing more to send"
            reply = b""
            while chunk := client.recv(4096):         # the echo, then the server's FIN (b"")
                reply += chunk
        srv.wait_for(lambda log: any(e.kind == "close" for e in log.events), timeout=timeout)
        return {"server": tuple(srv.address), "client": tuple(local), "reply": reply}


def ping_once(count: int = 1, *, timeout: float = 2.0) -> list:
    """ICMP echo to 127.0.0.1 over a raw socket (needs the namespace or root tier)."""
    from .pingsock import _ping_raw
    return _ping_raw("127.0.0.1", count, timeout, b"socklab", "namespace" if _in_ns() else "root")


def _in_ns() -> bool:
    from .namespace import in_private_namespace
    return in_private_namespace()


SCENARIOS = {"tcp-echo": tcp_echo, "ping": ping_once}


def get_scenario(name: str):
    """The function behind a scenario name; a clear error lists the names that exist."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(sorted(SCENARIOS))}") from None

"""The loopback guard: the lab never sends or sniffs anywhere but this machine's loopback.

Every function in socklab.packets that sends or sniffs calls ensure_loopback() or
ensure_loopback_iface() *before* it creates a socket, so a typo such as ``ping("8.8.8.8")``
raises instead of touching a real network.
"""
from __future__ import annotations

import ipaddress

__all__ = ["NonLoopbackError", "ensure_loopback", "ensure_loopback_iface", "LOOPBACK_IFACE"]

LOOPBACK_IFACE = "lo"

# Names we accept without asking a resolver: a DNS lookup is itself traffic, so no other name
# is resolved at all.
_LOCAL_NAMES = {"localhost": "127.0.0.1", "ip6-localhost": "::1", "ip6-loopback": "::1"}


class NonLoopbackError(ValueError):
    """Raised when an experiment would leave the loopback (127.0.0.0/8, ::1)."""


def ensure_loopback(address) -> str:
    """Return `address` as an IP string if it is a loopback address, else raise NonLoopbackError.

    Accepts '127.x.y.z', '::1', 'localhost', or a (host, port) tuple. Nothing is resolved or sent.

    >>> ensure_loopback("127.0.0.1")
    '127.0.0.1'
    >>> ensure_loopback(("localhost", 80))
    '127.0.0.1'
    >>> ensure_loopback("8.8.8.8")
    Traceback (most recent call last):
    ...
    socklab.packets.guard.NonLoopbackError: 8.8.8.8 is not a loopback address. socklab은 이 컴퓨터 안(127.0.0.0/8, ::1)에서만 패킷을 보내고 잡습니다. / socklab only sends and sniffs on loopback (127.0.0.0/8, ::1): use 127.0.0.1.
    """
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        raise NonLoopbackError(
            f"{address!r} is not an address. 주소는 '127.0.0.1' 같은 문자열로 주세요. / "
            "Give the address as a string such as '127.0.0.1'."
        )
    text = str(host).strip()
    text = _LOCAL_NAMES.get(text.lower(), text)
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        raise NonLoopbackError(
            f"{text!r} is not an IP address. 이름은 조회(DNS)하지 않습니다: 127.0.0.1 같은 숫자 주소를 쓰세요. / "
            "Names are not resolved (a DNS lookup would leave the machine): use a literal such as 127.0.0.1."
        ) from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_loopback:
        raise NonLoopbackError(
            f"{text} is not a loopback address. socklab은 이 컴퓨터 안(127.0.0.0/8, ::1)에서만 패킷을 보내고 잡습니다. / "
            "socklab only sends and sniffs on loopback (127.0.0.0/8, ::1): use 127.0.0.1."
        )
    return str(ip)


def ensure_loopback_iface(iface: str) -> str:
    """Return 'lo' if `iface` is the loopback interface, else raise NonLoopbackError.

    >>> ensure_loopback_iface("lo")
    'lo'
    """
    if iface != LOOPBACK_IFACE:
        raise NonLoopbackError(
            f"interface {iface!r} is not the loopback. socklab은 'lo'에서만 패킷을 잡습니다. / "
            "socklab only sniffs on the loopback interface 'lo'."
        )
    return iface

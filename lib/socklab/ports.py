"""Service ports: the services file, IANA's port ranges, and the ports the kernel hands out.

The services file maps names to port numbers (``http 80/tcp www``). Read it like this:

>>> table = parse_services('''
... # name   port/protocol  aliases      # comment
... http     80/tcp         www          # WorldWideWeb HTTP
... domain   53/udp
... ''')
>>> table.by_name("www")
Service(name='http', port=80, protocol='tcp', aliases=('www',), comment='WorldWideWeb HTTP')
>>> table.by_port(53, "udp").name
'domain'
>>> classify(80), classify(8080), classify(50000)
('well-known', 'registered', 'dynamic')
"""
from __future__ import annotations

import numbers
import os
import pathlib
import socket
import sys
from collections.abc import Iterator
from typing import NamedTuple

from socklab.env import services_path
from socklab.packets.guard import ensure_loopback

__all__ = [
    "Service", "ServiceTable", "Problem", "ServicesFileMissing", "ServicesFormatError",
    "parse_services", "load_services", "classify", "WELL_KNOWN", "REGISTERED", "IANA_DYNAMIC",
    "EphemeralRange", "ephemeral_range", "ephemeral_port_of", "unprivileged_port_start", "who_may_bind",
]

WELL_KNOWN = range(1, 1024)
REGISTERED = range(1024, 49152)
IANA_DYNAMIC = range(49152, 65536)
LOCAL_PORT_RANGE = pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range")
UNPRIVILEGED_PORT_START = pathlib.Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")


class Service(NamedTuple):
    """One line of a services file: ``name port/protocol aliases... # comment``."""
    name: str
    port: int
    protocol: str
    aliases: tuple[str, ...] = ()
    comment: str = ""


class Problem(NamedTuple):
    """A services-file line that could not be read (line numbers start at 1)."""
    lineno: int
    line: str
    reason: str


class ServicesFileMissing(FileNotFoundError):
    """There is no services file where we looked."""


class ServicesFormatError(ValueError):
    """A services-file line is malformed (raised only with ``strict=True``)."""


class ServiceTable:
    """Services read from a services file; look them up by name, alias or port number.

    Malformed lines are skipped and kept in ``.problems`` so you can see what was ignored.
    When a name or port appears twice, the first line wins (as ``socket.getservbyname`` does).
    """

    def __init__(self, services: list[Service], problems: list[Problem] | None = None) -> None:
        self.services = list(services)
        self.problems = list(problems or [])
        self._names: dict[tuple[str, str], Service] = {}
        self._ports: dict[tuple[int, str], Service] = {}
        for s in self.services:
            for name in (s.name, *s.aliases):
                self._names.setdefault((name.lower(), s.protocol), s)
            self._ports.setdefault((s.port, s.protocol), s)

    def by_name(self, name: str, protocol: str | None = "tcp") -> Service | None:
        """The service called `name` (or with that alias; case-insensitive), or None.

        ``protocol=None`` accepts any protocol.
        """
        key = name.strip().lower()
        if protocol is not None:
            return self._names.get((key, protocol.lower()))
        return next((s for (n, _), s in self._names.items() if n == key), None)

    def by_port(self, port: int, protocol: str | None = "tcp") -> Service | None:
        """The service registered on `port` for `protocol` (None: any protocol), or None."""
        if protocol is not None:
            return self._ports.get((port, protocol.lower()))
        return next((s for s in self.services if s.port == port), None)

    def find(self, query: str | int) -> list[Service]:
        """Every entry (all protocols) matching a port number or a name/alias, e.g. "ssh" or "22"."""
        text = str(query).strip()
        if text.isdigit():
            return [s for s in self.services if s.port == int(text)]
        key = text.lower()
        return [s for s in self.services if key in (n.lower() for n in (s.name, *s.aliases))]

    def __len__(self) -> int:
        return len(self.services)

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services)

    def __repr__(self) -> str:
        skipped = f", {len(self.problems)} malformed lines skipped (see .problems)" if self.problems else ""
        return f"<ServiceTable: {len(self.services)} entries{skipped}>"


def _parse_line(line: str) -> tuple[Service | None, str | None]:
    """(service, None) for a good line, (None, None) for blank/comment, (None, reason) if malformed."""
    body, _, comment = line.partition("#")
    fields = body.split()
    if not fields:
        return None, None
    if len(fields) < 2:
        return None, "'이름 포트/프로토콜' 형식이 아님 / expected 'name port/protocol'"
    port_text, slash, protocol = fields[1].partition("/")
    if not slash or not protocol:
        return None, f"'{fields[1]}'에 /프로토콜이 없음 / '{fields[1]}' lacks '/protocol' (e.g. 80/tcp)"
    if not (port_text.isascii() and port_text.isdigit()):  # '²' and '２' pass str.isdigit() but are no port
        return None, (f"포트 '{port_text}'가 0-9 숫자가 아님 / port '{port_text}' is not a number "
                      "(write it with the ASCII digits 0-9)")
    port = int(port_text)
    if port > 65535:
        return None, f"포트 {port}는 65535보다 큼 / port {port} is above 65535"
    return Service(fields[0], port, protocol.lower(), tuple(fields[2:]), comment.strip()), None


def parse_services(text: str, *, strict: bool = False) -> ServiceTable:
    """Parse the text of a services file into a :class:`ServiceTable`.

    Blank lines and ``#`` comments are ignored. Malformed lines are skipped and listed in
    ``table.problems``; with ``strict=True`` the first one raises :class:`ServicesFormatError`
    naming its line number.

    >>> t = parse_services("ssh 22/tcp\\nbroken line\\n")
    >>> len(t), t.problems[0].lineno
    (1, 2)
    >>> parse_services("ssh 22/tcp\\nbroken line\\n", strict=True)
    Traceback (most recent call last):
    ...
    socklab.ports.ServicesFormatError: line 2: 'broken line': 'line'에 /프로토콜이 없음 / 'line' lacks '/protocol' (e.g. 80/tcp)
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_services() needs the file's text (str), got {type(text).__name__}; "
                        "read a file with load_services(path) instead")
    services, problems = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        service, reason = _parse_line(line)
        if reason is not None:
            if strict:
                raise ServicesFormatError(f"line {lineno}: {line.strip()!r}: {reason}")
            problems.append(Problem(lineno, line, reason))
        elif service is not None:
            services.append(service)
    return ServiceTable(services, problems)


def load_services(path: str | os.PathLike | None = None, *, strict: bool = False) -> ServiceTable:
    """Read a services file (default: this system's, see :func:`socklab.env.services_path`)."""
    where = pathlib.Path(path) if path is not None else services_path()
    try:
        text = where.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ServicesFileMissing(
            f"services 파일이 없습니다: {where}\n"
            f"  No services file at {where}. On Debian/Ubuntu install it with "
            "`apt-get install netbase`, or pass another file: load_services(path=...), "
            "or parse text you have: parse_services(text)."
        ) from None
    except IsADirectoryError:
        raise ServicesFileMissing(f"{where} 는 디렉터리입니다 / {where} is a directory, not a services file") from None
    return parse_services(text, strict=strict)


def classify(port: int) -> str:
    """IANA's name for the range `port` falls in (RFC 6335).

    0 'reserved', 1-1023 'well-known', 1024-49151 'registered', 49152-65535 'dynamic' (private).

    >>> [classify(p) for p in (0, 1023, 1024, 49151, 49152, 65535)]
    ['reserved', 'well-known', 'registered', 'registered', 'dynamic', 'dynamic']
    >>> classify(65536)
    Traceback (most recent call last):
    ...
    ValueError: 포트 번호는 0~65535 범위의 정수입니다 / a port number is an integer from 0 to 65535; got 65536 (too large)
    """
    base = "포트 번호는 0~65535 범위의 정수입니다 / a port number is an integer from 0 to 65535"
    if isinstance(port, bool) or not isinstance(port, numbers.Integral):
        hint = f"; convert text first: int({port!r})" if isinstance(port, str) else ""
        raise ValueError(f"{base}; got {port!r} ({type(port).__name__}){hint}")
    if port < 0:
        raise ValueError(f"{base}; got {port} (negative)")
    if port > 65535:
        raise ValueError(f"{base}; got {port} (too large)")
    if port == 0:
        return "reserved"
    if port in WELL_KNOWN:
        return "well-known"
    return "registered" if port in REGISTERED else "dynamic"


class EphemeralRange(NamedTuple):
    """The ports the kernel picks from for a client's local end (inclusive), and where that came from."""
    low: int
    high: int
    source: str

    @property
    def ports(self) -> range:
        return range(self.low, self.high + 1)

    def contains(self, port: int) -> bool:
        return self.low <= port <= self.high


def ephemeral_range() -> EphemeralRange:
    """This kernel's ephemeral (client) port range, or IANA's 49152-65535 if it cannot be read.

    Linux's default is 32768-60999, not IANA's range: both are right, for different owners.
    """
    try:
        low, high = (int(x) for x in LOCAL_PORT_RANGE.read_text().split())
        return EphemeralRange(low, high, str(LOCAL_PORT_RANGE))
    except (OSError, ValueError):
        return EphemeralRange(IANA_DYNAMIC.start, IANA_DYNAMIC.stop - 1, "IANA (RFC 6335)")


def ephemeral_port_of(address: tuple[str, int], *, timeout: float = 5.0) -> int:
    """Connect to `address` (a loopback server, e.g. ``echo_server().address``) and return the
    local port the kernel chose for this client end. Host names other than ``localhost`` are
    refused, not resolved: a DNS lookup would itself leave the machine."""
    host, port = address
    host = ensure_loopback(host)  # raises NonLoopbackError (a ValueError) before any lookup or socket
    with socket.create_connection((host, port), timeout=timeout) as sock:
        return sock.getsockname()[1]


def unprivileged_port_start() -> tuple[int, str]:
    """(lowest port an ordinary user may bind, where that came from)."""
    if sys.platform.startswith("win"):
        return 0, "Windows (no privileged ports)"
    try:
        return int(UNPRIVILEGED_PORT_START.read_text().split()[0]), str(UNPRIVILEGED_PORT_START)
    except (OSError, ValueError, IndexError):
        return 1024, "traditional Unix rule"


def who_may_bind(port: int) -> str:
    """Who may ``bind()`` a listening socket to `port` on this machine (Korean / English).

    >>> who_may_bind(0).startswith("누구나")
    True
    """
    classify(port)  # same clear ValueError for impossible ports
    if port == 0:
        return "누구나: 0은 커널이 빈 포트를 골라 달라는 뜻 / anyone: port 0 asks the kernel for a free port"
    start, source = unprivileged_port_start()
    if port < start:
        return (f"root 또는 CAP_NET_BIND_SERVICE 권한만 ({start} 미만) / only root or a program with "
                f"CAP_NET_BIND_SERVICE (ports below {start}, from {source})")
    return (f"누구나 (다른 소켓이 쓰고 있지 않다면) / any user, if no other socket is using it "
            f"(ports from {start} up, from {source})")

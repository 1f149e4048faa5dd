"""socklab.ports: services files, IANA port ranges, ephemeral ports, who may bind."""
import doctest
import pathlib

import pytest

from socklab import env, ports
from socklab.servers import echo_server
from support import strict_skip

SAMPLE = """\
# /etc/services sample: name  port/protocol  aliases  # comment

tcpmux		1/tcp				# TCP port service multiplexer
echo		7/tcp
echo		7/udp
ftp		21/tcp
ssh		22/tcp				# SSH Remote Login Protocol
http		80/tcp		www		# WorldWideWeb HTTP
nntp		119/tcp		readnews untp	# USENET News Transfer Protocol
sctp-demo	9/sctp
rtmp		1/ddp			# Routing Table Maintenance Protocol
HTTPS		443/tcp
http		8080/tcp
"""


def test_parses_names_ports_protocols_aliases_comments():
    """Are name, port, protocol, aliases and trailing comment all read from a line?"""
    table = ports.parse_services(SAMPLE)
    assert table.by_name("nntp") == ports.Service("nntp", 119, "tcp", ("readnews", "untp"),
                                                  "USENET News Transfer Protocol")
    assert table.by_name("untp").port == 119
    assert table.by_port(7, "udp").name == "echo"
    assert table.by_port(9, "sctp").name == "sctp-demo"
    assert table.by_port(1, "ddp").name == "rtmp"
    assert len(table) == 11 and not table.problems


def test_lookups_ignore_case_and_can_span_protocols():
    """Does 'WWW' find http, and does protocol=None find a udp-only service?"""
    table = ports.parse_services(SAMPLE)
    assert table.by_name("WWW").name == "http"
    assert table.by_name("https").port == 443
    assert table.by_name("sctp-demo") is None
    assert table.by_name("sctp-demo", protocol=None).protocol == "sctp"
    assert table.by_port(22, "udp") is None
    assert {s.protocol for s in table.find("echo")} == {"tcp", "udp"}
    assert [s.name for s in table.find("21")] == ["ftp"]


def test_first_entry_wins_for_duplicates():
    """When a name appears twice, is the first line used, as getservbyname does?"""
    table = ports.parse_services(SAMPLE)
    assert table.by_name("http").port == 80
    assert table.by_port(8080).name == "http"


def test_malformed_lines_are_skipped_and_listed():
    """Are bad lines skipped, each recorded with its line number and a reason a student can act on?"""
    text = "ssh 22/tcp\nlonely\nweb 80\nbad x/tcp\nbig 70000/tcp\nhttp 80/tcp\n"
    table = ports.parse_services(text)
    assert [s.name for s in table] == ["ssh", "http"]
    assert [p.lineno for p in table.problems] == [2, 3, 4, 5]
    reasons = " ".join(p.reason for p in table.problems)
    assert "name port/protocol" in reasons and "not a number" in reasons and "65535" in reasons
    assert "4 malformed lines" in repr(table)


def test_strict_parsing_names_the_line():
    """With strict=True, does the error say which line is wrong?"""
    with pytest.raises(ports.ServicesFormatError, match=r"line 3: 'web 80'"):
        ports.parse_services("# c\nssh 22/tcp\nweb 80\n", strict=True)


def test_parse_rejects_bytes_with_advice():
    """Does passing bytes (or a path) say what to do instead?"""
    with pytest.raises(TypeError, match="load_services"):
        ports.parse_services(b"ssh 22/tcp")


def test_empty_and_comment_only_text():
    """Is a file of only comments and blank lines an empty table, not an error?"""
    table = ports.parse_services("\n# nothing here\n   \n")
    assert len(table) == 0 and not table.problems and table.by_name("ssh") is None


def test_load_this_systems_services_file():
    """Does the real /etc/services load with the well-known entries in it?"""
    if not env.has_services_file():
        strict_skip("no services file on this machine (apt-get install netbase)")
    table = ports.load_services()
    assert table.by_name("ssh").port == 22
    assert table.by_name("www").name == "http"
    assert len(table) > 100


def test_missing_file_says_where_and_what_to_do(tmp_path):
    """Does a missing services file give a FileNotFoundError naming the path and the fix?"""
    missing = tmp_path / "services"
    with pytest.raises(FileNotFoundError) as info:
        ports.load_services(missing)
    assert isinstance(info.value, ports.ServicesFileMissing)
    assert str(missing) in str(info.value) and "netbase" in str(info.value)
    with pytest.raises(FileNotFoundError, match="directory"):
        ports.load_services(tmp_path)


def test_load_a_given_file(tmp_path):
    """Can a file elsewhere (e.g. a copy of the Windows one, CRLF endings) be loaded?"""
    path = tmp_path / "services"
    path.write_bytes(b"echo 7/tcp\r\nhttp 80/tcp www # web\r\n")
    table = ports.load_services(path)
    assert table.by_name("www") == ports.Service("http", 80, "tcp", ("www",), "web")


@pytest.mark.parametrize("port, kind", [(0, "reserved"), (1, "well-known"), (80, "well-known"),
                                        (1023, "well-known"), (1024, "registered"), (49151, "registered"),
                                        (49152, "dynamic"), (65535, "dynamic")])
def test_classify_boundaries(port, kind):
    """Does every IANA boundary fall on the right side?"""
    assert ports.classify(port) == kind


@pytest.mark.parametrize("bad, words", [(-1, "negative"), (65536, "too large"), (True, "bool"),
                                        (80.0, "float"), ("80", "int('80')"), (None, "NoneType")])
def test_classify_rejects_non_ports_clearly(bad, words):
    """Is anything but an int in 0..65535 a ValueError that says what a port is?"""
    with pytest.raises(ValueError) as info:
        ports.classify(bad)
    assert "0 to 65535" in str(info.value) and words in str(info.value)


def test_ephemeral_range_comes_from_the_kernel():
    """Is the range read from /proc on Linux, and does it say so?"""
    if not ports.LOCAL_PORT_RANGE.exists():
        strict_skip("no /proc/sys/net/ipv4/ip_local_port_range")
    low, high = map(int, ports.LOCAL_PORT_RANGE.read_text().split())
    found = ports.ephemeral_range()
    assert (found.low, found.high, found.source) == (low, high, str(ports.LOCAL_PORT_RANGE))
    assert found.contains(low) and not found.contains(high + 1) and len(found.ports) == high - low + 1


def test_ephemeral_range_falls_back_to_iana(monkeypatch, tmp_path):
    """Without /proc, is IANA's 49152-65535 used, labelled as IANA's?"""
    monkeypatch.setattr(ports, "LOCAL_PORT_RANGE", tmp_path / "absent")
    assert ports.ephemeral_range() == (49152, 65535, "IANA (RFC 6335)")


def test_ephemeral_port_of_a_real_connection():
    """Does a real loopback connection get a local port inside the kernel's ephemeral range?"""
    with echo_server(name="test-ports-ephemeral") as srv:
        port = ports.ephemeral_port_of(srv.address, timeout=2)
        srv.wait_for(1, timeout=2)
    assert port != srv.port
    assert ports.ephemeral_range().contains(port)


def test_ephemeral_port_of_refuses_other_hosts():
    """Is a non-loopback address refused before any packet is sent?"""
    with pytest.raises(ValueError, match="loopback"):
        ports.ephemeral_port_of(("192.0.2.1", 80), timeout=0.5)


def test_who_may_bind_follows_the_kernel_setting(monkeypatch, tmp_path):
    """Does who_may_bind() use ip_unprivileged_port_start, and treat port 0 specially?"""
    setting = tmp_path / "ip_unprivileged_port_start"
    setting.write_text("1024\n")
    monkeypatch.setattr(ports, "UNPRIVILEGED_PORT_START", setting)
    assert "CAP_NET_BIND_SERVICE" in ports.who_may_bind(80)
    assert "any user" in ports.who_may_bind(8080)
    assert "kernel" in ports.who_may_bind(0)
    setting.write_text("80\n")
    assert "any user" in ports.who_may_bind(80) and "CAP_NET_BIND_SERVICE" in ports.who_may_bind(79)
    with pytest.raises(ValueError):
        ports.who_may_bind(70000)


def test_who_may_bind_reads_this_kernel():
    """Does the real kernel setting appear as the source?"""
    if not pathlib.Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").exists():
        strict_skip("no ip_unprivileged_port_start on this kernel")
    assert "ip_unprivileged_port_start" in ports.who_may_bind(1)


def test_doctests():
    """Do the examples in ports' docstrings run as written?"""
    result = doctest.testmod(ports, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 5

"""net-snmp as the oracle: its command-line tools see socklab's agent as they see Debian's snmpd.

Each test starts a real ``snmpd`` (its own process, on a loopback port the kernel just handed out,
with a minimal config written here) and a socklab agent holding the same four system objects, then
runs the same ``snmpget``/``snmpgetnext``/``snmpwalk``/``snmpbulkget``/``snmpset`` command against
both and compares what the tool prints and its exit status.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

from socklab import snmp
from support import require_tool

SYSTEM = "1.3.6.1.2.1.1"
OBJECTS = {snmp.SYS_DESCR: "socklab test router", snmp.SYS_CONTACT: "lab admin", snmp.SYS_NAME: "router-1",
           snmp.SYS_LOCATION: "room 101"}
# sysDescr and sysName are fixed by snmpd.conf (so read-only there); sysContact/sysLocation are set over SNMP.
CONFIG = """\
view labview included .1.3.6.1.2.1.1.1
view labview included .1.3.6.1.2.1.1.4
view labview included .1.3.6.1.2.1.1.5
view labview included .1.3.6.1.2.1.1.6
rocommunity public 127.0.0.1 -V labview
rwcommunity private 127.0.0.1 -V labview
sysDescr socklab test router
sysName router-1
"""


class NetSnmp:
    """Runs net-snmp commands with a private config/persistent folder (nothing from ~/.snmp or /var/lib)."""

    def __init__(self, folder) -> None:
        self.folder = folder
        (folder / "client").mkdir(exist_ok=True)
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "MIBS": "",
                    "SNMPCONFPATH": str(folder / "client"), "SNMP_PERSISTENT_DIR": str(folder / "client")}

    def run(self, address, tool: str, *options: str, operands=(), timeout: float = 3.0) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) of ``tool -On -t timeout -r 0 OPTIONS host:port OPERANDS``."""
        target = f"{address[0]}:{address[1]}"
        done = subprocess.run([require_tool(tool, "snmp"), "-On", "-t", str(timeout), "-r", "0", *options, target,
                               *operands], capture_output=True, text=True, timeout=20, env=self.env)
        # The two agents differ only in their port: hide it so outputs compare equal.
        return done.returncode, done.stdout.replace(target, "AGENT"), done.stderr.replace(target, "AGENT")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_snmpd(folder, tools: NetSnmp):
    """A real snmpd on a fresh loopback port: (process, address). Retries if another program took the port."""
    snmpd = require_tool("snmpd", "snmpd")
    (folder / "snmpd.conf").write_text(CONFIG)
    (folder / "persist").mkdir(exist_ok=True)
    for _attempt in range(5):
        port = _free_udp_port()  # it may be taken again before snmpd binds it: then snmpd exits and we retry
        log = open(folder / "snmpd.log", "w")
        proc = subprocess.Popen([snmpd, "-f", "-C", "-c", str(folder / "snmpd.conf"), "-Lf", str(folder / "snmpd.log"),
                                 f"udp:127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**tools.env, "SNMP_PERSISTENT_DIR": str(folder / "persist")})
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            if snmp.get(("127.0.0.1", port), snmp.SYS_NAME, timeout=0.2) == "router-1":
                return proc, ("127.0.0.1", port)
        stop(proc)
    pytest.fail(f"snmpd did not start; its log:\n{(folder / 'snmpd.log').read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()  # by its PID: only the snmpd this test started
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture
def pair(tmp_path):
    """(tools, real snmpd address, socklab agent address) holding the same objects."""
    tools = NetSnmp(tmp_path)
    proc, real = start_snmpd(tmp_path, tools)
    ours = snmp.agent(OBJECTS, writable=[snmp.SYS_CONTACT, snmp.SYS_LOCATION], name="t-netsnmp-agent")
    try:
        for oid in (snmp.SYS_CONTACT, snmp.SYS_LOCATION):  # snmpd's defaults → our values
            done = tools.run(real, "snmpset", "-v2c", "-c", "private", operands=[oid, "s", OBJECTS[oid]])
            assert done[0] == 0, done
        yield tools, real, ours.address
    finally:
        ours.stop()
        stop(proc)


def same(tools, real, ours, *command, expect_answer=True):
    """Run `command` (its last item: the operands, split on spaces) against both agents; equal output?"""
    *head, operands = command
    want = tools.run(real, *head, operands=operands.split())
    got = tools.run(ours, *head, operands=operands.split())
    assert got == want, f"{' '.join(command)}\n snmpd:   {want}\n socklab: {got}"
    if expect_answer:  # both timing out would compare equal and prove nothing
        assert "Timeout" not in want[2], want


READS = [
    ("snmpget", "-v2c", "-c", "public", f"{snmp.SYS_NAME} {SYSTEM}.5 {SYSTEM}.5.1 {SYSTEM}.99.0 {snmp.SYS_UPTIME} "
                                        f"{snmp.SYS_CONTACT} {SYSTEM} {snmp.SYS_NAME}.0"),
    ("snmpget", "-v1", "-c", "public", f"{snmp.SYS_NAME} {SYSTEM}.99.0 {snmp.SYS_LOCATION}"),
    ("snmpget", "-v1", "-c", "public", f"{SYSTEM}.5"),
    ("snmpgetnext", "-v2c", "-c", "public", f"{snmp.SYS_LOCATION} {SYSTEM}.4 {SYSTEM} .1 {snmp.SYS_NAME}.0"),
    ("snmpgetnext", "-v1", "-c", "public", f"{snmp.SYS_CONTACT} {snmp.SYS_LOCATION}"),
    ("snmpwalk", "-v2c", "-c", "public", SYSTEM),
    ("snmpwalk", "-v1", "-c", "public", SYSTEM),
    ("snmpwalk", "-v2c", "-c", "public", ".1"),
    ("snmpwalk", "-v2c", "-c", "private", f"{SYSTEM}.5"),
    ("snmpwalk", "-v2c", "-c", "public", "1.3.6.1.2.1.2"),
    ("snmpbulkget", "-v2c", "-c", "public", "-Cn0", "-Cr5", SYSTEM),
    ("snmpbulkget", "-v2c", "-c", "public", "-Cn1", "-Cr3", f"{snmp.SYS_CONTACT} {snmp.SYS_NAME}"),
    ("snmpbulkget", "-v2c", "-c", "public", "-Cn1", "-Cr3", f"{snmp.SYS_DESCR} {SYSTEM}"),
    ("snmpbulkwalk", "-v2c", "-c", "public", SYSTEM),
]


def test_read_commands_print_what_they_print_against_snmpd(pair):
    """Do snmpget/getnext/walk/bulkget (v1 and v2c, known, missing and past-the-end OIDs) print the same for both agents?"""
    tools, real, ours = pair
    for command in READS:
        same(tools, real, ours, *command)


def test_wrong_community_is_a_timeout_for_both(pair):
    """Does a GET with a wrong community time out against both agents (they drop it)?"""
    tools, real, ours = pair
    want, got = (tools.run(agent, "snmpget", "-v2c", "-c", "wrong", operands=[snmp.SYS_NAME], timeout=0.3)
                 for agent in (real, ours))
    assert got == want and "Timeout" in got[2], (want, got)


def test_set_commands_change_and_refuse_like_snmpd(pair):
    """Do snmpset's successes and refusals (notWritable, wrongType, noCreation, noAccess, v1 codes) match snmpd, step by step?"""
    tools, real, ours = pair
    steps = [
        ("snmpset", "-v2c", "-c", "private", f"{snmp.SYS_LOCATION} s lab"),
        ("snmpget", "-v2c", "-c", "public", snmp.SYS_LOCATION),
        ("snmpset", "-v2c", "-c", "private", f"{snmp.SYS_NAME} s x"),
        ("snmpset", "-v2c", "-c", "private", f"{snmp.SYS_DESCR} s x"),
        ("snmpset", "-v2c", "-c", "private", f"{snmp.SYS_LOCATION} i 5"),
        ("snmpset", "-v2c", "-c", "private", f"{SYSTEM}.5.1 s x"),
        ("snmpset", "-v2c", "-c", "private", f"{snmp.SYS_CONTACT} s new {snmp.SYS_DESCR} s x"),
        ("snmpget", "-v2c", "-c", "public", snmp.SYS_CONTACT),  # unchanged: all or nothing
        ("snmpset", "-v2c", "-c", "public", f"{snmp.SYS_LOCATION} s x"),
        ("snmpset", "-v1", "-c", "private", f"{snmp.SYS_DESCR} s x"),
        ("snmpset", "-v1", "-c", "public", f"{snmp.SYS_LOCATION} s x"),
        ("snmpset", "-v1", "-c", "private", f"{snmp.SYS_LOCATION} i 3"),
        ("snmpset", "-v2c", "-c", "private", f"{snmp.SYS_CONTACT} s ops {snmp.SYS_LOCATION} s rack"),
        ("snmpwalk", "-v2c", "-c", "public", SYSTEM),
    ]
    for command in steps:
        same(tools, real, ours, *command)


def test_reference_manager_reads_walks_and_sets_a_real_snmpd(pair):
    """Does socklab's manager get, walk and set a real snmpd, and report its refusals and missing objects?"""
    _tools, real, _ours = pair
    assert snmp.get(real, snmp.SYS_NAME) == "router-1"
    assert snmp.get(real, f"{SYSTEM}.99.0") is None and snmp.get(real, f"{SYSTEM}.5") is None
    assert snmp.get_next(real, snmp.SYS_DESCR) == (snmp.SYS_CONTACT, "lab admin")
    assert snmp.walk(real, SYSTEM) == list(OBJECTS.items())
    assert snmp.set_value(real, snmp.SYS_LOCATION, "rack 7") == "noError"
    assert snmp.get(real, snmp.SYS_LOCATION) == "rack 7"
    assert snmp.set_value(real, snmp.SYS_NAME, "other") == "notWritable"
    assert snmp.set_value(real, snmp.SYS_LOCATION, "x", community="public") == "noAccess"
    t0 = time.monotonic()
    assert snmp.get(real, snmp.SYS_NAME, community="wrong", timeout=0.3) is None
    assert time.monotonic() - t0 < 0.5

"""Notebook 03.3 in a real kernel: passing grade cells say ✓, and the worked listings show what the prose claims.

(test_execution.py runs every notebook, solutions and blank student ones; this file checks what is
particular to 03.3 from one run of its solutions notebook.)
"""
from __future__ import annotations

import re

import pytest

from nbtools import SOLUTIONS, execute, nbgrader_meta, source

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run():
    return execute(SOLUTIONS / "03.3-service-ports.ipynb")


def _output(run, marker: str) -> str:
    cells = [c for c in run.nb.cells if c.cell_type == "code" and marker in source(c)]
    assert len(cells) == 1, marker
    return run.text(cells[0])


def test_every_passing_grade_cell_prints_its_check_line(run):
    """Does each 03.3 grade cell that passes print one ✓ line with its title and points?"""
    for cell in run.nb.cells:
        if cell.cell_type == "code" and nbgrader_meta(cell).get("grade"):
            text = run.text(cell)
            assert not run.errors(cell), nbgrader_meta(cell)["grade_id"]
            assert re.search(r"✓ 통과 / passed: 연습 1[0-4].*\(\d점\)", text), (nbgrader_meta(cell)["grade_id"], text)


def test_services_demo_asks_the_os_and_says_snmp_is_udp(run):
    """Does the services demo call getservbyname() and show SNMP as 161/udp (never 161/tcp)?"""
    text = _output(run, "socket.getservbyname(name, protocol)")
    assert "socket.getservbyname('snmp', 'udp') → 161" in text, text
    assert "161/tcp" not in text and "'snmp', 'tcp'" not in text
    assert "getservbyport(161, 'udp') → 'snmp'" in text


def test_port_zero_server_gets_a_port_in_the_kernels_ephemeral_range(run):
    """Does the worked listing show a server bound to port 0 getting a port inside this kernel's range?"""
    text = _output(run, 'server.bind(("127.0.0.1", 0))')
    assert re.search(r"서버 \(server, bind 0\):\s+\d+\s+커널 범위 \d+-\d+ 안\? True", text), text
    assert "connect" in text and "accept" in text  # the trace table of the calls is printed


def test_restart_demo_shows_time_wait_and_so_reuseaddr(run):
    """Does the restart demo fail with EADDRINUSE without SO_REUSEADDR and succeed with it (TIME_WAIT is real)?"""
    text = _output(run, "def start_server(port, reuse):")
    assert "SO_REUSEADDR=False: 재시작 실패 / restart failed: EADDRINUSE" in text, text
    assert "SO_REUSEADDR=True : 재시작 성공 / restart ok" in text, text


def test_bind_listing_compares_by_name(run):
    """Does the bind listing show the errno, its name and exc.errno == errno.EADDRINUSE being True?"""
    text = _output(run, "second.bind(first.getsockname())")
    assert re.search(r"errno \d+ → EADDRINUSE \| exc.errno == errno.EADDRINUSE: True", text), text


def test_connect_listing_shows_open_refused_and_a_real_timeout(run):
    """Does the connect listing meet all three outcomes, the stalled port taking its whole time limit?"""
    text = _output(run, "connect()의 세 가지 결과")
    assert "연결됨 / connected" in text and "ConnectionRefusedError (RST)" in text, text
    waited = re.search(r"TimeoutError\s+([\d.]+) ms", text)
    assert waited and float(waited.group(1)) >= 190, text  # settimeout(0.2): it really waited


def test_port_line_figure_is_drawn_in_the_ranges_section(run):
    """Is the port number line (with the kernel's range) shown as a picture in section 2?"""
    cells = [c for c in run.nb.cells if c.cell_type == "code" and "figures.port_line(" in source(c)]
    assert cells and all(any("image/svg+xml" in o.get("data", {}) for o in c.outputs) for c in cells)

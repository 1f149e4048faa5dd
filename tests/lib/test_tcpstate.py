"""socklab.tcpstate: the kernel's TCP table, filtered to our own sockets, and the state diagram."""
from __future__ import annotations

import socket

import pytest

from socklab import faults, tcpstate


def test_a_connection_shows_listen_and_two_established_rows_and_nothing_else():
    """Do our listener and both ends of our connection appear with the right states, and only they?"""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
            s, _ = listener.accept()
            with s:
                snap = tcpstate.snapshot(listener, c, s)
                assert sorted(r.state for r in snap.rows) == ["ESTABLISHED", "ESTABLISHED", "LISTEN"]
                assert all(port in (r.local[1], r.remote[1]) for r in snap.rows)
                assert snap.counts == {"LISTEN": 1, "ESTABLISHED": 2}
                assert tcpstate.peer_row(c).inode == tcpstate.states(s)[0].inode


def test_unread_bytes_show_in_the_receive_queue_and_wait_drained_sees_the_read():
    """Does rx_queue count bytes not yet read, and does wait_drained return once the peer reads them?"""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        with socket.create_connection(listener.getsockname(), timeout=2) as c:
            s, _ = listener.accept()
            with s:
                c.sendall(b"12345")
                assert tcpstate.wait_drained(c, timeout=0.05) is False
                assert tcpstate.states(s)[0].rx_queue == 5
                assert s.recv(10) == b"12345"
                assert tcpstate.wait_drained(c, timeout=1) is True


def test_closing_walks_fin_wait_close_wait_then_time_wait_by_port():
    """Does the side that closes first end in TIME_WAIT, found by port after its socket is gone?"""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        s, _ = listener.accept()
        s.close()
        assert tcpstate.wait_state(port, "CLOSE_WAIT", 2)
        assert {r.state for r in tcpstate.states(ports=[port])} >= {"FIN_WAIT2", "CLOSE_WAIT"}
        c.close()
        assert tcpstate.wait_state(port, "TIME_WAIT", 2)
        tw = [r for r in tcpstate.states(ports=[port]) if r.state == "TIME_WAIT"]
        assert tw and tw[0].local[1] == port and tw[0].inode == 0


def test_ipv6_rows_have_readable_addresses():
    """Is an IPv6 listener's address shown as ::1, not as kernel hex?"""
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as listener:
        (row,) = tcpstate.states(listener)
        assert row.local == ("::1", listener.getsockname()[1]) and row.state == "LISTEN"
        assert "[::1]" in tcpstate.snapshot(listener).text()


def test_asking_for_nothing_is_a_clear_error():
    """Does states() refuse to dump the whole machine's sockets?"""
    with pytest.raises(tcpstate.TcpStateError, match="which sockets"):
        tcpstate.states()
    with pytest.raises(ValueError, match="unknown TCP state"):
        tcpstate.wait_state(1, "OPEN")


def test_diagram_highlights_the_current_states():
    """Are exactly the highlighted states filled (orange) in the diagram?"""
    fig = tcpstate.diagram({"LISTEN": 1, "TIME_WAIT": 2})
    filled = [p for p in fig.axes[0].patches if p.get_facecolor()[:3] != (0.9568627450980393,) * 3]
    assert len(filled) == 2
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "TIME_WAIT  ×2" in texts and "LISTEN  ×1" in texts


def test_time_wait_port_blocks_a_plain_bind_but_not_one_with_reuseaddr():
    """After a server-first close, does bind() fail with EADDRINUSE unless SO_REUSEADDR is set?"""
    port = faults.time_wait_port()
    assert faults.bind_error(port) == "EADDRINUSE"
    assert faults.bind_error(port, reuse=True) == "ok"


def test_netlink_lookup_agrees_with_the_proc_table():
    """Does the fast sock_diag lookup give the same state, queue and inode as /proc/net/tcp6?"""
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as listener:
        with socket.create_connection(listener.getsockname()[:2], timeout=2) as c:
            s, _ = listener.accept()
            with s:
                c.sendall(b"abc")
                assert tcpstate.wait_drained(c, timeout=0.02) is False
                fast = tcpstate._diag(s.getsockname()[:2], s.getpeername()[:2], socket.AF_INET6)
                (slow,) = tcpstate.states(s)
                assert (fast.state, fast.rx_queue, fast.inode) == (slow.state, slow.rx_queue, slow.inode) == ("ESTABLISHED", 3, slow.inode)
                assert tcpstate._diag(("::1", 1), ("::1", 2), socket.AF_INET6) is None


def test_live_view_follows_the_table_and_draws_on_demand(monkeypatch):
    """Does the widget's table show a new connection's state by itself, and draw() produce a PNG?"""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        view = tcpstate.live_view(ports=[listener.getsockname()[1]], interval=0.02, rounds=200)
        try:
            table = view.children[1]
            assert "LISTEN" in table.value and "ESTABLISHED" not in table.value
            with socket.create_connection(listener.getsockname(), timeout=2):
                assert tcpstate._poll(lambda: "ESTABLISHED" in table.value, 3)
            assert bytes(view.children[3].value) == b""
            view.draw()
            assert bytes(view.children[3].value).startswith(b"\x89PNG")
        finally:
            view.stop()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert tcpstate.live_view(ports=[1]) is None

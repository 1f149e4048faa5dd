"""The lossy UDP channel: seeded fates that never depend on timing, and a record of every datagram."""
from __future__ import annotations

import socket
import time

import pytest

from socklab import lossy, servers
from socklab.packets import NonLoopbackError


def _client(timeout=0.3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    return s


def _run_numbered(schedule, n, *, pace=0.0):
    """Send n numbered datagrams through a channel to an echo server, one at a time; return
    [(direction, index, actions, delivered bytes, copies)] for every datagram the channel saw."""
    with servers.udp_echo_server(name="lossy-test-echo") as srv, lossy.channel(srv.address, schedule) as ch:
        with _client(0.05) as s:
            for i in range(n):
                s.sendto(b"datagram %03d" % i, ch.address)
                if pace:
                    time.sleep(pace)  # noqa: the point is a different timing, not synchronisation
                # wait until the channel has finished with this one (delivered, dropped or its echo back)
                ch.wait_for(lambda c: len(c.datagrams("up")) > i, timeout=1)
                assert ch.wait_settled(1)
                # every copy that reached the echo server comes back as one 'down' datagram
                echoes = sum(0 if d.fate.drop else 1 + d.fate.duplicate for d in ch.datagrams("up"))
                assert ch.wait_for(lambda c: len(c.datagrams("down")) == echoes, timeout=1)
                assert ch.wait_settled(1)
        up = [(d.direction, d.index, d.fate.actions, d.sent_data, len(d.out)) for d in ch.datagrams("up")]
    return up


def test_two_runs_with_one_seed_treat_every_datagram_alike_whatever_the_timing():
    """Do two runs with the same seed (one fast, one paced) give every upward datagram the same fate and bytes?"""
    schedule = lossy.Schedule(seed=42, drop=0.2, duplicate=0.2, reorder=0.1, corrupt=0.2)
    first = _run_numbered(schedule, 40)
    second = _run_numbered(schedule, 40, pace=0.002)
    assert first == second
    kinds = {a for _, _, actions, _, _ in first for a in actions}
    assert {"drop", "duplicate", "corrupt"} <= kinds, kinds   # the seed really exercises the channel
    assert [f.actions for f in schedule.fates("up", 40)] == [a for _, _, a, _, _ in first]


def test_a_different_seed_gives_a_different_schedule():
    """Does changing the seed change the fates (so a seed is not ignored)?"""
    a = [f.actions for f in lossy.Schedule(seed=1, drop=0.3).fates("up", 50)]
    b = [f.actions for f in lossy.Schedule(seed=2, drop=0.3).fates("up", 50)]
    assert a != b and 5 < sum(x == ("drop",) for x in a) < 30


def test_fates_of_the_two_directions_are_independent_and_scripts_override_chance():
    """Is 'down' seeded apart from 'up', and does a script fix exactly the datagrams it names?"""
    s = lossy.Schedule(seed=3, drop=0.5, script={"up": {0: "corrupt@2", 1: ""}, "down": {4: "duplicate,reorder"}})
    assert [f.drop for f in s.fates("up", 30)] != [f.drop for f in s.fates("down", 30)]
    assert s.fate("up", 0).actions == ("corrupt",) and s.fate("up", 0).damage(b"abcd") == b"ab9d"
    assert s.fate("up", 1).actions == ()
    assert s.fate("down", 4).actions == ("duplicate", "reorder")


def test_drop_duplicate_corrupt_and_reorder_happen_on_the_wire():
    """Does the client really see a drop (no reply), two copies, a flipped byte and an overtaken datagram?"""
    schedule = lossy.Schedule(script={"down": {0: "drop", 1: "duplicate", 2: "corrupt@0"}, "up": {3: "reorder"}})
    # hold=1 s: "four" overtakes "three" even on a loaded machine (the order never rests on timing luck)
    with servers.udp_echo_server(name="lossy-test-echo") as srv, lossy.channel(srv.address, schedule, hold=1.0) as ch, \
            _client(0.15) as s:
        s.sendto(b"zero", ch.address)
        with pytest.raises(TimeoutError):
            s.recvfrom(100)
        s.sendto(b"one", ch.address)
        assert s.recvfrom(100)[0] == b"one" and s.recvfrom(100)[0] == b"one"
        s.sendto(b"two", ch.address)
        assert s.recvfrom(100)[0] == bytes([ord("t") ^ 0x5A]) + b"wo"
        s.sendto(b"three", ch.address)      # held back ...
        s.sendto(b"four", ch.address)       # ... until this one has overtaken it
        assert [s.recvfrom(100)[0], s.recvfrom(100)[0]] == [b"four", b"three"]
        assert ch.wait_for(lambda c: len(c.datagrams("down")) == 5, timeout=1)
    assert [d.fate.actions for d in ch.datagrams("up")] == [(), (), (), ("reorder",), ()]
    assert ch.datagrams("down")[0].out == [] and len(ch.datagrams("down")[1].out) == 2


def test_a_reordered_datagram_with_nothing_behind_it_still_arrives():
    """Is a held datagram released after a short hold when no later datagram comes to overtake it?"""
    with servers.udp_echo_server(name="lossy-test-echo") as srv, \
            lossy.channel(srv.address, script={"up": {0: "reorder"}}) as ch, _client(1.0) as s:
        t0 = time.monotonic()
        s.sendto(b"alone", ch.address)
        assert s.recvfrom(100)[0] == b"alone"
        assert time.monotonic() - t0 >= lossy.HOLD * 0.9


def test_delay_follows_the_schedule():
    """Is each datagram held for its seeded delay before it goes on?"""
    schedule = lossy.Schedule(seed=9, delay=(0.03, 0.05))
    with servers.udp_echo_server(name="lossy-test-echo") as srv, lossy.channel(srv.address, schedule) as ch, \
            _client(1.0) as s:
        t0 = time.monotonic()
        s.sendto(b"slow", ch.address)
        s.recvfrom(100)
        rtt = time.monotonic() - t0
    wanted = schedule.fate("up", 0).delay + schedule.fate("down", 0).delay
    assert 0.06 <= wanted <= 0.1 and rtt >= wanted * 0.95


def test_each_client_keeps_its_own_address_towards_the_server_and_gets_its_own_replies():
    """Does the server see two clients as two addresses, and does each client get only its replies?"""
    seen = []

    def handler(data, addr):
        seen.append(addr)
        return data + b"!"
    with servers.serve_udp(handler, name="lossy-test-two") as srv, lossy.channel(srv.address) as ch, \
            _client() as a, _client() as b:
        a.sendto(b"a", ch.address)
        b.sendto(b"b", ch.address)
        assert b.recvfrom(10)[0] == b"b!" and a.recvfrom(10)[0] == b"a!"
    assert len(set(seen)) == 2 and {d.flow for d in ch.datagrams()} == {0, 1}


def test_figure_and_text_show_every_datagram():
    """Does the timeline name each datagram's fate, in text and as a figure with one row each?"""
    schedule = lossy.Schedule(script={"up": {1: "drop"}})
    with servers.udp_echo_server(name="lossy-test-echo") as srv, lossy.channel(srv.address, schedule) as ch, \
            _client(0.1) as s:
        for word in (b"a", b"b", b"a"):
            s.sendto(word, ch.address)
            try:
                s.recvfrom(10)
            except TimeoutError:
                pass
    text = ch.text()
    assert "drop" in text and "(again)" in text and len(text.splitlines()) == 1 + 3 + 2
    fig = ch.figure()
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert len(labels) == 5 and any("dropped" in t for t in labels) and any("retransmitted" in t for t in labels)


def test_bad_settings_and_remote_servers_are_refused_clearly():
    """Are a probability above 1, an unknown script action and a non-loopback server refused with a clear error?"""
    with pytest.raises(ValueError, match="between 0 and 1"):
        lossy.Schedule(drop=1.5)
    with pytest.raises(ValueError, match="unknown action"):
        lossy.Schedule(script={"up": {0: "explode"}})
    with pytest.raises(ValueError, match="low <= high"):
        lossy.Schedule(delay=(0.2, 0.1))
    with pytest.raises(NonLoopbackError):
        lossy.channel(("192.0.2.1", 9))


def test_stop_closes_every_socket_and_ends_the_thread():
    """Does stopping the channel end its thread and close all its sockets?"""
    import threading
    with servers.udp_echo_server(name="lossy-test-echo") as srv:
        ch = lossy.channel(srv.address)
        with _client() as s:
            s.sendto(b"x", ch.address)
            s.recvfrom(10)
        ch.stop()
        ch.stop()
    assert not any(t.name.startswith("socklab-lossy") and t.is_alive() for t in threading.enumerate())
    assert ch._front.fileno() == -1 and all(b.fileno() == -1 for b, _ in ch._backs)


def test_wait_settled_counts_every_datagram_sent_before_it_without_sleeping():
    """Right after a burst, does wait_settled() see every datagram the client sent (a marker, not a sleep)?"""
    with servers.udp_echo_server(name="lossy-test-echo") as srv, lossy.channel(srv.address, drop=1.0) as ch, \
            _client() as s:
        for i in range(200):
            s.sendto(b"%d" % i, ch.address)
        assert ch.wait_settled(2)
        assert len(ch.datagrams("up")) == 200 and ch.flush(1)
    assert all(d.data != ch._token for d in ch.datagrams())   # the marker is never part of the record

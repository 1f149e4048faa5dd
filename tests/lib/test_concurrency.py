"""socklab.concurrency: what the kernel says about a server's threads, children and connections."""
from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from socklab import clients, servers
from socklab.concurrency import (ServerWatch, accept_queue, full_backlog, refusing_address, server_holds,
                                 stalled_round_trips, unread_bytes, wait_until)

FORK_WARNING = "ignore:This process .* is multi-threaded:DeprecationWarning"


def test_watch_counts_threads_started_after_it_but_not_socklab_helpers():
    """Does ServerWatch count a new thread while it runs, ignore socklab's own helpers, and forget it after join?"""
    watch = ServerWatch()
    stop = threading.Event()
    mine = threading.Thread(target=stop.wait)
    helper = threading.Thread(target=stop.wait, name="socklab-client-9")
    mine.start(), helper.start()
    # By id, not by count: other tests in this process may start threads of their own meanwhile.
    try:
        assert mine.native_id in watch.thread_ids() and helper.native_id not in watch.thread_ids()
        assert watch.threads() >= 1
    finally:
        stop.set()
        mine.join(), helper.join()
    # join() returns once Python is done with the thread; the kernel's task may linger a moment.
    assert wait_until(lambda: mine.native_id not in watch.thread_ids(), 2.0)


@pytest.mark.filterwarnings(FORK_WARNING)
def test_watch_sees_a_child_run_become_a_zombie_and_vanish_when_reaped():
    """Is a forked child seen running, then as a zombie after it exits, and gone once waitpid() reaps it?"""
    watch = ServerWatch()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.read(r, 1)
        os._exit(0)
    try:
        assert watch.children() == {pid: "S"} or watch.children().get(pid) in ("R", "S")
        assert watch.zombies() == []
        os.write(w, b"x")
        assert wait_until(lambda: watch.zombies() == [pid], 2.0)
        assert watch.sample()["zombies"] == 1
    finally:
        os.waitpid(pid, 0)
        os.close(r), os.close(w)
    assert watch.children() == {}


def test_socket_table_shows_accept_close_and_unread_bytes():
    """Does the kernel's socket table tell queued from accepted, unread from read, and closed?"""
    listener = socket.create_server(("127.0.0.1", 0))
    server = listener.getsockname()
    with listener, socket.create_connection(server, timeout=2) as client:
        me = client.getsockname()
        assert wait_until(lambda: accept_queue(server) == 1, 1.0)
        assert not server_holds(server, me)          # queued by the kernel, no owner yet
        conn, _ = listener.accept()
        assert server_holds(server, me) and accept_queue(server) == 0
        client.sendall(b"12345")
        assert wait_until(lambda: unread_bytes(server, me) == 5, 1.0)
        conn.recv(5)
        assert unread_bytes(server, me) == 0
        conn.close()
        assert not server_holds(server, me)


def test_full_backlog_makes_connect_time_out_and_refusing_address_refuses():
    """Is a connect to full_backlog() a timeout (not a refusal), and to refusing_address() a refusal at once?"""
    with full_backlog() as address:
        assert accept_queue(address) == 1
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            socket.create_connection(address, timeout=0.2)
        assert 0.15 < time.monotonic() - t0 < 1.0
    with refusing_address() as address, pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=1)


def _iterative(listener):
    with listener:
        for _ in range(4):
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(3)
                while data := conn.recv(4096):
                    conn.sendall(data)


def test_stalled_client_proves_a_concurrent_server_and_catches_an_iterative_one():
    """Are the others served while a client stalls (concurrent server), and reported late (iterative server)?"""
    with servers.echo_server(name="stall-ok") as srv:
        for stall in ("half", "silent"):
            run = stalled_round_trips(srv.address, [b"one", b"two"], stall=stall, timeout=2)
            assert run.ok, (run.error, [r.error for r in run.others])
            assert run.reply == run.payload and [r.reply for r in run.others] == [b"one", b"two"]
            assert run.times["stalled"] <= run.others_start <= run.times["resume"] <= run.times["done"]
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_iterative, args=(listener,), daemon=True).start()
    t0 = time.monotonic()
    run = stalled_round_trips(listener.getsockname(), [b"one", b"two"], timeout=0.5)
    assert not run.ok and all(r.error for r in run.others) and time.monotonic() - t0 < 3


def test_stalled_client_sees_a_server_that_drops_quiet_connections():
    """Is a server that closes a connection quiet for 0.05 s caught by a client that stalls 0.3 s?"""
    def impatient(conn, _addr):
        conn.settimeout(0.05)
        try:
            while data := conn.recv(4096):
                conn.sendall(data)
        except TimeoutError:
            pass  # gives up on a quiet client: the connection closes
    with servers.serve_tcp(impatient, name="impatient") as srv:
        run = stalled_round_trips(srv.address, [b"a"], stall="silent", timeout=2, hold=0.3)
    assert run.still_connected is False and "closed" in run.error


def test_stalled_round_trips_rejects_an_unknown_stall():
    """Does a typo in stall= get a clear ValueError before any connection is made?"""
    with pytest.raises(ValueError, match="half"):
        stalled_round_trips(("127.0.0.1", 9), [b"x"], stall="slow")
    with pytest.raises(ValueError):
        clients.concurrent_round_trips(("127.0.0.1", 9), [])


def test_watch_observes_another_process_as_a_verifier_would():
    """Can a watch on another process's pid count the threads it starts (a verifier watching a student)?"""
    import subprocess
    import sys

    code = ("import sys, threading\nstop = threading.Event()\nsys.stdin.readline()\n"
            "ts = [threading.Thread(target=stop.wait) for _ in range(2)]\n[t.start() for t in ts]\n"
            "print('started', flush=True)\nsys.stdin.readline()\nstop.set()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        watch = ServerWatch(pid=proc.pid)
        assert watch.threads() == 0
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "started"
        assert watch.threads() == 2 and watch.children() == {}
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()

"""socklab.testing.serving and socklab.protocols.chat: each check passes a right server and fails a wrong one."""
from __future__ import annotations

import selectors
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from socklab import testing
from socklab.concurrency import ServerWatch
from socklab.protocols import chat
from socklab.testing import ExerciseFailed


def _echo(conn):
    with conn:
        conn.settimeout(2)
        while data := conn.recv(4096):
            conn.sendall(data)


def thread_per_connection(listener, n):
    threads = []
    for _ in range(n):
        threads.append(threading.Thread(target=_echo, args=(listener.accept()[0],)))
        threads[-1].start()
    for t in threads:
        t.join()


def one_thread_select(listener, n):
    sel, accepted, live = selectors.DefaultSelector(), 0, 0
    sel.register(listener, selectors.EVENT_READ)
    while accepted < n or live:
        for key, _ in sel.select(2):
            if key.fileobj is listener:
                sel.register(listener.accept()[0], selectors.EVENT_READ)
                accepted, live = accepted + 1, live + 1
            elif data := key.fileobj.recv(4096):
                key.fileobj.sendall(data)
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                live -= 1


def test_one_thread_passes_selectors_and_names_the_threads_of_a_threaded_server():
    """Does one_thread() accept a selectors server and reject a thread-per-connection one, counting its threads?"""
    testing.check_server(one_thread_select, clients=[testing.one_thread(ServerWatch()), testing.stalled()], timeout=2)
    with pytest.raises(ExerciseFailed, match="4 threads"):
        testing.check_server(thread_per_connection, clients=[testing.one_thread(ServerWatch())], timeout=2)


def test_forked_rejects_threads_and_bounded_pool_rejects_a_thread_per_connection():
    """Does forked() want child processes, and bounded_pool() a pool that makes the extra client wait?"""
    with pytest.raises(ExerciseFailed, match="child processes"):
        testing.check_server(thread_per_connection, clients=[testing.forked(ServerWatch())], timeout=2)
    with pytest.raises(ExerciseFailed, match="all 2 workers were busy"):
        testing.check_server(thread_per_connection, clients=[testing.bounded_pool(2)], timeout=2)

    def pool(listener, n):
        with ThreadPoolExecutor(max_workers=2) as workers:
            for _ in range(n):
                workers.submit(_echo, listener.accept()[0])
    watch = ServerWatch()
    testing.check_server(pool, clients=[testing.bounded_pool(2)], timeout=2)
    testing.expect_threads_ended(watch)


def test_expect_threads_ended_catches_workers_left_running():
    """Does a pool whose workers outlive serve() fail expect_threads_ended()?"""
    stop = threading.Event()

    def leaky(listener, n):
        for _ in range(n):
            _echo(listener.accept()[0])
        threading.Thread(target=stop.wait, daemon=True).start()
    watch = ServerWatch()
    testing.check_server(leaky, clients=[testing.round_trip()], timeout=2)
    try:
        with pytest.raises(ExerciseFailed, match="still running"):
            testing.expect_threads_ended(watch, grace=0.2)
    finally:
        stop.set()


def _chat_server(*, echo=False, raw=False, leftover=False, close_departed=True):
    def serve(listener, n):
        sel, buffers, joined = selectors.DefaultSelector(), {}, 0
        sel.register(listener, selectors.EVENT_READ)
        while joined < n or buffers:
            for key, _ in sel.select(2):
                sock = key.fileobj
                if sock is listener:
                    conn = listener.accept()[0]
                    buffers[conn] = b""
                    sel.register(conn, selectors.EVENT_READ)
                    conn.sendall(chat.WELCOME)
                    joined += 1
                    continue
                data = sock.recv(4096)
                if not data:
                    sel.unregister(sock)
                    rest = buffers.pop(sock)
                    lines = [rest] if leftover and rest else []
                    if close_departed:
                        sock.close()
                else:
                    buffers[sock] += data
                    if raw:
                        lines, buffers[sock] = [buffers[sock]], b""
                    else:
                        *lines, buffers[sock] = buffers[sock].split(b"\n")
                        lines = [line + b"\n" for line in lines]
                for line in lines:
                    for other in buffers:
                        if other is not sock or echo:
                            other.sendall(line)
    return serve


FULL = dict(n=4, burst=True, split=True, leaver=True)


def test_chat_room_passes_the_reference_server_and_a_selectors_one():
    """Do the reference chat server and a plain selectors chat server pass every chat check?"""
    server = chat.chat_server(name="test-chat")
    try:
        chat.chat_room(**FULL).action(server.address, 2)
    finally:
        server.stop()
    testing.check_server(_chat_server(), clients=[chat.chat_room(3), chat.chat_room(**FULL)], timeout=2)


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("bug, message", [
    (dict(echo=True), "own line back"),
    (dict(raw=True), "lines wrong"),
    (dict(leftover=True), "unfinished line"),
    (dict(close_departed=False), "did not close its connection"),
])
def test_chat_room_names_each_wrong_server(bug, message):
    """Is each chat bug (echo to sender, raw chunks, relayed leftover, departed client kept) named?"""
    with pytest.raises(ExerciseFailed, match=message):
        testing.check_server(_chat_server(**bug), clients=[chat.chat_room(**FULL)], timeout=1)


def test_chat_room_needs_three_members_for_split_and_leaver():
    """Does chat_room() refuse a split/leaver check it cannot make with two members?"""
    with pytest.raises(ValueError, match="3 members"):
        chat.chat_room(2, leaver=True)

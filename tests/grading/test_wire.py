"""The data-only channel and the student proxies, without a kernel: a plain Python child process
runs the agent, this process is the verifier, and socklab.testing's helpers drive proxies."""
from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from socklab import concurrency, testing
from socklab.grading import proxy
from socklab.grading.proxy import Student, StudentFunction
from socklab.grading.wire import Channel, WireError, decode, encode

STUDENT = textwrap.dedent('''
    import os, selectors, socket, threading, time
    import socklab.grading.agent as agent

    def add(a, b):
        return a + b

    def hang():
        time.sleep(60)

    def picky(port):
        if not isinstance(port, int):
            raise ValueError(f"not a port: {port!r}")
        return "ok"

    def opaque():
        return object()

    def serve_echo(listener, n_clients):
        for _ in range(n_clients):
            conn, _ = listener.accept()
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data)

    def serve_upper(listener, n_clients):
        for _ in range(n_clients):
            conn, _ = listener.accept()
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data.upper())

    def fetch(host, port):
        with socket.create_connection((host, port), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            parts = []
            while data := s.recv(4096):
                parts.append(data)
        return b"".join(parts)

    def listen_on(port):
        s = socket.socket()
        s.bind(("127.0.0.1", port))
        s.listen()
        return s

    def unknown_host():
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def send_all(sock, data):
        sock.sendall(data)

    def close_it(sock):
        sock.close()

    def dial(port):
        return socket.create_connection(("127.0.0.1", port), timeout=3)

    def serve_forking(listener, n_clients):
        kids = []
        for _ in range(n_clients):
            conn, _ = listener.accept()
            pid = os.fork()
            if pid == 0:
                listener.close()
                while data := conn.recv(4096):
                    conn.sendall(data)
                os._exit(0)
            kids.append(pid)
            conn.close()
        for pid in kids:
            os.waitpid(pid, 0)

    def serve_threads(listener, n_clients):
        def echo(conn):
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data)
        workers = []
        for _ in range(n_clients):
            conn, _ = listener.accept()
            workers.append(threading.Thread(target=echo, args=(conn,)))
            workers[-1].start()
        for t in workers:
            t.join()

    def serve_select(listener, n_clients):
        sel, done = selectors.DefaultSelector(), 0
        sel.register(listener, selectors.EVENT_READ)
        while done < n_clients:
            for key, _ in sel.select(5):
                if key.fileobj is listener:
                    conn, _ = listener.accept()
                    sel.register(conn, selectors.EVENT_READ)
                elif data := key.fileobj.recv(4096):
                    key.fileobj.sendall(data)
                else:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    done += 1
        sel.close()

    LIMIT = 42
    agent.start()
    time.sleep(120)
''')


def test_plain_data_round_trips_with_exact_types():
    """Does every plain type come back as itself, tuples as tuples and keys as keys?"""
    value = {"n": None, "b": [True, False], "i": -(10 ** 30), "f": 2.5, "s": "소켓", "y": b"\x00\xff",
             ("127.0.0.1", 80): (1, [2, {"x": ()}])}
    back = decode(*encode(value))
    assert back == value and type(back[("127.0.0.1", 80)]) is tuple and type(back["b"][0]) is bool


@pytest.mark.parametrize("bad", [object(), type("S", (str,), {})("x"), {1, 2}, bytearray(b"x")])
def test_non_plain_values_are_refused(bad):
    """Is a subclass, a set or any object refused with a message naming the plain types?"""
    with pytest.raises(WireError, match="not plain data"):
        encode([bad])


@pytest.mark.parametrize("frame", [b"s5:ab", b"l2:N", b"q", b"i:", b"kX", b"NN", b"d1:l0:N", b"k0:" + b"\x00" * 8])
def test_malformed_frames_are_refused(frame):
    """Does a truncated, unknown or trailing frame (or a list as a dict key) raise WireError, nothing else?"""
    with pytest.raises(WireError):
        decode(frame, [])


def test_a_socket_crosses_as_the_same_kernel_socket():
    """Does a listening socket sent through the channel accept connections made to the original?"""
    a, b = socket.socketpair()
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        Channel(a).send({"listener": listener})
        got = Channel(b).recv()["listener"]
        with socket.create_connection(listener.getsockname(), timeout=2):
            conn, _ = got.accept()
            conn.close()
        got.close()
    finally:
        for s in (a, b, listener):
            s.close()


@pytest.fixture
def student(tmp_path):
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = dict(os.environ, SOCKLAB_AGENT_FD=str(theirs.fileno()))
    script = tmp_path / "student_cells.py"    # a file, as a kernel's cells are: its lines show in messages
    script.write_text(STUDENT)
    proc = subprocess.Popen([sys.executable, str(script)], env=env, pass_fds=(theirs.fileno(),))
    theirs.close()
    s = Student(mine, kill=proc.kill, call_timeout=5)
    proxy._students[:] = [s]
    testing.limits.remote_where, testing.checks.remote_accepts = proxy.where_for_thread, proxy.accepts_on
    concurrency.remote_pid = lambda: proc.pid
    try:
        yield s, proc
    finally:
        testing.limits.remote_where = testing.checks.remote_accepts = concurrency.remote_pid = None
        proxy._students[:] = []
        proc.kill()
        proc.wait(5)
        mine.close()


def test_proxies_call_the_student_with_plain_data(student):
    """Do names, values, calls, exceptions (with the student's line) and non-plain returns cross correctly?"""
    s, _ = student
    assert s.names(["add", "LIMIT", "nope"]) == {"add": "callable", "LIMIT": "value"}
    assert s.value("LIMIT") == 42
    add, picky, opaque = (StudentFunction(s, n) for n in ("add", "picky", "opaque"))
    assert testing.call_with_timeout(add, 1, 2, timeout=3) == 3
    with pytest.raises(testing.ExerciseFailed) as failed:
        testing.call_with_timeout(picky, "80", timeout=3)
    assert isinstance(failed.value.student_error, ValueError)
    assert failed.value.detail.startswith("ValueError: not a port: '80' (picky() 줄/line")
    with pytest.raises(testing.ExerciseFailed, match="not plain data"):
        opaque()


def test_a_hung_call_times_out_and_stops_the_student(student):
    """Does call_with_timeout on a proxy give a TimeLimit naming the student's stuck line, and kill the student?"""
    s, proc = student
    with pytest.raises(testing.TimeLimit) as limit:
        testing.call_with_timeout(StudentFunction(s, "hang"), timeout=1.0)
    assert "hang() 줄/line" in str(limit.value) and "time.sleep(60)" in str(limit.value)
    assert proc.wait(5) is not None and not s.alive
    with pytest.raises(proxy.StudentGone):
        StudentFunction(s, "add")(1, 2)


def test_check_server_and_check_client_drive_a_student_in_another_process(student):
    """Do reference clients reach a student server through a passed listener, and a student client our server?"""
    s, _ = student
    testing.check_server(StudentFunction(s, "serve_echo"), clients=[testing.round_trip(b"hi"), testing.multi_chunk()],
                         timeout=3)
    with pytest.raises(testing.ExerciseFailed, match="got the wrong reply"):
        testing.check_server(StudentFunction(s, "serve_upper"), clients=[testing.round_trip(b"hi")], timeout=3)
    fetch = StudentFunction(s, "fetch")
    request, value = testing.check_client(lambda host, port: fetch(host, port), reply=b"HTTP/1.0 200 OK\r\n\r\nhi",
                                          read_until=b"\r\n\r\n")
    assert request.startswith(b"GET / HTTP/1.0") and value == b"HTTP/1.0 200 OK\r\n\r\nhi"


def test_an_oserror_crosses_with_its_errno_and_strerror(student):
    """Does an OSError from the student's code arrive as the same class with errno and strerror
    (a test checks EADDRINUSE, not the text), and socket.gaierror as socket.gaierror?"""
    s, _ = student
    with socket.create_server(("127.0.0.1", 0)) as busy:
        error = testing.expect_raises(OSError, StudentFunction(s, "listen_on"), busy.getsockname()[1],
                                      ko="쓰이는 포트", en="a busy port")
    assert type(error) is OSError and error.errno == errno.EADDRINUSE
    assert error.strerror == os.strerror(errno.EADDRINUSE) and str(error).startswith("[Errno 98]")
    error = testing.expect_raises(OSError, StudentFunction(s, "unknown_host"), ko="없는 이름", en="no such name")
    assert type(error) is socket.gaierror and error.errno == socket.EAI_NONAME


def _eof_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    return True


def test_a_socket_passed_to_the_student_closes_when_either_side_closes_it(student):
    """When the test closes a socket it lent the student, or the student closes it, or the test
    closes a socket the student returned, does the peer see the FIN (one close is the last one)?"""
    s, _ = student
    a, b = socket.socketpair()
    StudentFunction(s, "send_all")(a, b"hello")
    a.close()
    assert _eof_within(b, 3), "the student's copy kept the connection open after the test closed it"
    b.close()
    a, b = socket.socketpair()
    StudentFunction(s, "send_all")(a, b"first")    # an earlier call left a copy in the student's process
    StudentFunction(s, "close_it")(a)
    assert a.fileno() == -1 and _eof_within(b, 3), "a copy kept the connection open after the student closed it"
    b.close()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        dialled = StudentFunction(s, "dial")(listener.getsockname()[1])
        conn, _ = listener.accept()
        dialled.close()
        assert _eof_within(conn, 3), "the student kept its copy of the socket it returned"
        conn.close()


def test_a_server_watch_counts_the_student_process_forks_and_threads(student):
    """Does a ServerWatch made in the verifier count the child processes and threads of the
    student's process (a forking server passes forked(), a threaded one fails one_thread())?"""
    s, _ = student
    watch = concurrency.ServerWatch()
    assert watch.pid != concurrency.proc_pid()
    testing.check_server(StudentFunction(s, "serve_forking"), clients=[testing.forked(watch, [b"a", b"b"])], timeout=3)
    testing.expect_no_children(watch)
    watch = concurrency.ServerWatch()
    testing.check_server(StudentFunction(s, "serve_select"), clients=[testing.one_thread(watch, [b"a", b"b"])],
                         timeout=3)
    watch = concurrency.ServerWatch()
    with pytest.raises(testing.ExerciseFailed, match="threads"):
        testing.check_server(StudentFunction(s, "serve_threads"), clients=[testing.one_thread(watch, [b"a", b"b"])],
                             timeout=3)

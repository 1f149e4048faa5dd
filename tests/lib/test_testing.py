"""socklab.testing: time limits, reference-client checks and short ko/en failures for grade cells."""
import doctest
import inspect
import socket
import threading
import time

import pytest

from socklab import testing
from socklab.testing import (ExerciseFailed, TimeLimit, call_with_timeout, check_client, check_server,
                             concurrent, empty, multi_chunk, resetting, round_trip, silent)
from socklab.testing import checks, limits, messages


def _student_threads():
    return [t for t in threading.enumerate() if t.name.startswith("socklab-student")]


@pytest.fixture(autouse=True)
def no_leftover_student_threads():
    """Every test must leave no student thread behind (it would block the next grade cell)."""
    yield
    deadline = time.monotonic() + 2
    while _student_threads() and time.monotonic() < deadline:
        _student_threads()[0].join(0.05)
    assert not _student_threads()


def block_in_recv(*_args):
    """A student function that waits forever for a byte nobody sends."""
    a, b = socket.socketpair()
    with a, b:
        return a.recv(1)


def _line_of(fn, text):
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


# ---- messages ------------------------------------------------------------------------------------

def test_exercise_failed_is_an_assertion_with_ko_en_and_hint():
    """Is ExerciseFailed an AssertionError whose text is '✗ ko', the English line, then the hints?"""
    exc = ExerciseFailed("틀렸습니다", "wrong", hint_ko="다시", hint_en="again")
    assert isinstance(exc, AssertionError)
    assert str(exc) == "✗ 틀렸습니다\n  wrong\n  힌트: 다시\n  hint: again"
    assert (exc.ko, exc.en, exc.hint) == ("틀렸습니다", "wrong", "다시 / again")
    assert ExerciseFailed("a", "b").hint is None


def test_check_and_expect_equal():
    """Do check() and expect_equal() pass silently when right, and show got/expected when wrong?"""
    testing.check(True, "x", "y")
    testing.expect_equal(3, 3, "x", "y")
    with pytest.raises(ExerciseFailed, match="hint: look"):
        testing.check(False, "틀림", "wrong", hint_en="look")
    with pytest.raises(ExerciseFailed) as info:
        testing.expect_equal(b"ab" * 500, b"ab", "응답", "reply")
    text = str(info.value)
    assert "got:" in text and "expected: b'ab'" in text and len(text) < 600  # long values are shortened


# ---- call_with_timeout ---------------------------------------------------------------------------

def test_returns_the_value():
    """Does call_with_timeout() hand back the function's result?"""
    assert call_with_timeout(lambda a, b=0: a + b, 2, b=3, timeout=1) == 5


def test_student_exception_becomes_one_line_with_the_student_line():
    """Does a student's exception become ExerciseFailed naming its type, message and line, without our source?"""
    def parse_port(text):
        return int(text)  # the student's bug

    with pytest.raises(ExerciseFailed) as info:
        call_with_timeout(parse_port, "eighty", timeout=1)
    text = str(info.value)
    line = _line_of(parse_port, "return int(text)")
    assert "ValueError: invalid literal" in text and f"line {line}" in text and "return int(text)" in text
    assert "call_with_timeout(" not in text and "Traceback" not in text
    assert isinstance(info.value.student_error, ValueError)  # grade cells can test the type itself


def test_stuck_accept_ends_with_a_clear_failure_and_closes_the_socket():
    """Does a student stuck in accept() fail within the limit, with a hint, its socket closed and thread gone?"""
    made = []

    def serve_forever_wrong():
        listener = socket.create_server(("127.0.0.1", 0))
        made.append(listener)
        with listener:
            listener.accept()  # nobody will ever connect

    start = time.monotonic()
    with pytest.raises(TimeLimit) as info:
        call_with_timeout(serve_forever_wrong, timeout=0.5)
    elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < 1.5
    text = str(info.value)
    assert "0.5" in text and "accept()/recv()" in text and "listener.accept()" in text
    assert made[0].fileno() == -1


def test_stuck_recv_is_unblocked():
    """Does a student blocked in recv() on a socket pair it made get unblocked at the deadline?"""
    pair = []

    def wait_forever():
        a, b = socket.socketpair()
        pair.extend([a, b])
        with a, b:
            return a.recv(10)

    with pytest.raises(TimeLimit, match="a.recv"):
        call_with_timeout(wait_forever, timeout=0.3)
    assert all(s.fileno() == -1 for s in pair)


def test_busy_loop_is_stopped():
    """Is a pure-Python endless loop stopped too, so it does not burn the kernel's CPU afterwards?"""
    def spin():
        n = 0
        while True:
            n += 1

    with pytest.raises(TimeLimit, match="spin"):
        call_with_timeout(spin, timeout=0.2)


def test_the_next_call_is_not_affected():
    """After a timed-out call, does the next call run normally and promptly?"""
    with pytest.raises(TimeLimit):
        call_with_timeout(block_in_recv, timeout=0.2)
    start = time.monotonic()
    assert call_with_timeout(lambda: "fine", timeout=2) == "fine"
    assert time.monotonic() - start < 1.0  # far below its own limit: nothing left over slows it


def test_a_lambda_is_named_after_the_function_it_calls():
    """When a grade cell wraps the student's function in a lambda, is the student's name shown?"""
    def fetch(host, port, path):
        raise ValueError("bad path")

    with pytest.raises(ExerciseFailed, match=r"fetch\(\) raised"):
        call_with_timeout(lambda host, port: fetch(host, port, "/"), "127.0.0.1", 80, timeout=1)


def test_an_untouched_stub_says_not_answered_yet():
    """Does the untouched `raise NotImplementedError()` stub read as "not written yet", with a hint?"""
    def layer_of(name):
        raise NotImplementedError()

    with pytest.raises(ExerciseFailed) as caught:
        call_with_timeout(layer_of, "TCP", timeout=1)
    text = str(caught.value)
    assert "아직 작성하지 않았습니다" in text and "not written yet" in text
    assert "YOUR CODE HERE" in text


def test_not_a_function():
    """Does passing the result of a call instead of the function say so?"""
    with pytest.raises(ExerciseFailed, match="without calling it"):
        call_with_timeout(42, timeout=1)


# ---- check_server --------------------------------------------------------------------------------

def echo_serial(listener, n_clients):
    for _ in range(n_clients):
        conn, _ = listener.accept()
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data)


def echo_threaded(listener, n_clients):
    def handle(conn):
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data)

    threads = []
    for _ in range(n_clients):
        conn, _ = listener.accept()
        threads.append(threading.Thread(target=handle, args=(conn,)))
        threads[-1].start()
    for t in threads:
        t.join()


def test_good_serial_echo_server_passes_every_single_client_check():
    """Does a correct accept-loop echo server pass round trip, multi-chunk, empty and silent clients?"""
    replies = check_server(echo_serial, clients=[round_trip(b"hello"), multi_chunk(), empty(), silent(0.1)],
                           timeout=2)
    assert replies[0] == [b"hello"] and replies[1] == [checks.pattern(48 * 1024)] and replies[2:] == [[b""], [b""]]


def test_resetting_client_needs_a_robust_server():
    """Does a server that dies when a client resets get the 'try/except OSError' hint, while one that
    catches it passes and serves the next client?"""
    def robust(listener, n_clients):
        for _ in range(n_clients):
            conn, _ = listener.accept()
            with conn:
                try:
                    while data := conn.recv(1024):
                        conn.sendall(data)
                except OSError:
                    pass

    assert check_server(robust, clients=[resetting(), round_trip(b"next")], timeout=1) == [[], [b"next"]]
    with pytest.raises(ExerciseFailed, match="ConnectionResetError") as info:
        check_server(echo_serial, clients=[resetting(), round_trip(b"next")], timeout=1)
    assert "try/except OSError" in str(info.value)


def test_threaded_server_passes_the_concurrent_check():
    """Does a thread-per-client server pass the interleaved concurrent clients?"""
    replies = check_server(echo_threaded, clients=[concurrent([b"a1", b"b22", b"c333"])], timeout=2)
    assert replies == [[b"a1", b"b22", b"c333"]]


def test_serial_server_fails_the_concurrent_check_in_bounded_time():
    """Does a one-client-at-a-time server fail the concurrent check with a clear message within the timeout?"""
    start = time.monotonic()
    with pytest.raises(ExerciseFailed, match="at the same time") as info:
        check_server(echo_serial, clients=[concurrent()], timeout=0.5)
    assert time.monotonic() - start < 2.5
    assert "threading.Thread" in str(info.value)


def test_single_recv_fails_multi_chunk_with_a_hint():
    """Does a server that calls recv() only once fail the multi-chunk client with the 'loop' hint?"""
    def recv_once(listener, n_clients):
        for _ in range(n_clients):
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(65536))

    with pytest.raises(ExerciseFailed, match="recv\\(\\) only once"):
        check_server(recv_once, clients=[multi_chunk()], timeout=1)


def test_server_that_never_accepts():
    """Does a server stuck in accept() on the wrong socket fail clearly, showing where it is stuck?"""
    def wrong_socket(listener, n_clients):
        with socket.create_server(("127.0.0.1", 0)) as mine:
            mine.accept()

    start = time.monotonic()
    with pytest.raises(ExerciseFailed) as info:
        check_server(wrong_socket, clients=[round_trip()], timeout=0.5)
    assert time.monotonic() - start < 2
    text = str(info.value)
    assert "never accept()ed" in text and "mine.accept()" in text


def test_server_that_never_answers():
    """Does a server that reads but never replies or closes make the client fail, not hang?"""
    def mute(listener, n_clients):
        conn, _ = listener.accept()
        with conn:
            conn.recv(1024)
            listener.accept()  # waits for more instead of answering

    start = time.monotonic()
    with pytest.raises(ExerciseFailed, match="did not close the connection"):
        check_server(mute, clients=[round_trip(), round_trip()], timeout=0.5)
    assert time.monotonic() - start < 2


def test_crashing_server_reports_its_own_exception():
    """When the student's server raises, is its exception (with line) what the student sees?"""
    def crash(listener, n_clients):
        conn, _ = listener.accept()
        with conn:
            raise KeyError("oops")

    with pytest.raises(ExerciseFailed) as info:
        check_server(crash, clients=[round_trip()], timeout=1)
    assert "KeyError: 'oops'" in str(info.value)
    assert f"line {_line_of(crash, 'raise KeyError')}" in str(info.value)


def test_unfinished_exercise_reports_its_exception_even_in_the_concurrent_check():
    """Does an unanswered exercise (raise NotImplementedError) say so, rather than 'not concurrent'?"""
    def serve_concurrently(listener, n_clients):
        raise NotImplementedError()

    with pytest.raises(ExerciseFailed, match="NotImplementedError"):
        check_server(serve_concurrently, clients=[concurrent()], timeout=1)


def test_server_that_returns_too_early():
    """Does a server serving fewer clients than asked get told how many it accepted?"""
    def just_one(listener, n_clients):
        echo_serial(listener, 1)

    with pytest.raises(ExerciseFailed, match="accepting 1 of 2"):
        check_server(just_one, clients=[round_trip(), round_trip()], timeout=1)


def test_server_that_never_returns():
    """Does a `while True` accept loop fail with a hint to accept exactly n_clients?"""
    def forever(listener, n_clients):
        while True:
            echo_serial(listener, 1)

    with pytest.raises(TimeLimit, match="n_clients"):
        check_server(forever, clients=[round_trip()], timeout=0.5)


def test_wrong_reply_shows_sent_got_expected():
    """Does a wrong reply show what was sent, what came back and what was expected?"""
    def shout(listener, n_clients):
        conn, _ = listener.accept()
        with conn:
            data = b""
            while chunk := conn.recv(1024):
                data += chunk
            conn.sendall(data.upper())

    with pytest.raises(ExerciseFailed) as info:
        check_server(shout, clients=[round_trip(b"hi")], timeout=1)
    assert "got:      b'HI'" in str(info.value) and "expected: b'hi'" in str(info.value)
    assert check_server(shout, clients=[round_trip(b"hi", expect=b"HI")], timeout=1) == [[b"HI"]]


def test_a_good_check_right_after_a_hostile_one():
    """After a server stuck in accept(), does the next check start clean and pass quickly?"""
    with pytest.raises(ExerciseFailed):
        check_server(block_in_recv, clients=[round_trip()], timeout=0.3)
    start = time.monotonic()
    check_server(echo_serial, clients=[round_trip()], timeout=3)
    assert time.monotonic() - start < 1.5  # well inside its limit: no leftover from the stuck one


# ---- check_client --------------------------------------------------------------------------------

def test_good_client_request_and_return_value():
    """Does check_client() return exactly what the client sent and what it returned?"""
    def client(host, port):
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(b"PING")
            s.shutdown(socket.SHUT_WR)
            return s.recv(100)

    assert check_client(client, reply=b"PONG", timeout=2) == (b"PING", b"PONG")


def test_http_client_with_read_until():
    """Is an HTTP client that does not half-close answered as soon as its request head is complete?"""
    def get(host, port):
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(f"GET / HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(1024):
                data += chunk
            return data

    start = time.monotonic()
    request, page = check_client(get, reply=b"HTTP/1.0 200 OK\r\n\r\nhi", read_until=b"\r\n\r\n", timeout=4)
    assert time.monotonic() - start < 1
    assert request.startswith(b"GET / HTTP/1.0\r\nHost: 127.0.0.1:") and page.endswith(b"hi")


def test_client_that_never_sends():
    """Does a client that connects and waits without sending fail with 'sent nothing'?"""
    def shy(host, port):
        with socket.create_connection((host, port), timeout=2) as s:
            return s.recv(100)

    with pytest.raises(ExerciseFailed, match="sent nothing"):
        check_client(shy, reply=b"hello", timeout=1)


def test_client_that_hangs_in_recv():
    """Does a client stuck in recv() end with a time-limit failure that says what it sent?"""
    def stuck(host, port):
        with socket.create_connection((host, port)) as s:
            s.sendall(b"hello")
            s.shutdown(socket.SHUT_WR)
            while True:
                s.recv(100)  # ignores b'' and spins forever

    start = time.monotonic()
    with pytest.raises(TimeLimit) as info:
        check_client(stuck, reply=b"x", timeout=0.5)
    assert time.monotonic() - start < 1.5
    assert "sent: b'hello'" in str(info.value)


def test_client_that_never_connects():
    """Does a client that returns without connecting get told so?"""
    with pytest.raises(ExerciseFailed, match="never connected"):
        check_client(lambda host, port: None, timeout=0.5)


def test_hint_display_is_a_no_op_outside_ipython():
    """Outside IPython, does install_hint_display() do nothing and say so?"""
    assert testing.install_hint_display() is False


@pytest.mark.parametrize("module", [messages, limits, testing])
def test_doctests(module):
    """Do the docstring examples run as written?"""
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# ---- the hint display in a real kernel -------------------------------------------------------------

KERNEL_CELLS = [
    ("setup", "import socket\nfrom socklab import testing\ntesting.install_hint_display()"),
    ("fail", "testing.fail('틀렸습니다', 'wrong', hint_en='look again')"),
    ("plain", "1 / 0"),
    ("stuck", "def serve():\n    with socket.create_server(('127.0.0.1', 0)) as s:\n        s.accept()\n"
              "testing.call_with_timeout(serve, timeout=0.3)"),
    ("alive", "print('still alive')"),
    ("pass", "testing.check(1 + 1 == 2, 'a', 'b')"),
    ("titled", '"""연습 9: 제목 / exercise 9: a title (2점)"""\ntesting.expect_equal(2, 2, "a", "b")'),
    ("dies", "import threading\ndef handle():\n    raise ValueError('bad chunk number')\n"
             "def serve():\n    t = threading.Thread(target=handle)\n    t.start()\n    t.join()\n    return 'nothing'\n"
             "testing.expect_equal(testing.call_with_timeout(serve, timeout=1), 'echo', 'a', 'b')"),
    ("spins", "import threading\nspinning = []\ndef spin():\n    spinning.append(threading.current_thread())\n"
              "    while True:\n        pass\n"
              "def start():\n    threading.Thread(target=spin, daemon=True).start()\n"
              "testing.call_with_timeout(start, timeout=1)\ntesting.check(True, 'a', 'b')"),
    ("after", "print('spinner alive:', spinning[0].is_alive())"),
    ("forbidden", "def leaves_open():\n    s = socket.socket()\n    s.bind(('127.0.0.1', 0))\n    return 'ok'\n"
                  "testing.call_with_timeout(leaves_open, timeout=1)\ntesting.check_nothing_left()"),
]


def test_hint_display_in_a_real_kernel():
    """In a real kernel, is ExerciseFailed a short error output that nbgrader scores 0, while other errors
    keep their traceback and a stuck accept() ends without killing the kernel? Does a passing test cell
    print a ✓ line, a dying thread end up in the ✗ hint, and a spinning thread get stopped?"""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from nbgrader.utils import determine_grade

    nb = nbformat.v4.new_notebook()
    for name, source in KERNEL_CELLS:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade": name in ("fail", "stuck", "pass", "forbidden"), "solution": False,
                                     "locked": True, "grade_id": name, "points": 2, "schema_version": 3}
        nb.cells.append(cell)
    from support import ipc_kernel_config
    client = nbclient.NotebookClient(nb, timeout=20, kernel_name="python3", allow_errors=False, config=ipc_kernel_config())
    raised = {}
    start = time.monotonic()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as exc:  # the execute reply said "error"
                raised[cell.metadata.nbgrader["grade_id"]] = exc
    assert time.monotonic() - start < 20
    out = {cell.metadata.nbgrader["grade_id"]: cell.outputs for cell in nb.cells}

    assert set(raised) == {"fail", "plain", "stuck", "dies", "forbidden"}
    [fail] = out["fail"]
    assert fail.output_type == "error" and fail.ename == "ExerciseFailed"
    assert len(fail.traceback) == 1 and "✗ 틀렸습니다" in fail.traceback[0] and "hint: look again" in fail.traceback[0]
    assert "Traceback" not in "".join(fail.traceback) and "testing.fail(" not in "".join(fail.traceback)

    [plain] = out["plain"]
    assert plain.ename == "ZeroDivisionError" and len(plain.traceback) > 1  # IPython's usual traceback

    [stuck] = out["stuck"]
    assert stuck.ename == "TimeLimit" and "0.3" in stuck.traceback[0] and "s.accept()" in stuck.traceback[0]
    assert out["alive"][0].text == "still alive\n"
    # a passing test cell says so in one short line (stream output: nbgrader reads no score from it)
    assert [o.text for o in out["pass"]] == ["\x1b[32m✓ 통과 / passed (검사 1개 / 1 checks)\x1b[0m\n"]
    assert [o.text for o in out["titled"]] == ["\x1b[32m✓ 통과 / passed: 연습 9: 제목 / exercise 9: a title (2점)\x1b[0m\n"]
    # a dying thread's exception is folded into the ✗ message: no raw "Exception in thread" wall
    [died] = [o for o in out["dies"] if o.output_type == "error"]
    assert "thread handle() died: ValueError: bad chunk number" in died.traceback[0]
    assert not any("Exception in thread" in o.get("text", "") for o in out["dies"])
    # a thread still spinning after a passing cell is stopped, and the cell says so
    said = "".join(o.text for o in out["spins"])
    assert "cleaned up" in said and "stopped threads: spin()" in said and "✓" in said
    assert out["after"][0].text == "spinner alive: False\n"
    # where the prompt forbids leftovers, an unclosed socket counts against the answer
    [forbidden] = out["forbidden"]
    assert forbidden.ename == "ExerciseFailed" and "closed sockets: 127.0.0.1:" in forbidden.traceback[0]

    grades = {cell.metadata.nbgrader["grade_id"]: determine_grade(cell) for cell in nb.cells
              if cell.metadata.nbgrader["grade"]}
    assert grades == {"fail": (0, 2.0), "stuck": (0, 2.0), "pass": (2.0, 2.0), "forbidden": (0, 2.0)}


def test_client_sockets_left_open_are_closed():
    """Does check_client() close a socket the student forgot to close (but keep one it returned)?"""
    made = []

    def sloppy(host, port):
        s = socket.create_connection((host, port), timeout=2)
        made.append(s)
        s.sendall(b"hi")
        s.shutdown(socket.SHUT_WR)
        return s.recv(10)

    assert check_client(sloppy, reply=b"ok", timeout=2) == (b"hi", b"ok")
    assert made[0].fileno() == -1

    def returns_socket(host, port):
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(b"x")
        s.shutdown(socket.SHUT_WR)
        return s

    request, sock = check_client(returns_socket, timeout=2)
    with sock:
        assert request == b"x" and sock.fileno() != -1


def test_time_limit_works_inside_trace():
    """Inside `with trace()`, does a stuck accept() still end, and does trace still see the calls?"""
    from socklab.trace import trace

    def stuck():
        with socket.create_server(("127.0.0.1", 0)) as s:
            s.accept()

    with trace() as t:
        with pytest.raises(TimeLimit):
            call_with_timeout(stuck, timeout=0.2)
        check_server(echo_serial, clients=[round_trip(b"traced")], timeout=1)
    assert {"socket", "bind", "listen", "accept", "recv", "sendall"} <= set(t.ops())
    with pytest.raises(TimeLimit):  # still works once trace() has put socket.__init__ back
        call_with_timeout(block_in_recv, timeout=0.2)


def test_hostile_checks_in_a_row_leak_nothing():
    """Do repeated stuck and crashing students leave no file descriptor or thread behind?"""
    import os

    def fds():
        return len(os.listdir("/proc/self/fd"))

    def never_accepts(listener, n_clients):
        with socket.create_server(("127.0.0.1", 0)) as mine:
            mine.accept()

    def crash(listener, n_clients):
        conn, _ = listener.accept()
        conn.close()
        raise RuntimeError("boom")

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    threads, before = threading.active_count(), fds()
    for _ in range(4):
        with pytest.raises(TimeLimit):
            call_with_timeout(block_in_recv, timeout=0.1)
        with pytest.raises(ExerciseFailed):
            check_server(never_accepts, clients=[round_trip()], timeout=0.15)
        with pytest.raises(ExerciseFailed, match="boom"):
            check_server(crash, clients=[round_trip()], timeout=0.5)
    deadline = time.monotonic() + 2
    while (fds() > before or threading.active_count() > threads) and time.monotonic() < deadline:
        time.sleep(0.01)  # bounded polling: daemon threads finish their last line after done is set
    assert fds() <= before and threading.active_count() <= threads


# ---- exceptions by type, leftovers, dying threads -----------------------------------------------

class PortError(ValueError):
    """A student's own ValueError subclass."""


def test_expect_raises_compares_by_type_not_by_message():
    """Do a bare `raise ValueError` and a subclass both count as ValueError, and a wrong type or no
    exception fail with a message naming what happened?"""
    def bare(_):
        raise ValueError

    def subclass(_):
        raise PortError("port 70000 is out of range")

    assert isinstance(testing.expect_raises(ValueError, bare, 1, ko="k", en="e"), ValueError)
    assert isinstance(testing.expect_raises(ValueError, subclass, 1, ko="k", en="e"), PortError)
    with pytest.raises(ExerciseFailed, match="expected ValueError, got: TypeError"):
        testing.expect_raises(ValueError, lambda _: {}[_] + 1 if False else (_ + "x"), 1, ko="k", en="e")
    with pytest.raises(ExerciseFailed, match="returned 'dynamic' instead of raising ValueError"):
        testing.expect_raises(ValueError, lambda _: "dynamic", 1, ko="k", en="e")


def test_expect_raises_on_the_untouched_stub_says_not_written_yet():
    """Is the stub's NotImplementedError still "not written yet", not "expected ValueError"?"""
    def port_range(port):
        raise NotImplementedError()

    with pytest.raises(ExerciseFailed, match="not written yet"):
        testing.expect_raises(ValueError, port_range, 80, ko="k", en="e")


def test_a_dying_thread_is_folded_into_the_failure(capsys):
    """When a thread the student started dies, does the ✗ message name it (and no raw traceback print)?"""
    def handle():
        {}["missing"]

    def serve():
        t = threading.Thread(target=handle)
        t.start()
        t.join()
        raise RuntimeError("gave up")

    with pytest.raises(ExerciseFailed) as info:
        call_with_timeout(serve, timeout=1)
    assert "thread handle() died: KeyError: 'missing'" in str(info.value)
    assert "Exception in thread" not in capsys.readouterr().err
    testing.thread_errors(clear=True)


def test_sweep_stops_a_spinning_thread_and_closes_open_sockets():
    """Does sweep() stop a thread left burning a core and close a socket left open, and report both?"""
    kept = []

    def start():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        kept.append(s)
        threading.Thread(target=lambda: [None for _ in iter(int, 1)], name="spinner", daemon=True).start()

    call_with_timeout(start, timeout=1)
    port = kept[0].getsockname()[1]
    spinner = next(t for t in threading.enumerate() if t.name == "spinner")
    found = testing.sweep()
    assert found.threads[0].startswith("<lambda>()") and found.sockets == [f"127.0.0.1:{port}"]
    assert kept[0].fileno() == -1 and not spinner.is_alive()
    assert not testing.sweep()  # nothing left the second time


def test_check_nothing_left_fails_on_threads_not_joined():
    """If a prompt demands join(), does a function that returns with its threads still running fail?"""
    release = threading.Event()

    def no_join():
        threading.Thread(target=release.wait, args=(5,), daemon=True).start()

    call_with_timeout(no_join, timeout=1)
    with pytest.raises(ExerciseFailed, match="stopped threads: wait()"):
        testing.check_nothing_left(grace=0.1)
    release.set()

    def joins():
        t = threading.Thread(target=time.sleep, args=(0.01,))
        t.start()
        t.join()

    call_with_timeout(joins, timeout=1)
    testing.check_nothing_left(grace=0.1)


def test_an_unclosed_socket_stays_bound_until_the_sweep():
    """Does a socket the student never closed stay open (and its port bound) until the sweep, so a
    test can see it on the wire?"""
    def leaves_open():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

    port = call_with_timeout(leaves_open, timeout=1)
    probe = socket.socket()
    with probe, pytest.raises(OSError):
        probe.bind(("127.0.0.1", port))
    assert testing.sweep().sockets == [f"127.0.0.1:{port}"]
class _Yes:
    """What a cheating answer returns: equal to anything, true, hashable."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


@pytest.mark.parametrize("actual, expected", [
    (_Yes(), 3), (_Yes(), "socket"), ([_Yes()], [1]), ({"k": _Yes()}, {"k": 1}),
    (True, 1), (1, True), (80.0, 80), ([1, 2], (1, 2)), (type("S", (str,), {"__eq__": lambda s, o: True,
                                                                    "__hash__": str.__hash__})("no"), "yes"),
    (type("I", (int,), {})(3), 3), ({_Yes(): 1}, {"k": 1}),
])
def test_expect_equal_is_strict_about_types(actual, expected):
    """Does expect_equal reject objects equal to anything, bool for int, float for int, list for tuple and subclasses?"""
    with pytest.raises(ExerciseFailed):
        testing.expect_equal(actual, expected, "다릅니다", "differs")


def test_expect_equal_still_accepts_equal_plain_data_in_any_order():
    """Do equal dicts (any key order), nested tuples and NaN-free floats pass?"""
    testing.expect_equal({"b": (1, [2.5, None]), "a": b"x"}, {"a": b"x", "b": (1, [2.5, None])}, "x", "x")


@pytest.mark.parametrize("condition", [_Yes(), object(), type("B", (int,), {"__bool__": lambda s: True})(0)])
def test_check_accepts_only_plainly_true_conditions(condition):
    """Does check() refuse a truthy object that is not plain data (what a doctored __eq__ returns)?"""
    with pytest.raises(ExerciseFailed):
        testing.check(condition, "거짓", "false")
    testing.check([0], "참", "true")   # a non-empty list is plainly true

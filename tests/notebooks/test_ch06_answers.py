"""Chapter 6: every check a grade cell makes catches a wrong answer nothing else there catches, and
correct answers written in other styles pass. Cells run in this process (real sockets, real threads,
the kernel's /proc as the oracle), and those that fork or count children in a fresh Python process
(cellrun.forks), as in a kernel; the kernel runs are in test_ch06_notebooks.py.
"""
from __future__ import annotations

import pytest

from cellrun import changed, forks, grade_ids, run

FORK_WARNING = "ignore:This process .* is multi-threaded:DeprecationWarning"
# Wrong answers leak sockets on purpose (the grade cell reports them); the garbage collector's
# "unclosed socket" notes about them are expected here.
pytestmark = [pytest.mark.filterwarnings(FORK_WARNING), pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

THREADED_ECHO = '''
def _echo(conn):
    with conn:
        conn.settimeout(2)
        while data := conn.recv(4096):
            conn.sendall(data)

def {name}(listener, n_clients, *extra):
    threads = []
    for _ in range(n_clients):
        conn, _addr = listener.accept()
        threads.append(threading.Thread(target=_echo, args=(conn,)))
        threads[-1].start()
    for t in threads:
        t.join()
'''


def fork(*changes):
    return changed("q06_1_forking", *changes)


def select_(*changes):
    return changed("q06_3_select", *changes)


def connect(*changes):
    return changed("q06_4_connect", *changes)


def chat(*changes):
    return changed("q06_5_chat", *changes)


def asyncio_(*changes):
    return changed("q06_7_asyncio", *changes)


# (name, answer, grade cell that must fail, what its message must say, grade cell that must still pass)
WRONG = [
    # exercise 1: fork
    ("fork waits for each child before the next accept", fork(("        children.add(pid)", "        os.waitpid(pid, 0)")),
     "q06_1_forking", "at the same time", "q06_1_forking_robust"),
    ("threads instead of fork", lambda: THREADED_ECHO.format(name="serve_forking"),
     "q06_1_forking", "child processes", None),
    ("returns without waiting for the last children", fork(("    for pid in list(children):\n        os.waitpid(pid, 0)\n", "")),
     "q06_1_forking", "leaving", None),
    ("reaps only at the end", fork(("    while served < n_clients:\n        reap()", "    while served < n_clients:")),
     "q06_1_forking_robust", "zombie", "q06_1_forking"),
    # exercise 2: pool
    ("serves one client at a time", changed("q06_2_pool", ("            pool.submit(handle, conn)", "            handle(conn)")),
     "q06_2_pool", "at the same time", None),
    ("workers left running after return", lambda: '''
import queue
def serve_pool(listener, n_clients, pool_size):
    jobs = queue.Queue()
    def worker():
        while True:
            conn = jobs.get()
            with conn:
                conn.settimeout(2)
                while data := conn.recv(4096):
                    conn.sendall(data)
            jobs.task_done()
    for _ in range(pool_size):
        threading.Thread(target=worker, daemon=True).start()
    for _ in range(n_clients):
        jobs.put(listener.accept()[0])
    jobs.join()
''', "q06_2_pool", "still running", None),
    ("a thread per connection, unbounded", lambda: THREADED_ECHO.format(name="serve_pool"),
     "q06_2_pool_robust", "workers were busy", "q06_2_pool"),
    ("pool size typed in as 2", changed("q06_2_pool", ("max_workers=pool_size", "max_workers=2")),
     "q06_2_pool", "at the same time", None),
    # exercise 3: selectors
    ("a thread per connection", lambda: THREADED_ECHO.format(name="serve_select"),
     "q06_3_select", "threads", None),
    ("a process per connection", changed("q06_1_forking", ("def serve_forking(", "def serve_select(")),
     "q06_3_select", "forked", None),
    ("iterative", lambda: """
def serve_select(listener, n_clients):
    for _ in range(n_clients):
        conn, _addr = listener.accept()
        with conn:
            conn.settimeout(2)
            while data := conn.recv(4096):
                conn.sendall(data)
""",
     "q06_3_select", "at the same time", None),
    ("waits for a first message before registering", select_(
        ("                sel.register(conn, selectors.EVENT_READ)\n",
         "                conn.sendall(conn.recv(4096))   # greet with the first message\n"
         "                sel.register(conn, selectors.EVENT_READ)\n")),
     "q06_3_select_robust", "held up the others", "q06_3_select"),
    ("crashes when a client resets", select_(("            except OSError:             # reset by the client: end only this connection\n                pass\n", "            finally:\n                pass\n")),
     "q06_3_select_robust", "raised an exception", "q06_3_select"),
    # exercise 4: connect
    ("forgets to return the socket", connect(("        return sock\n", "")),
     "q06_4_connect", "not a socket", None),
    ("returns a fresh socket", connect(("        return sock\n", "        return socket.socket()\n")),
     "q06_4_connect", "not connected", None),
    ("returns None on timeout", connect(('            raise TimeoutError(f"connect to {host}:{port} took more than {timeout} s")', "            return None")),
     "q06_4_connect", "no TimeoutError", None),
    ("does not wait at all", connect(("select.select([], [sock], [], timeout)", "select.select([], [sock], [], 0)")),
     "q06_4_connect", "instead of about 0.3", None),
    ("timeout typed in as 0.3", connect(("select.select([], [sock], [], timeout)", "select.select([], [sock], [], 0.3)")),
     "q06_4_connect", "about 0.6", None),
    ("never reads SO_ERROR", connect(("        if err == errno.ECONNREFUSED:\n            raise ConnectionRefusedError(err, os.strerror(err))\n        if err:\n            raise OSError(err, os.strerror(err))\n", "")),
     "q06_4_connect_robust", "ConnectionRefusedError", "q06_4_connect"),
    ("leaves the socket non-blocking", connect(("        sock.setblocking(True)\n", "")),
     "q06_4_connect_robust", "non-blocking", "q06_4_connect"),
    ("leaks the socket on timeout", connect(("    except BaseException:\n        sock.close()\n        raise", "    except ConnectionRefusedError:\n        sock.close()\n        raise")),
     "q06_4_connect_robust", "SYN_SENT", "q06_4_connect"),
    # exercise 5: chat
    ("no welcome", chat(('                conn.sendall(b"welcome\\n")\n', "")), "q06_5_chat", "welcome", None),
    ("relays to one other member only", chat(("                for other in list(buffers):\n                    if other is not sock:",
                                              "                for other in [o for o in buffers if o is not sock][:1]:\n                    if True:")),
     "q06_5_chat", "never got", None),
    ("echoes to the sender", chat(("                    if other is not sock:", "                    if True:")),
     "q06_5_chat", "own line back", None),
    ("never returns", chat(("    while joined < n_clients or buffers:", "    while True:"),
                           ("        for key, _events in sel.select(timeout=5):", "        for key, _events in sel.select(timeout=0.05):")),
     "q06_5_chat", "did not return", None),
    ("relays one recv's lines in reverse", chat(("            for line in lines:", "            for line in reversed(lines):")),
     "q06_5_chat_robust", "out of order", None),  # two quick lines may share one recv in the basic cell too
    ("relays raw chunks", chat(('            *lines, buffers[sock] = (buffers[sock] + data).split(b"\\n")\n            for line in lines:',
                                '            for line in [data]:'),
                               ('other.sendall(line + b"\\n")', "other.sendall(line)")),
     "q06_5_chat_robust", "lines wrong", "q06_5_chat"),
    ("relays the leaver's unfinished line", chat(("                del buffers[sock]\n",
                                                  "                rest = buffers.pop(sock)\n"
                                                  "                for other in buffers:\n"
                                                  "                    other.sendall(rest)\n")),
     "q06_5_chat_robust", "unfinished line", "q06_5_chat"),
    ("keeps a departed member's socket open", chat(("                del buffers[sock]\n                sock.close()\n", "                del buffers[sock]\n")),
     "q06_5_chat_robust", "did not close", "q06_5_chat"),
    # exercise 6: models
    ("Overlapped taken for readiness", changed("q06_6_models", ('"Overlapped": "completion"', '"Overlapped": "readiness"')),
     "q06_6_models", "Overlapped", None),
    ("select taken for synchronous", changed("q06_6_models", ('"select": ("blocking", "asynchronous")', '"select": ("blocking", "synchronous")')),
     "q06_6_models", "select", None),
    # exercise 7: asyncio
    ("a thread per connection via to_thread", lambda: '''
def serve_asyncio(listener, n_clients):
    def blocking_echo(sock):
        with sock:
            sock.settimeout(2)
            while data := sock.recv(4096):
                sock.sendall(data)
    async def main():
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        tasks = []
        for _ in range(n_clients):
            conn, _addr = await loop.sock_accept(listener)
            conn.setblocking(True)
            tasks.append(asyncio.create_task(asyncio.to_thread(blocking_echo, conn)))
        await asyncio.gather(*tasks)
    asyncio.run(main())
''', "q06_7_asyncio", "threads", None),
    ("awaits each connection before the next accept", lambda: '''
def serve_asyncio(listener, n_clients):
    async def main():
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        for _ in range(n_clients):
            conn, _addr = await loop.sock_accept(listener)
            with conn:
                while data := await loop.sock_recv(conn, 4096):
                    await loop.sock_sendall(conn, data)
    asyncio.run(main())
''', "q06_7_asyncio", "at the same time", None),
    ("drops quiet connections", asyncio_(("                while data := await reader.read(4096):",
                                          "                while data := await asyncio.wait_for(reader.read(4096), 0.02):"),
                                         ("            except OSError:            # reset by the client: this connection is over",
                                          "            except (OSError, TimeoutError):")),
     "q06_7_asyncio_robust", "closed the stalled", "q06_7_asyncio"),
    ("does not count a reset connection", asyncio_((
        "            except OSError:            # reset by the client: this connection is over\n                pass\n"
        "            finally:\n                writer.close()\n                ended += 1\n"
        "                if ended == n_clients:\n                    finished.set()",
        "            finally:\n                writer.close()\n            ended += 1\n"
        "            if ended == n_clients:\n                finished.set()")),
     "q06_7_asyncio_robust", "did not return", "q06_7_asyncio"),
]


@pytest.mark.parametrize("name, answer, failing, message, passing", WRONG, ids=[w[0] for w in WRONG])
def test_a_wrong_answer_fails_exactly_the_check_made_for_it(name, answer, failing, message, passing):
    """Does this wrong answer fail its grade cell with the message of the one check that catches it
    (and still earn the other cell's points where that part works)?"""
    import re

    from socklab.testing import ExerciseFailed

    text = answer()
    with pytest.raises(ExerciseFailed) as failed:
        run(failing, text, fresh=forks(failing, text))   # children of ours are not the answer's
    assert re.search(message, str(failed.value)), str(failed.value)
    if passing:
        run(passing, text, fresh=forks(passing, text))


def test_every_autograded_cell_has_a_wrong_answer_here():
    """Is every chapter-6 grade cell failed by at least one wrong answer above?"""
    ids = set(grade_ids("ch06"))
    assert ids == {w[2] for w in WRONG}

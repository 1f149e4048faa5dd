"""Chapter 6: correct answers written in other styles than the reference earn every point."""
from __future__ import annotations

import subprocess

import pytest

from cellrun import cells_of, forks, run

pytestmark = [pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")]

STYLES = {
    "q06_1_forking": {
        "a reaper thread per child": '''
def serve_forking(listener, n_clients):
    reapers = []
    for _ in range(n_clients):
        conn, _ = listener.accept()
        pid = os.fork()
        if pid == 0:
            listener.close()
            conn.settimeout(2)
            try:
                while True:
                    data = conn.recv(1)
                    if not data:
                        break
                    conn.sendall(data)
                conn.close()
            finally:
                os._exit(0)
        conn.close()
        reaper = threading.Thread(target=os.waitpid, args=(pid, 0))
        reaper.start()
        reapers.append(reaper)
    for reaper in reapers:
        reaper.join()
''',
        "select() polling and a wait loop": '''
import select
def serve_forking(listener, n_clients):
    left = n_clients
    kids = 0
    while left:
        ready, _, _ = select.select([listener], [], [], 0.02)
        while kids:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            kids -= 1
        if not ready:
            continue
        conn, _ = listener.accept()
        if os.fork() == 0:
            try:
                listener.close()
                f = conn.makefile("rwb", buffering=0)
                conn.settimeout(2)
                while chunk := f.read1(4096) if hasattr(f, "read1") else conn.recv(4096):
                    f.write(chunk)
            finally:
                os._exit(0)
        conn.close()
        kids += 1
        left -= 1
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
''',
    },
    "q06_2_pool": {
        "workers on a queue, stopped with sentinels": '''
import queue
def serve_pool(listener, n_clients, pool_size):
    jobs = queue.Queue()
    def worker():
        while (conn := jobs.get()) is not None:
            with conn:
                conn.settimeout(2)
                while data := conn.recv(4096):
                    conn.sendall(data)
    workers = [threading.Thread(target=worker) for _ in range(pool_size)]
    for w in workers:
        w.start()
    for _ in range(n_clients):
        jobs.put(listener.accept()[0])
    for _ in workers:
        jobs.put(None)
    for w in workers:
        w.join()
''',
        "a thread per connection bounded by a semaphore": '''
def serve_pool(listener, n_clients, pool_size):
    slots = threading.BoundedSemaphore(pool_size)
    threads = []
    def handle(conn):
        try:
            with conn:
                conn.settimeout(2)
                while data := conn.recv(4096):
                    conn.sendall(data)
        finally:
            slots.release()
    for _ in range(n_clients):
        slots.acquire()
        conn, _ = listener.accept()
        t = threading.Thread(target=handle, args=(conn,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
''',
    },
    "q06_3_select": {
        "plain select() with lists": '''
import select
def serve_select(listener, n_clients):
    conns, accepted = [], 0
    while accepted < n_clients or conns:
        watch = conns + ([listener] if accepted < n_clients else [])
        readable, _, _ = select.select(watch, [], [], 5)
        for s in readable:
            if s is listener:
                c, _ = listener.accept()
                conns.append(c)
                accepted += 1
                continue
            try:
                data = s.recv(4096)
                if data:
                    s.sendall(data)
                    continue
            except ConnectionError:
                pass
            conns.remove(s)
            s.close()
''',
        "non-blocking sockets with output buffers": '''
def serve_select(listener, n_clients):
    sel = selectors.DefaultSelector()
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ)
    pending, accepted = {}, 0
    while accepted < n_clients or pending:
        for key, events in sel.select(5):
            s = key.fileobj
            if s is listener:
                try:
                    c, _ = listener.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                pending[c] = bytearray()
                sel.register(c, selectors.EVENT_READ)
                accepted += 1
                continue
            data = None
            if events & selectors.EVENT_WRITE and pending[s]:
                try:
                    sent = s.send(pending[s])
                    del pending[s][:sent]
                except BlockingIOError:
                    pass
                except OSError:
                    data = b""
            if data is None and events & selectors.EVENT_READ:
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
            if data is not None:
                if not data:
                    sel.unregister(s)
                    del pending[s]
                    s.close()
                    continue
                pending[s] += data
            if s in pending:
                sel.modify(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending[s] else 0))
''',
    },
    "q06_4_connect": {
        "selectors waits for EVENT_WRITE": '''
def connect_with_timeout(host, port, timeout):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        raise
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_WRITE)
    ready = sel.select(timeout)
    sel.close()
    if not ready:
        s.close()
        raise TimeoutError("timed out")
    code = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        s.close()
        raise ConnectionRefusedError(code, os.strerror(code)) if code == errno.ECONNREFUSED else OSError(code, os.strerror(code))
    s.setblocking(True)
    return s
''',
        "poll() and a context manager": '''
import contextlib
def connect_with_timeout(host, port, timeout):
    with contextlib.ExitStack() as cleanup:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        cleanup.callback(s.close)
        s.setblocking(False)
        s.connect_ex((host, port))
        p = select.poll()
        p.register(s, select.POLLOUT)
        if not p.poll(timeout * 1000):
            raise socket.timeout("connect timed out")
        code = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code == errno.ECONNREFUSED:
            raise ConnectionRefusedError(code, "refused")
        s.settimeout(None)
        cleanup.pop_all()
        return s
''',
    },
    "q06_5_chat": {
        "a thread per member and a lock": '''
def serve_chat(listener, n_clients):
    members, lock, threads = [], threading.Lock(), []
    def member(conn):
        with lock:
            members.append(conn)
        conn.sendall(b"welcome\\n")
        f = conn.makefile("rb")
        try:
            for line in f:
                if not line.endswith(b"\\n"):
                    break
                with lock:
                    for other in members:
                        if other is not conn:
                            other.sendall(line)
        except OSError:
            pass
        finally:
            with lock:
                members.remove(conn)
            f.close()
            conn.close()
    for _ in range(n_clients):
        conn, _ = listener.accept()
        conn.settimeout(2)
        t = threading.Thread(target=member, args=(conn,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
''',
        "asyncio streams": '''
import asyncio
def serve_chat(listener, n_clients):
    async def main():
        room, left = set(), [0]
        done = asyncio.Event()
        async def member(reader, writer):
            room.add(writer)
            writer.write(b"welcome\\n")
            try:
                while (line := await reader.readline()).endswith(b"\\n"):
                    for other in list(room):
                        if other is not writer:
                            other.write(line)
            finally:
                room.discard(writer)
                writer.close()
                left[0] += 1
                if left[0] == n_clients:
                    done.set()
        async with await asyncio.start_server(member, sock=listener):
            await done.wait()
    asyncio.run(main())
''',
    },
    "q06_6_models": {
        "if/elif chains, a list for the pair": '''
def counterpart(windows_model):
    if windows_model == "Select":
        return "select"
    elif windows_model in ("WSAAsyncSelect", "WSAEventSelect"):
        return "readiness"
    return "completion"

def quadrant(style):
    blocking = "non-blocking" if style in ("non-blocking recv", "io_uring") else "blocking"
    sync = "synchronous" if style.endswith("recv") else "asynchronous"
    return [blocking, sync]
''',
        "a match statement": '''
def counterpart(windows_model):
    match windows_model:
        case "Select": return "select"
        case "WSAAsyncSelect" | "WSAEventSelect": return "readiness"
        case "Overlapped" | "IOCP": return "completion"

def quadrant(style):
    match style:
        case "blocking recv": return ("blocking", "synchronous")
        case "non-blocking recv": return ("non-blocking", "synchronous")
        case "select" | "epoll": return ("blocking", "asynchronous")
        case "io_uring": return ("non-blocking", "asynchronous")
''',
    },
    "q06_7_asyncio": {
        "low-level loop.sock_* calls and tasks": '''
def serve_asyncio(listener, n_clients):
    async def echo(loop, conn):
        with conn:
            try:
                while data := await loop.sock_recv(conn, 4096):
                    await loop.sock_sendall(conn, data)
            except ConnectionError:
                pass
    async def main():
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        tasks = []
        for _ in range(n_clients):
            conn, _ = await loop.sock_accept(listener)
            tasks.append(asyncio.create_task(echo(loop, conn)))
        await asyncio.gather(*tasks)
    asyncio.run(main())
''',
        "start_server with a queue of finished connections": '''
def serve_asyncio(listener, n_clients):
    async def main():
        finished = asyncio.Queue()
        async def handle(reader, writer):
            try:
                while True:
                    chunk = await reader.read(1024)
                    if not chunk:
                        break
                    writer.write(chunk)
                    await writer.drain()
            except ConnectionResetError:
                pass
            finally:
                writer.close()
                finished.put_nowait(1)
        server = await asyncio.start_server(handle, sock=listener)
        for _ in range(n_clients):
            await finished.get()
        server.close()
        await server.wait_closed()
    asyncio.run(main())
''',
    },
}

CASES = [(exercise, style, code) for exercise, styles in STYLES.items() for style, code in styles.items()]


@pytest.mark.parametrize("exercise, style, code", CASES, ids=[f"{e}: {s}" for e, s, _ in CASES])
def test_a_correct_answer_in_another_style_earns_every_point(exercise, style, code):
    """Does this differently written correct answer pass the basic and the robustness cell, hidden tests included?"""
    by_id = cells_of(exercise)
    for grade_id in (exercise, f"{exercise}_robust"):
        if grade_id in by_id:
            run(grade_id, code, fresh=forks(grade_id, code))   # os.wait() must meet no child of pytest


def test_every_exercise_has_two_other_styles():
    """Are there at least two other-style answers for every chapter-6 exercise?"""
    from nbtools import folders, load, nbgrader_meta

    solutions, _, names = folders("ch06")
    exercises = {nbgrader_meta(c)["grade_id"][:-len("_answer")] for n in names for c in load(solutions / n)["cells"]
                 if nbgrader_meta(c).get("solution")}
    assert exercises == set(STYLES) and all(len(s) >= 2 for s in STYLES.values())


def test_a_fresh_run_is_unaffected_by_a_long_lived_child_of_the_pytest_process():
    """Does the os.wait()-until-ChildProcessError style pass in a fresh run while the pytest process
    has a long-lived child of its own (as Chromium, JupyterLab or the hub are in the full suite)?"""
    code = STYLES["q06_1_forking"]["select() polling and a wait loop"]
    sleeper = subprocess.Popen(["sleep", "60"])   # bounded: gone in a minute even if this test dies
    try:
        run("q06_1_forking", code, fresh=True)
        assert sleeper.poll() is None, "the child of pytest ended before the run did: it proved nothing"
    finally:
        sleeper.kill()
        sleeper.wait()

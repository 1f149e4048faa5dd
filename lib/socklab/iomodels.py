"""What each I/O model costs, measured live, and the pictures of chapter 6.

:func:`compare` runs the same echo workload (N clients at once, each doing a few round trips on
its own connection) against one server per model, in bounded time, and returns one row per
(model, clients). :func:`comparison_figure` plots throughput and latency against the number of
clients; :func:`io_model_figure` draws the blocking/non-blocking x synchronous/asynchronous grid
with the book's Windows models beside their POSIX/Python counterparts; :func:`timeline_figure`
draws a :class:`socklab.concurrency.StallRun` (who was served while one client stalled).

>>> rows = compare(models=("iterative", "selectors"), clients=(1, 2), round_trips=3, budget=2.0)
>>> [(r["model"], r["clients"], r["done"]) for r in rows]
[('iterative', 1, True), ('iterative', 2, True), ('selectors', 1, True), ('selectors', 2, True)]
"""
from __future__ import annotations

import asyncio
import selectors
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MODELS", "compare", "comparison_figure", "io_model_figure", "timeline_figure", "show"]


def show(*figures) -> None:
    """Show figures as pictures in a notebook (elsewhere: nothing)."""
    from socklab._figures import show_figure
    for fig in figures:
        show_figure(fig)


def _echo_conn(conn: socket.socket) -> None:
    with conn:
        conn.settimeout(5)
        try:
            while data := conn.recv(4096):
                conn.sendall(data)
        except OSError:
            pass


def _iterative(listener, n, stop):
    for _ in range(n):
        conn, _ = listener.accept()
        _echo_conn(conn)


def _thread_per_connection(listener, n, stop):
    threads = []
    for _ in range(n):
        conn, _ = listener.accept()
        threads.append(threading.Thread(target=_echo_conn, args=(conn,), name="socklab-iomodel-conn", daemon=True))
        threads[-1].start()
    for t in threads:
        t.join(5)


def _thread_pool(listener, n, stop):
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="socklab-iomodel-pool") as pool:
        for _ in range(n):
            pool.submit(_echo_conn, listener.accept()[0])


def _selectors(listener, n, stop):
    sel = selectors.DefaultSelector()
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ)
    accepted = live = 0
    try:
        while (accepted < n or live) and not stop.is_set():
            for key, _ in sel.select(0.5):
                if key.fileobj is listener:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        continue
                    sel.register(conn, selectors.EVENT_READ)  # blocking conn: recv only when ready
                    accepted, live = accepted + 1, live + 1
                    continue
                try:
                    data = key.fileobj.recv(4096)
                    if data:
                        key.fileobj.sendall(data)  # small replies fit the send buffer: never blocks long
                        continue
                except OSError:
                    pass
                sel.unregister(key.fileobj)
                key.fileobj.close()
                live -= 1
    finally:
        for key in list(sel.get_map().values()):  # stopped early: close what is still open
            if key.fileobj is not listener:
                key.fileobj.close()
        sel.close()


def _asyncio(listener, n, stop):
    async def main():
        finished = asyncio.Event()
        count = [0]

        async def handle(reader, writer):
            try:
                while data := await reader.read(4096):
                    writer.write(data)
                    await writer.drain()
            except OSError:
                pass
            finally:
                writer.close()
                count[0] += 1
                if count[0] == n:
                    finished.set()
        server = await asyncio.start_server(handle, sock=listener)
        async with server:
            await asyncio.wait_for(finished.wait(), 5)
    asyncio.run(main())


#: model name -> server ``serve(listener, n_clients, stop_event)``
MODELS = {"iterative": _iterative, "thread per connection": _thread_per_connection,
          "thread pool (4)": _thread_pool, "selectors": _selectors, "asyncio": _asyncio}


def _drive(address, n_clients: int, round_trips: int, deadline: float) -> tuple[list[float], list[float], bool]:
    """N clients in one selector loop: each sends 64 bytes, waits for the echo, repeats."""
    sel = selectors.DefaultSelector()
    payload = b"x" * 64
    latencies: list[float] = []
    first: list[float] = []  # per client: seconds from the start to its first reply
    state = {}
    t0 = time.monotonic()
    try:
        for i in range(n_clients):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(address)
            state[sock] = {"left": round_trips, "got": 0, "sent_at": None}
            sel.register(sock, selectors.EVENT_WRITE)
        while state and time.monotonic() < deadline:
            for key, events in sel.select(max(0.0, deadline - time.monotonic())):
                sock, st = key.fileobj, state[key.fileobj]
                if events & selectors.EVENT_WRITE:  # connected: send the first request
                    st["sent_at"] = time.monotonic()
                    sock.send(payload)
                    sel.modify(sock, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    raise ConnectionError("the model server closed a connection early")
                st["got"] += len(data)
                if st["got"] < len(payload):
                    continue
                latencies.append(time.monotonic() - st["sent_at"])
                if st["left"] == round_trips:
                    first.append(time.monotonic() - t0)
                st["left"] -= 1
                st["got"] = 0
                if st["left"]:
                    st["sent_at"] = time.monotonic()
                    sock.send(payload)
                else:
                    sel.unregister(sock)
                    sock.close()
                    del state[sock]
        return latencies, first, not state
    finally:
        for sock in state:
            sock.close()
        sel.close()


def compare(*, models=tuple(MODELS), clients=(1, 4, 16, 64), round_trips: int = 100, budget: float = 4.0) -> list[dict]:
    """Measure every model at every client count; stops early (``done=False``) past `budget` s.

    Each row: model, clients, throughput (round trips/s), mean_ms and p95_ms (one round trip,
    waiting for the server included), wait_ms (how long the last-served client waited for its
    first reply), seconds, done.
    """
    rows, t_end = [], time.monotonic() + budget
    per_run = budget / max(1, len(models) * len(clients))
    for model in models:
        serve = MODELS[model]
        for n in clients:
            if time.monotonic() >= t_end:  # out of budget: say so rather than overrun
                rows.append({"model": model, "clients": n, "throughput": float("nan"), "mean_ms": float("nan"),
                             "p95_ms": float("nan"), "wait_ms": float("nan"), "seconds": 0.0, "done": False})
                continue
            listener = socket.create_server(("127.0.0.1", 0), backlog=max(128, n))
            stop = threading.Event()
            server = threading.Thread(target=serve, args=(listener, n, stop), name="socklab-iomodel", daemon=True)
            server.start()
            t0 = time.monotonic()
            try:
                latencies, first, done = _drive(listener.getsockname(), n, round_trips,
                                         min(t_end, t0 + max(per_run * 3, 0.3)))
            finally:
                stop.set()
                server.join(0.2)  # a daemon: one still finishing its clients does not hold up the next run
                listener.close()
            seconds = time.monotonic() - t0
            ordered = sorted(latencies) or [float("nan")]
            rows.append({"model": model, "clients": n, "throughput": len(latencies) / seconds if seconds else 0.0,
                         "mean_ms": statistics.fmean(ordered) * 1000,
                         "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
                         "wait_ms": max(first, default=float("nan")) * 1000, "seconds": seconds, "done": done})
    return rows


def comparison_figure(rows: list[dict]):
    """Throughput and the slowest client's wait against the number of clients, one line per model."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6))
    left, right = fig.subplots(1, 2)
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        xs = [r["clients"] for r in mine]
        left.plot(xs, [r["throughput"] for r in mine], marker="o", label=model)
        right.plot(xs, [r["wait_ms"] for r in mine], marker="o", label=model)
    for ax, title, unit in ((left, "throughput", "round trips / s"),
                            (right, "latency: slowest client's first reply", "ms since all clients connected")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("clients at once")
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
    right.legend(fontsize=8, loc="upper left")
    fig.suptitle("echo server, one I/O model per line (measured just now on this machine)", fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.84, wspace=0.28)  # tight_layout costs a render
    return fig


_GRID = {  # (blocking?, synchronous?) -> (POSIX / Python, Windows in the book)
    (True, True): ("blocking recv(): iterative,\nfork / thread per connection", "plain blocking sockets"),
    (False, True): ("O_NONBLOCK + retry:\nBlockingIOError (EAGAIN)", "ioctlsocket(FIONBIO)"),
    (True, False): ("readiness: select / poll / epoll\n(selectors, asyncio on Linux)",
                    "Select · WSAAsyncSelect ·\nWSAEventSelect"),
    (False, False): ("completion: io_uring, POSIX AIO\n(asyncio's Proactor on Windows)", "Overlapped I/O · IOCP"),
}


def io_model_figure():
    """The 2x2 grid of I/O models, each POSIX/Python model beside the book's Windows one."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    fig = Figure(figsize=(9, 4.8))
    ax = fig.subplots()
    colours = {(True, True): "#dbe9f6", (False, True): "#fde2c4", (True, False): "#d9f0d3", (False, False): "#e8dff5"}
    for (blocking, sync), (posix, windows) in _GRID.items():
        x, y = (0 if blocking else 1), (1 if sync else 0)
        ax.add_patch(FancyBboxPatch(
            (x + 0.03, y + 0.03), 0.94, 0.94, boxstyle="round,pad=0.01", fc=colours[(blocking, sync)], ec="#666666"))
        ax.text(x + 0.5, y + 0.64, posix, ha="center", va="center", fontsize=9.5)
        ax.text(x + 0.5, y + 0.24, "Windows: " + windows, ha="center", va="center", fontsize=9, color="#7a2e00",
                style="italic")
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xticks([0.5, 1.5], ["blocking", "non-blocking"])
    ax.set_yticks([0.5, 1.5], ["asynchronous\n(told when ready / done)", "synchronous\n(you ask, you wait)"])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title("I/O models: who waits, and who tells whom", fontsize=11)
    fig.subplots_adjust(left=0.2, right=0.98, bottom=0.08, top=0.92)
    return fig


def timeline_figure(run):
    """One bar per client of a StallRun: the stalled client's wait is hatched, replies are dots."""
    from matplotlib.figure import Figure

    lanes = run.lanes()
    fig = Figure(figsize=(9, 0.55 * len(lanes) + 1.4))
    ax = fig.subplots()
    end = max([r["end"] or 0 for r in lanes] + [0.001])
    for i, lane in enumerate(reversed(lanes)):
        start, stop = lane["start"], lane["end"] if lane["end"] is not None else end
        colour = "#4c72b0" if lane["ok"] else "#c44e52"
        ax.barh(i, (stop - start) * 1000, left=start * 1000, height=0.5, color=colour, alpha=0.8)
        if lane["stalled"] and None not in lane["stalled"]:
            a, b = lane["stalled"]
            ax.barh(i, (b - a) * 1000, left=a * 1000, height=0.5, color="white", hatch="///", edgecolor=colour)
            ax.text((a + b) * 500, i, "connected, silent", ha="center", va="center", fontsize=8, color="#444444",
                    backgroundcolor="white")
        if lane["first"] is not None:
            ax.plot(lane["first"] * 1000, i, "o", color="black", ms=4)
    ax.set_yticks(range(len(lanes)), [lane["label"] for lane in reversed(lanes)])
    ax.set_xlabel("time since the stalled client connected (ms)  -  dot: first reply")
    ax.set_title("a stalled client does not block the others" if run.ok else "the stalled client blocked the others",
                 fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    fig.subplots_adjust(left=0.16, right=0.98, bottom=0.8 / fig.get_figheight(), top=1 - 0.45 / fig.get_figheight())
    return fig

"""Inside the student's kernel: answer the verifier's requests for the student's names.

Started by the kernel's first line (``IPKernelApp.exec_lines``) when ``SOCKLAB_AGENT_FD`` names
the inherited end of the channel. Everything here runs where the student's code runs, so nothing
here is trusted: the verifier only ever gets plain data back (see :mod:`socklab.grading.wire`)
and judges it itself. Requests are dicts with an ``op``:

``names``  which of these names the student's namespace has, and whether each is callable;
``get``    a variable's value; ``call`` a function with plain data and sockets (own thread);
``where``  the student's line a running call is at; ``accepts`` accept() calls on a socket;
``drop``   close our copy of a socket (the verifier closed its own);
``release`` close the sockets received so far (the verifier's test cell ended).

One message goes the other way unasked: ``{"closed": inode}`` when the student's code closed a
socket that crossed the channel, so the verifier closes its copy too.
"""
from __future__ import annotations

import importlib
import os
import socket
import sys
import threading
import weakref

from socklab.grading.wire import Channel, sockets_in
from socklab.testing.limits import Run   # imported up front: a call must not wait for it
from socklab.testing.messages import student_frame, traceback_frames, where

_received: list[socket.socket] = []
_inodes: "weakref.WeakKeyDictionary[socket.socket, int]" = weakref.WeakKeyDictionary()
_accepts: dict[int, list[int]] = {}
_calls: dict[int, object] = {}
_chan: Channel | None = None
_pid = 0


def _namespace() -> dict:
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else sys.modules["__main__"].__dict__


def _convert(value):
    """Plain-data versions of near-plain values: subclasses of plain types, scapy packets, sets."""
    for base in (bool, int, float, str, bytes, list, tuple, dict):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if type(value).__module__.startswith("scapy.") and hasattr(value, "build"):
        return bytes(value)
    return value   # not convertible: the encoder refuses it with a clear message


class _Shared(socket.socket):
    """A socket that crossed the channel: both processes hold it, and closing it here closes it
    there too (as with one object in one process, so the peer sees the FIN then), and accept()
    calls on it are counted for the verifier."""
    __slots__ = ()

    def accept(self):
        pair = super().accept()
        _accepts.setdefault(_inodes.get(self, 0), [0])[0] += 1
        return pair

    def close(self):
        inode = _inodes.pop(self, None)
        super().close()
        for twin in [s for s in _received if inode is not None and _inodes.get(s) == inode]:
            _silently_close(twin)   # the same socket passed in an earlier call: one object, one close
        # A forked child closing its inherited copy (a forking server's listener) is not the
        # student's process closing it, and must not write on the parent's channel.
        if inode is not None and _chan is not None and os.getpid() == _pid:
            try:
                _chan.send({"closed": inode})
            except OSError:
                pass


_Shared.__module__, _Shared.__qualname__ = "socket", "socket"


def _silently_close(sock: socket.socket) -> None:
    """Close our copy without telling the verifier (it asked, or its test cell ended)."""
    _inodes.pop(sock, None)
    try:
        socket.socket.close(sock)
    except OSError:
        pass


def _adopt(value):
    """Remember (and share: see :class:`_Shared`) every socket inside `value`."""
    for sock in sockets_in(value):
        if type(sock) is socket.socket:
            sock.__class__ = _Shared
        try:
            _inodes[sock] = os.fstat(sock.fileno()).st_ino
        except OSError:
            continue
        _received.append(sock)


def _error_info(exc: BaseException) -> dict:
    import builtins

    found = student_frame(traceback_frames(exc.__traceback__))
    name = type(exc).__name__
    home = builtins if type(exc).__module__ == "builtins" else socket if type(exc).__module__ == "socket" else None
    builtin = home is not None and type(exc) is getattr(home, name, None)
    info = {"type": name, "module": type(exc).__module__, "builtin": builtin, "message": str(exc)[:4000],
            "where": where(*found) if found else None}
    if isinstance(exc, OSError):   # tests read exc.errno (EADDRINUSE, ECONNREFUSED), not just the text
        info.update(errno=exc.errno, strerror=exc.strerror, filename=exc.filename)
    return info


def _finish(chan: Channel, rid: int, run) -> None:
    # Runs at the end of the student's thread (Run.on_done): no thread of ours per call, so a
    # ServerWatch in the verifier counts the same threads as one in the student's own kernel.
    if run.error is not None:
        _reply(chan, {"id": rid, "raised": _error_info(run.error)})
        return
    _received.extend(s for s in run.tracker.open_sockets() if s is not run.value)
    _adopt(run.value)
    _reply(chan, {"id": rid, "ok": run.value})


def _call_inline(chan: Channel, rid: int, fn, args, kwargs) -> None:
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - everything the student raises is reported
        _reply(chan, {"id": rid, "raised": _error_info(exc)})
    else:
        _adopt(value)
        _reply(chan, {"id": rid, "ok": value})


def _start_call(chan: Channel, rid: int, fn, args, kwargs) -> None:
    run = Run(fn, tuple(args), kwargs)
    run.on_done = lambda: _finish(chan, rid, run)
    _calls[rid] = run
    try:
        run.start()
    except RuntimeError:   # no thread to spare (the student forked all it may): call it here
        run.tracker.__exit__()
        _call_inline(chan, rid, fn, args, kwargs)
    except BaseException as exc:  # noqa: BLE001 - e.g. not a function
        run.tracker.__exit__()
        _reply(chan, {"id": rid, "raised": _error_info(exc)})


def _reply(chan: Channel, message: dict) -> None:
    try:
        chan.send(message, convert=_convert)
    except TypeError as exc:  # WireError: the value is not plain data
        what = f"{type(message.get('ok')).__name__}"
        chan.send({"id": message["id"], "unplain": f"{what}: {exc}"})


def _serve(chan: Channel) -> None:
    while True:
        try:
            req = chan.recv()
        except (EOFError, OSError):
            os._exit(0)      # the verifier is gone: so are we
        if not isinstance(req, dict):
            continue
        rid, op = req.get("id"), req.get("op")
        ns = _namespace()
        try:
            if op == "names":
                found = {n: ("callable" if callable(ns[n]) else "value") for n in req["names"] if n in ns}
                _reply(chan, {"id": rid, "ok": found})
            elif op == "get":
                _reply(chan, {"id": rid, "ok": ns[req["name"]]})
            elif op == "call":
                fn = ns[req["name"]]
                args, kwargs = req.get("args", []), req.get("kwargs", {})
                _adopt(args)
                _adopt(kwargs)
                _start_call(chan, rid, fn, args, kwargs)
            elif op == "where":
                run = _calls.get(req["call"])
                _reply(chan, {"id": rid, "ok": run.stuck_at() if run is not None else None})
            elif op == "accepts":
                _reply(chan, {"id": rid, "ok": _accepts.get(req["inode"], [0])[0]})
            elif op == "drop":     # the verifier closed its copy: close ours, so the peer sees the FIN
                for sock in [s for s in _received if _inodes.get(s) == req["inode"]]:
                    _silently_close(sock)
                _reply(chan, {"id": rid, "ok": None})
            elif op == "release":
                for sock in _received:
                    _silently_close(sock)
                _received.clear()
                _calls.clear()
                _reply(chan, {"id": rid, "ok": None})
        except BaseException as exc:  # noqa: BLE001 - a missing name, a broken value: say so
            _reply(chan, {"id": rid, "raised": _error_info(exc)})


def start() -> bool:
    """Serve the verifier on the inherited channel, if there is one (else do nothing)."""
    fd = os.environ.pop("SOCKLAB_AGENT_FD", None)
    if fd is None:
        return False
    for name in filter(None, os.environ.pop("SOCKLAB_PRELOAD", "").split(",")):
        try:   # the course's modules, imported while the kernel warms up (socklab.grading.warm)
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the cell that imports it reports the failure
            continue
    global _chan, _pid
    sock = socket.socket(fileno=int(fd))
    sock.set_inheritable(False)
    _chan, _pid = Channel(sock), os.getpid()
    threading.Thread(target=_serve, args=(_chan,), daemon=True, name="socklab-agent").start()
    return True

"""Inside the student's kernel: answer the verifier's requests for the student's names.

Started by the kernel's first line (``IPKernelApp.exec_lines``) when ``SOCKLAB_AGENT_FD`` names
the inherited end of the channel. Everything here runs where the student's code runs, so nothing
here is trusted: the verifier only ever gets plain data back (see :mod:`socklab.grading.wire`)
and judges it itself. Requests are dicts with an ``op``:

``names``  which of these names the student's namespace has, and whether each is callable;
``get``    a variable's value; ``call`` a function with plain data and sockets (own thread);
``where``  the student's line a running call is at; ``accepts`` accept() calls on a socket;
``release`` close the sockets received so far (the verifier's test cell ended).
"""
from __future__ import annotations

import os
import socket
import sys
import threading

from socklab.grading.wire import Channel
from socklab.testing.limits import Run   # imported up front: a call must not wait for it
from socklab.testing.messages import student_frame, traceback_frames, where

_received: list[socket.socket] = []
_accepts: dict[int, list[int]] = {}
_calls: dict[int, object] = {}


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


def _count_accepts(sock: socket.socket) -> None:
    if sock.type != socket.SOCK_STREAM:
        return
    count = _accepts.setdefault(os.fstat(sock.fileno()).st_ino, [0])

    class Listener(socket.socket):
        __slots__ = ()

        def accept(self):
            pair = super().accept()
            count[0] += 1
            return pair

    Listener.__module__, Listener.__qualname__ = "socket", "socket"
    sock.__class__ = Listener


def _adopt(value):
    """Remember (and count accept() on) every socket that arrived inside `value`."""
    if isinstance(value, socket.socket):
        _received.append(value)
        _count_accepts(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _adopt(item)
    elif isinstance(value, dict):
        for item in value.values():
            _adopt(item)


def _error_info(exc: BaseException) -> dict:
    import builtins

    found = student_frame(traceback_frames(exc.__traceback__))
    name = type(exc).__name__
    builtin = isinstance(getattr(builtins, name, None), type) and type(exc) is getattr(builtins, name)
    return {"type": name, "builtin": builtin, "message": str(exc)[:4000],
            "where": where(*found) if found else None}


def _run_call(chan: Channel, rid: int, fn, args, kwargs) -> None:
    run = Run(fn, tuple(args), kwargs)
    _calls[rid] = run
    try:
        run.start()
    except BaseException as exc:  # noqa: BLE001 - e.g. not a function
        _reply(chan, {"id": rid, "raised": _error_info(exc)})
        return
    run.done.wait()
    if run.error is not None:
        _reply(chan, {"id": rid, "raised": _error_info(run.error)})
    else:
        _received.extend(s for s in run.tracker.open_sockets() if s is not run.value)
        _reply(chan, {"id": rid, "ok": run.value})


def _call_inline(chan: Channel, rid: int, fn, args, kwargs) -> None:
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - everything the student raises is reported
        _reply(chan, {"id": rid, "raised": _error_info(exc)})
    else:
        _reply(chan, {"id": rid, "ok": value})


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
                try:
                    threading.Thread(target=_run_call, args=(chan, rid, fn, args, kwargs), daemon=True,
                                     name=f"socklab-agent-{rid}").start()
                except RuntimeError:   # no thread to spare (the student forked all it may): call here
                    _call_inline(chan, rid, fn, args, kwargs)
            elif op == "where":
                run = _calls.get(req["call"])
                _reply(chan, {"id": rid, "ok": run.stuck_at() if run is not None else None})
            elif op == "accepts":
                _reply(chan, {"id": rid, "ok": _accepts.get(req["inode"], [0])[0]})
            elif op == "release":
                for sock in _received:
                    try:
                        sock.close()
                    except OSError:
                        pass
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
    sock = socket.socket(fileno=int(fd))
    sock.set_inheritable(False)
    threading.Thread(target=_serve, args=(Channel(sock),), daemon=True, name="socklab-agent").start()
    return True

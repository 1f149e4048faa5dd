"""Run a function in a child process inside a private user+network namespace (``unshare -rn``).

Inside, an ordinary user is "root" of a network that holds only its own loopback, so raw
sockets and sniffing work there and cannot touch any real network. The function and its
arguments travel to the child pickled over stdin; the result comes back pickled over a pipe.

The function must be importable by the child: a module-level function (or a builtin scenario
name, see socklab.packets.scenarios). A function defined in a notebook cell is sent as source.
"""
from __future__ import annotations

import fcntl
import inspect
import os
import pickle
import socket
import struct
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

__all__ = ["run_in_namespace", "NamespaceError", "encode_call", "decode_call", "bring_up_loopback", "in_private_namespace"]

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_ENV_FLAG = "SOCKLAB_IN_NAMESPACE"
_STARTUP_MARGIN = 10.0  # interpreter start-up inside the namespace, on a busy 2-core machine


class NamespaceError(RuntimeError):
    """The child process in the namespace failed; the message carries its traceback."""


def in_private_namespace() -> bool:
    """True inside a child started by run_in_namespace()."""
    return os.environ.get(_ENV_FLAG) == "1"


def bring_up_loopback(iface: str = "lo") -> None:
    """Set IFF_UP on the loopback of the current network namespace (a new namespace starts with lo down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", iface.encode(), 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req))[1]
        if not flags & _IFF_UP:
            fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, struct.pack("16sH22x", iface.encode(), flags | _IFF_UP))


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])  # the directory that contains socklab/


def encode_call(fn, args=(), kwargs=None) -> bytes:
    """Pickle a call so a child process can run it (see decode_call)."""
    kwargs = kwargs or {}
    if isinstance(fn, str):
        return pickle.dumps(("scenario", fn, args, kwargs))
    if getattr(fn, "__module__", None) == "__main__" and inspect.isfunction(fn):
        # A notebook cell's function cannot be imported by the child: ship its source instead.
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError) as exc:
            raise ValueError(f"cannot send {fn.__name__} to the namespace: define it in a .py module ({exc})") from None
        return pickle.dumps(("source", (textwrap.dedent(source), fn.__name__), args, kwargs))
    try:
        return pickle.dumps(("call", fn, args, kwargs))
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise ValueError(
            f"{fn!r} cannot be sent to the namespace child: 모듈 최상위 함수나 시나리오 이름을 주세요. / "
            f"pass a module-level function or a scenario name ({exc})") from None


def run_in_namespace(fn, *args, timeout: float = 10.0, python: str | None = None, **kwargs):
    """Call ``fn(*args, **kwargs)`` in a fresh ``unshare -rn`` child with lo up; return its result.

    `fn` may be a module-level function or a scenario name (str). Printed output of the child
    is replayed on this process's stderr. Raises TimeoutError after `timeout` seconds.
    """
    payload = pickle.dumps({"path": [p for p in sys.path if p and os.path.isdir(p)],
                            "call": encode_call(fn, args, kwargs)})
    env = dict(os.environ, **{_ENV_FLAG: "1"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_root(), env.get("PYTHONPATH")]))
    cmd = ["unshare", "-rn", "--", python or sys.executable, "-m", "socklab.packets._child"]
    try:
        done = subprocess.run(cmd, input=payload, capture_output=True, env=env,
                              timeout=timeout + _STARTUP_MARGIN, cwd="/")
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"namespace 실험이 {timeout:g}초 안에 끝나지 않았습니다. / "
                           f"the namespace experiment did not finish within {timeout:g} s") from None
    if done.stderr:
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
    if done.returncode != 0 or not done.stdout:
        raise NamespaceError(f"`unshare -rn` child failed (exit {done.returncode}): "
                             f"{done.stderr.decode('utf-8', 'replace').strip()[-2000:]}")
    result = pickle.loads(done.stdout)
    if result["ok"]:
        return result["value"]
    exc = result.get("exception")
    if isinstance(exc, BaseException):
        raise exc from NamespaceError(result["traceback"])
    raise NamespaceError(result["traceback"])


def decode_call(data: bytes):
    """(fn, args, kwargs) from encode_call()'s bytes; scenario names become their functions."""
    kind, target, args, kwargs = pickle.loads(data)
    if kind == "scenario":
        from .scenarios import get_scenario
        return get_scenario(target), args, kwargs
    if kind == "source":
        source, name = target
        # A notebook cell's function often relies on an earlier `import socket`: provide the usual ones.
        import time
        namespace: dict = {"__name__": "__socklab_namespace__", "socket": socket, "time": time}
        exec(compile(source, f"<{name}>", "exec"), namespace)
        return namespace[name], args, kwargs
    return target, args, kwargs


def _child_main() -> None:
    # fd 1 carries the pickled result; anything the experiment prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    request = pickle.loads(sys.stdin.buffer.read())
    for p in reversed(request["path"]):
        if p not in sys.path:
            sys.path.insert(0, p)
    try:
        bring_up_loopback()
        fn, args, kwargs = decode_call(request["call"])
        result = {"ok": True, "value": fn(*args, **kwargs)}
    except BaseException as exc:  # report everything, including KeyboardInterrupt/SystemExit
        result = {"ok": False, "traceback": traceback.format_exc(), "exception": exc}
    try:
        data = pickle.dumps(result)
    except Exception:
        result.pop("exception", None)
        if result["ok"]:
            result = {"ok": False, "traceback": f"result of type {type(result['value']).__name__} cannot be pickled"}
        data = pickle.dumps(result)
    out.write(data)
    out.flush()

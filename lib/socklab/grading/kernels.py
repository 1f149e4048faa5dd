"""Start a kernel ahead of need and execute one notebook on it the way nbgrader does.

Execution uses nbgrader's own ``Execute`` preprocessor (an nbclient ``NotebookClient``) cell by
cell, so outputs and error records match ``nbgrader autograde``. Two differences, both so one
bad cell cannot sink the rest: output per cell and stream is capped, and a cell that ignores the
interrupt after its time limit stops the kernel — that cell and every later one get an error
output with the reason (partial credit for what ran before) instead of failing the submission.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path

import nbformat
from nbformat import NotebookNode

TIME_LIMIT = "TimeLimit"
STOPPED = "KernelStopped"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _make_executor_class():
    from nbclient import NotebookClient

    class CappedExecute(NotebookClient):
        """nbgrader's Execute preprocessor (same settings and error records) on plain nbclient, so the
        sandbox need not import nbgrader (a second of start-up per notebook), plus an output budget."""

        output_budget = 1 << 20

        def __init__(self, **kw):
            kw.setdefault("interrupt_on_timeout", True)
            kw.setdefault("allow_errors", True)
            kw.setdefault("raise_on_iopub_timeout", True)
            kw.setdefault("error_on_timeout", {
                "ename": "CellTimeoutError", "evalue": "",
                "traceback": ["\x1b[0;31mCellTimeoutError\x1b[0m: No reply from kernel before timeout"]})
            super().__init__(NotebookNode(), **kw)
            self.on_cell_executed = self._record_reply_error

        def _record_reply_error(self, **kwargs):
            # As nbgrader's Execute.on_cell_executed: an error reply without an error output
            # (a timeout) still becomes an error output, so the cell scores 0.
            cell, reply = kwargs["cell"], kwargs["execute_reply"]
            content = reply["content"]
            if content["status"] != "error":
                return
            if any(o.output_type == "error" and o.ename == content["ename"] for o in cell.outputs):
                return
            cell.outputs.append(NotebookNode(
                output_type="error", ename=content["ename"], evalue=content["evalue"],
                traceback=content["traceback"] or ["ERROR: An error occurred while showtraceback was disabled"]))

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            kind = msg["msg_type"]
            if kind == "stream":
                key, size = (cell_index, content.get("name")), len(content.get("text", ""))
            elif kind in ("display_data", "execute_result", "update_display_data"):
                key, size = (cell_index, "display"), sum(len(str(v)) for v in content.get("data", {}).values())
            else:
                return super().output(outs, msg, display_id, cell_index)
            used = self._used.get(key, 0)
            self._used[key] = used + size
            if used >= self.output_budget:
                self._noted.add(cell_index)
                return None
            if kind == "stream" and used + size > self.output_budget:
                content["text"] = content["text"][: self.output_budget - used]
                self._noted.add(cell_index)
            return super().output(outs, msg, display_id, cell_index)

    return CappedExecute


#: The student's kernel runs in its own user, PID and mount namespaces nested in the sandbox's:
#: it cannot see, signal, trace or read the verifier (or anything else outside its PID namespace),
#: and holds no capability over the sandbox's namespaces.
NESTED = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount", "--mount-proc", "--kill-child"]


# Writing "0" to cgroup.procs moves the writer itself; then become the kernel's launcher.
_JOIN_CGROUP = ("import os, sys; fd = int(sys.argv[1]); os.write(fd, b'0'); os.close(fd); "
                "os.execvp(sys.argv[2], sys.argv[2:])")


class KernelSession:
    """One student kernel in `workdir`: start() early, then run cells one at a time, stop() always.

    With ``agent=True`` the kernel serves the verifier on a socketpair (:attr:`channel` is the
    verifier's end; see :mod:`socklab.grading.agent`). With ``nested=True`` it starts inside
    nested namespaces (:data:`NESTED`).
    """

    def __init__(self, workdir: Path, *, label: str = "autograde", limits: dict | None = None,
                 agent: bool = False, nested: bool = False, cgroup_fd: int | None = None,
                 preload: list[str] = ()):
        self.workdir = Path(workdir)
        self.preload = list(preload)
        self.cgroup_fd = cgroup_fd
        self.label = label
        self.limits = limits or {}
        self.agent, self.nested = agent, nested
        self.loop = asyncio.new_event_loop()
        self.km = self.kc = self.ep = None
        self.channel = None
        self.log = logging.getLogger("socklab.grading")

    def _env(self) -> dict:
        home = self.workdir / ".home"
        home.mkdir(exist_ok=True)
        env = dict(os.environ, NBGRADER_EXECUTION=self.label, HOME=str(home), TMPDIR=str(self.workdir),
                   PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="module://matplotlib_inline.backend_inline",
                   PYTHONSAFEPATH="1")   # the work folder (the submission's files) is never on sys.path
        env.pop("PYTHONPATH", None)
        env["MPLCONFIGDIR"] = str(home / ".mpl")
        return env

    def start(self) -> None:
        # Everything slow happens here, while the sandbox waits warm for its notebook.
        self.executor_class = _make_executor_class()
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        import socket
        import sys

        from jupyter_client.kernelspec import KernelSpec
        from jupyter_client.manager import AsyncKernelManager

        runtime = self.workdir / ".k"
        runtime.mkdir(exist_ok=True)
        # IPC sockets in our own folder: no TCP ports to race on, even without a network namespace.
        self.km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(runtime / "kernel"),
                                     connection_file=str(runtime / "kernel.json"))
        argv = (NESTED if self.nested else []) + [sys.executable, "-P", "-m", "ipykernel_launcher", "-f",
                                                  "{connection_file}"]
        kw = {"pass_fds": ()}
        if self.cgroup_fd is not None:   # the kernel's own pids cgroup, below the sandbox's cap
            argv = [sys.executable, "-I", "-S", "-c", _JOIN_CGROUP, str(self.cgroup_fd), *argv]
            kw["pass_fds"] = (self.cgroup_fd,)
        self.km._kernel_spec = KernelSpec(argv=argv, language="python", display_name="Python 3 (socklab student)",
                                          env={})
        env, extra = self._env(), ["--HistoryManager.hist_file=:memory:", "--InteractiveShellApp.ignore_cwd=True"]
        if self.agent:
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            theirs.set_inheritable(True)
            env["SOCKLAB_AGENT_FD"] = str(theirs.fileno())
            if self.preload:   # imported before the kernel says it is ready (see socklab.grading.warm)
                env["SOCKLAB_PRELOAD"] = ",".join(self.preload)
            extra.append("--IPKernelApp.exec_lines=['__import__(\"socklab.grading.agent\").grading.agent.start()']")
            kw["pass_fds"] += (theirs.fileno(),)
        log = open(runtime / "kernel.log", "ab")
        try:
            await self.km.start_kernel(cwd=str(self.workdir), env=env, stdout=log, stderr=log,
                                       extra_arguments=extra, **kw)
        finally:
            log.close()
            if self.agent:
                theirs.close()
                self.channel = mine
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=60)

    def kernel_pid(self) -> int | None:
        """The kernel's process id as our /proc sees it (below ``unshare`` when nested)."""
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        pid = getattr(proc, "pid", None)
        for _ in range(4):   # the cgroup launcher execs unshare, which forks the kernel
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() != "unshare":
                    return pid
                kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except (OSError, TypeError):
                return None
            if len(kids) != 1:
                return None
            pid = int(kids[0])
        return None

    def kill(self) -> None:
        """SIGKILL the kernel (its whole nested PID namespace); safe from any thread."""
        import signal

        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(os.getpgid(proc.pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()

    def execute(self, nb_json: str | bytes) -> dict:
        """Execute every cell of the notebook text; returns {status, reason, notebook, timings}."""
        return self.loop.run_until_complete(self._execute(nbformat.reads(nb_json, as_version=4)))

    async def _prepare(self, nb: NotebookNode) -> None:
        ep = self.executor_class(km=self.km, timeout=int(self.limits.get("cell_timeout", 30)),
                                 interrupt_on_timeout=True, allow_errors=True, log=self.log)
        ep.output_budget = int(self.limits.get("output_bytes", 1 << 20))
        ep._used, ep._noted = {}, set()
        ep.nb = nb
        ep.kc = self.kc
        ep.reset_execution_trackers()
        ep.resources = {"metadata": {"path": str(self.workdir)}}
        info = await ep.async_wait_for_reply(await _maybe_await(self.kc.kernel_info()))
        if info and "language_info" in info["content"]:
            nb.metadata["language_info"] = info["content"]["language_info"]
        self.ep = ep

    def prepare(self, nb: NotebookNode) -> None:
        """Get ready to run `nb`'s cells one by one with :meth:`run_cell`."""
        self.loop.run_until_complete(self._prepare(nb))

    def run_cell(self, cell: NotebookNode, index: int) -> tuple[str, str]:
        """Run one cell in the kernel (outputs land in `cell`); returns (status, reason)."""
        return self.loop.run_until_complete(self._run_cell(cell, index))

    async def _run_cell(self, cell: NotebookNode, index: int) -> tuple[str, str]:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        try:
            await self.ep.async_execute_cell(cell, index, store_history=True)
        except (CellTimeoutError, DeadKernelError, asyncio.CancelledError) as exc:
            if isinstance(exc, DeadKernelError):
                reason = f"the kernel died in cell {index} (crash, os._exit or a resource limit)"
                cell.outputs.append(_error("KernelDied", reason))
                return "died", reason
            reason = (f"cell {index} ran over its {self.ep.timeout} s time limit and ignored the interrupt; "
                      "the kernel was stopped")
            cell.outputs.append(_error(TIME_LIMIT, reason))
            return "timeout", reason
        return "ok", ""

    async def _execute(self, nb: NotebookNode) -> dict:
        t0 = time.monotonic()
        await self._prepare(nb)
        status, reason = "ok", ""
        for index, cell in enumerate(nb.cells):
            if status != "ok":
                if cell.cell_type == "code" and cell.source.strip():
                    cell.outputs = [_error(STOPPED, f"not run: {reason}")]
                continue
            status, reason = await self._run_cell(cell, index)
        self.ep.set_widgets_metadata()
        return {"status": status, "reason": reason, "notebook": nb, "truncated": sorted(self.ep._noted),
                "timings": {"exec_s": time.monotonic() - t0}}

    def stop(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                self.loop.run_until_complete(self.km.shutdown_kernel(now=True))
        except Exception as exc:  # the child exits next anyway; never mask the real result
            self.log.warning("kernel shutdown: %s", exc)
        finally:
            if self.channel is not None:
                self.channel.close()
            shutil.rmtree(self.workdir / ".k", ignore_errors=True)
            self.loop.close()


async def _maybe_await(value):
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value

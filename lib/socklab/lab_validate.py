"""The student lab's Validate button, answered by ``socklab check`` (a Jupyter server extension).

nbgrader's own validator runs only the tests in the student's copy, so it says "Success!" while
hidden tests fail. In the student lab nbgrader's validate extension is off and this one serves
the same URL (``POST /assignments/validate``) with the same JSON shape nbgrader's button expects:
``{"success": true, "value": {"failed": [{"source", "error", "raw_error"}]}}`` for failures, ``{}``
for a pass. The verdict it cannot fit into that shape (which tests ran, the hand-graded exercises)
is kept per notebook for ``GET /socklab/verdict?path=...``; socklab's small lab plugin
(``lib/socklab/data/labextension``) puts it at the top of the Validate dialog.

The check itself is :func:`socklab.grading.check.check`, called, not copied.
"""
from __future__ import annotations

import asyncio
import html
import json
import os
import threading
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

__all__ = ["nbgrader_shape", "verdict"]

_VERDICTS: dict[str, dict] = {}
_LOCK = threading.Lock()


def verdict(report, notebook: Path) -> dict:
    """The whole verdict as plain data: ok, summary lines and HTML, and one row per exercise."""
    from socklab.verdict import hand_graded, summary_html, summary_lines

    complete = report.hidden_tests and not hand_graded(notebook)
    return {"ok": report.ok, "complete": bool(report.ok and complete),
            "score": report.score, "max_score": report.max_score, "hidden_tests": report.hidden_tests,
            "summary": summary_lines(report, notebook), "summary_html": summary_html(report, notebook),
            "exercises": [{"grade_id": e.grade_id, "title": e.title, "score": e.score, "max_score": e.max_score,
                           "passed": e.passed, "message": e.message} for e in report.exercises],
            "problems": list(report.problems)}


def nbgrader_shape(result: dict) -> dict:
    """`result` (from :func:`verdict`) in the JSON nbgrader's Validate dialog renders."""
    failed = [{"source": "socklab check", "error": html.escape(p), "raw_error": p} for p in result["problems"]]
    for e in result["exercises"]:
        if not e["passed"]:
            source = f"{e['title'] or e['grade_id']}  [{e['grade_id']}]  {e['score']:g}/{e['max_score']:g}점"
            message = e["message"] or "실패 / failed"
            failed.append({"source": source, "error": html.escape(message), "raw_error": message})
    return {"success": True, "value": {"failed": failed} if failed else {}}


class ValidateHandler(JupyterHandler):
    """POST /assignments/validate (path=<notebook relative to the server root>)."""

    def _notebook(self, path: str) -> Path:
        root = Path(self.settings["socklab_root_dir"]).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or target.suffix != ".ipynb":
            raise web.HTTPError(403, "only notebooks in your workspace can be checked")
        return target

    @web.authenticated
    async def post(self):
        try:
            path = self.get_argument("path")
        except web.MissingArgumentError:
            path = (self.get_json_body() or {}).get("path", "")
        notebook = self._notebook(path)
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, _check, notebook)
        except Exception as exc:  # noqa: BLE001 - the dialog shows what went wrong instead of hanging
            self.log.exception("socklab check failed")
            self.finish(json.dumps({"success": False, "value": f"socklab check: {exc}"}))
            return
        with _LOCK:
            _VERDICTS[str(notebook)] = result
        self.finish(json.dumps(nbgrader_shape(result)))


class VerdictHandler(ValidateHandler):
    """GET /socklab/verdict?path=...: the last verdict of that notebook (404 before its first check)."""

    @web.authenticated
    def get(self):
        notebook = self._notebook(self.get_argument("path"))
        with _LOCK:
            result = _VERDICTS.get(str(notebook))
        if result is None:
            raise web.HTTPError(404, "not checked yet")
        self.finish(json.dumps(result))


class VersionHandler(JupyterHandler):
    """GET /nbgrader_version: what nbgrader's lab plugin asks before it shows the Validate button."""

    @web.authenticated
    def get(self):
        from nbgrader import __version__

        same = self.get_argument("version", "") == __version__
        self.finish(json.dumps({"success": True} if same else {
            "success": False, "message": f"nbgrader lab extension {self.get_argument('version', '')} "
                                         f"vs server {__version__}"}))


def _check(notebook: Path) -> dict:
    from socklab.grading.check import check

    return verdict(check(notebook=notebook, quiet=True), notebook)


def _jupyter_server_extension_points():
    return [{"module": "socklab.lab_validate"}]


def _load_jupyter_server_extension(serverapp) -> None:
    web_app = serverapp.web_app
    base = web_app.settings["base_url"]
    web_app.settings["socklab_root_dir"] = os.path.abspath(serverapp.root_dir)
    web_app.add_handlers(".*$", [(url_path_join(base, "assignments/validate"), ValidateHandler),
                                 (url_path_join(base, "socklab/verdict"), VerdictHandler),
                                 (url_path_join(base, "nbgrader_version"), VersionHandler)])
    serverapp.log.info("socklab: Validate runs `socklab check` (visible and, where present, hidden tests)")

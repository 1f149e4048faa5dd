"""Drive a real JupyterLab in Chromium: open a notebook, Run All, read what the page shows.

Actions a person would do go through the UI (menus, toolbar buttons). Reading state uses
the app object JupyterLab exposes with ``--LabApp.expose_app_in_browser`` (the notebook
model says which output is an error; the DOM says what was rendered).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The course under test; another one (e.g. a scratch course while notebooks are being
# written) can be named with SOCKLAB_BROWSER_COURSE.
SOURCE = Path(os.environ.get("SOCKLAB_BROWSER_COURSE") or REPO).resolve()
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"

CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-default-apps",
    "--disable-extensions",
]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# The notebook panel JupyterLab shows in front, and its kernel.
_PANEL = "window.jupyterapp.shell.currentWidget"
_KERNEL_IDLE = f"""() => {{
    const p = {_PANEL};
    const k = p && p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel;
    return !!k && k.status === 'idle';
}}"""
# Every code cell is done: none is queued or running ([*]) and the kernel is idle.
_RUN_FINISHED = f"""() => {{
    const p = {_PANEL};
    const k = p && p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel;
    if (!k || k.status !== 'idle') return false;
    return !Array.from(p.node.querySelectorAll('.jp-InputPrompt')).some(e => e.textContent.includes('*'));
}}"""

# One record per cell: what the model holds and what the DOM rendered.
_CELL_REPORT = f"""() => {{
    const p = {_PANEL};
    return p.content.widgets.map((cell, index) => {{
        const model = cell.model;
        const outputs = model.type === 'code' ? model.outputs.toJSON() : [];
        const node = cell.node;
        const outputNode = node.querySelector('.jp-OutputArea');
        return {{
            index,
            type: model.type,
            execution_count: model.type === 'code' ? model.executionCount : null,
            output_types: outputs.map(o => o.output_type),
            mimes: outputs.flatMap(o => Object.keys(o.data || {{}})),
            enames: outputs.filter(o => o.output_type === 'error').map(o => o.ename),
            error_text: Array.from(node.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                .map(e => e.textContent).join('\\n'),
            output_text: outputNode ? outputNode.textContent : '',
            widget_nodes: node.querySelectorAll('.jupyter-widgets, [class*="widget-"]').length,
            widget_errors: outputNode ? (outputNode.textContent.match(/Error displaying widget|Loading widget/g) || []).length : 0,
            images: node.querySelectorAll('.jp-OutputArea-output img').length,
        }};
    }});
}}"""


@contextlib.contextmanager
def running_lab(root: Path, mode: str, *, state_dir: Path, log_path: Path):
    """One real JupyterLab (`mode` "instructor" or "student") on the course at `root`; stopped by PID afterwards."""
    from socklab.lab import start_lab

    server = start_lab(root, mode=mode, state_dir=state_dir, log_path=log_path, expose_app=True, timeout=60)
    try:
        yield server
    finally:
        server.stop()


def course_notebooks(folder: str) -> list[str]:
    """Relative paths of the course map's notebooks present in `folder` ("solutions" or "notebooks")."""
    from socklab.course import load_course
    paths = [f"{folder}/{nb.chapter}/{nb.file}.ipynb" for nb in load_course(root=SOURCE).notebooks()]
    return [p for p in paths if (SOURCE / p).is_file()]


@dataclass
class Cell:
    """One notebook cell: its nbgrader role (from the file) and what the browser showed."""

    index: int
    type: str
    source: str
    role: str  # 'markdown' | 'demo' | 'solution' | 'grade' | 'setup'
    grade_id: str | None
    shown: dict = field(default_factory=dict)

    @property
    def has_error(self) -> bool:
        return "error" in self.shown.get("output_types", [])

    def label(self) -> str:
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        return f"cell {self.index} ({self.role}{', ' + self.grade_id if self.grade_id else ''}): {first[:60]!r}"


def read_cells(path: Path) -> list[Cell]:
    """Cells of the .ipynb at `path` with their nbgrader role (demo = neither solution nor test)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for index, raw in enumerate(notebook["cells"]):
        source = "".join(raw["source"]) if isinstance(raw["source"], list) else raw["source"]
        meta = raw.get("metadata", {}).get("nbgrader", {})
        if raw["cell_type"] != "code":
            role = "markdown"
        elif meta.get("solution"):
            role = "solution"
        elif meta.get("grade"):
            role = "grade"
        elif meta.get("locked"):
            role = "setup"
        else:
            role = "demo"
        cells.append(Cell(index, raw["cell_type"], source, role, meta.get("grade_id")))
    return cells


_LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")


def watch(page):
    """Record the page's JavaScript errors and any request that leaves this machine."""
    page.page_errors = []
    page.external_requests = []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith(_LOCAL)
            else page.external_requests.append(request.url))
    return page


def assert_page_clean(page) -> None:
    """No JavaScript error on the page and not a single request to the internet."""
    assert not page.page_errors, f"JavaScript errors on the page: {page.page_errors}"
    assert not page.external_requests, f"the page contacted other hosts: {page.external_requests}"


def open_lab(page, server, *, timeout_ms: int = 60_000) -> None:
    """Load JupyterLab (from an empty workspace) and wait until it has restored its layout."""
    page.goto(server.url("lab?reset"))
    page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.shell)", timeout=timeout_ms)
    page.evaluate("async () => { await window.jupyterapp.restored; }")


def open_notebook(page, server, relpath: str, *, timeout_ms: int = 60_000) -> None:
    """Open `relpath` (as a double-click in the file browser does) and wait until its kernel is idle."""
    if not page.evaluate("() => !!(window.jupyterapp && window.jupyterapp.shell)"):
        open_lab(page, server, timeout_ms=timeout_ms)
    page.evaluate("(path) => window.jupyterapp.commands.execute('docmanager:open', {path})", relpath)
    page.wait_for_function(
        f"() => {{ const p = {_PANEL}; return !!p && p.context && p.context.path === {json.dumps(relpath)}; }}",
        timeout=timeout_ms)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell", timeout=timeout_ms)
    page.wait_for_function(_KERNEL_IDLE, timeout=timeout_ms)


def unsaved_after_kernel_start(page) -> bool:
    """Does the open notebook show as unsaved once its kernel has reported its info (the moment
    JupyterLab copies language_info into the notebook)?"""
    return page.evaluate(f"""async () => {{
        const panel = {_PANEL};
        await panel.sessionContext.session.kernel.info;
        await new Promise(resolve => requestAnimationFrame(() => resolve()));
        return panel.context.model.dirty;
    }}""")


def close_all(page) -> None:
    """Close every tab without saving and shut every kernel down (ready for the next test)."""
    page.keyboard.press("Escape")  # a dialog left open by a failed test
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        if (!app) return;
        for (const widget of Array.from(app.shell.widgets('main'))) {
            if (widget.context) widget.context.model.dirty = false;
            widget.dispose();
        }
        await app.serviceManager.sessions.shutdownAll();
        if (app.serviceManager.terminals.isAvailable()) await app.serviceManager.terminals.shutdownAll();
    }""")


def open_menu(page, menu: str, item: str):
    """Open `menu` in the menu bar and return its entry `item`, visible and ready to click."""
    entry = page.get_by_role("menuitem", name=item, exact=True)
    for _attempt in range(3):
        # A menu bar left active by an earlier Escape can swallow one click: look, then retry.
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
        try:
            entry.wait_for(state="visible", timeout=3_000)
            return entry
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            page.keyboard.press("Escape")
    raise AssertionError(f"the {menu!r} menu did not open")


def run_all(page, *, timeout_ms: int = 120_000) -> None:
    """Run > Run All Cells, through the menu bar, and wait for the last cell to finish.

    The command's own promise (seen through ``commandExecuted``) settles when every
    queued cell has finished, so there is no window where the page only looks idle.
    """
    page.evaluate("""() => {
        const commands = window.jupyterapp.commands;
        window.__socklabRunAll = 'waiting';
        const seen = (sender, args) => {
            if (args.id !== 'notebook:run-all-cells') return;
            commands.commandExecuted.disconnect(seen);
            window.__socklabRunAll = 'running';
            Promise.resolve(args.result).finally(() => { window.__socklabRunAll = 'done'; });
        };
        commands.commandExecuted.connect(seen);
    }""")
    open_menu(page, "Run", "Run All Cells").click()
    page.wait_for_function("() => window.__socklabRunAll === 'done'", timeout=timeout_ms)
    page.wait_for_function(_RUN_FINISHED, timeout=timeout_ms)


def run_all_past_errors(page, *, timeout_ms: int = 120_000) -> int:
    """Run All, then keep going after each failing cell as a student clicking on would.

    JupyterLab stops a Run All at the first error (the student notebook's stubs raise
    NotImplementedError on purpose): the kernel aborts what was queued behind it, though
    a request that arrives late may still run. So we look for the first code cell that
    never ran and resume there with "Run Selected Cell and All Below", until every cell
    has run. Returns how many times execution had to be resumed.
    """
    run_all(page, timeout_ms=timeout_ms)
    resumed = 0
    while True:
        first = page.evaluate(f"""() => {_PANEL}.content.widgets.findIndex(c =>
            c.model.type === 'code' && c.model.executionCount === null
            && c.model.sharedModel.getSource().trim() !== '')""")
        if first < 0:
            return resumed
        resumed += 1
        if resumed > 200:
            raise AssertionError(f"cell {first} never runs")
        page.evaluate(f"""async (next) => {{
            const panel = {_PANEL};
            panel.content.activeCellIndex = next;
            await window.jupyterapp.commands.execute('notebook:run-all-below');
        }}""", first)
        page.wait_for_function(_RUN_FINISHED, timeout=timeout_ms)


def report(page, cells: list[Cell]) -> list[Cell]:
    """Fill each Cell's ``shown`` with what the browser rendered for it."""
    shown = page.evaluate(_CELL_REPORT)
    assert len(shown) == len(cells), f"the page shows {len(shown)} cells, the file has {len(cells)}"
    for cell, seen in zip(cells, shown):
        cell.shown = seen
    return cells


def scroll_to(page, cell: Cell) -> None:
    """Bring `cell` into view (off-screen cells are not laid out: content-visibility)."""
    page.evaluate(f"(i) => {_PANEL}.content.widgets[i].node.scrollIntoView({{block: 'start'}})", cell.index)


def image_drawn(page, cell: Cell, *, timeout_ms: int = 15_000) -> bool:
    """Does `cell` show at least one decoded, non-empty image once scrolled into view?"""
    scroll_to(page, cell)
    try:
        page.wait_for_function(
            f"""(i) => Array.from({_PANEL}.content.widgets[i].node.querySelectorAll('.jp-OutputArea-output img'))
                .some(img => img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 0)""",
            arg=cell.index, timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError; the caller asserts
        return False
    return True


def widget_drawn(page, cell: Cell, *, timeout_ms: int = 15_000) -> bool:
    """Does `cell` show a laid-out ipywidgets view once scrolled into view?"""
    scroll_to(page, cell)
    try:
        page.wait_for_function(
            f"""(i) => Array.from({_PANEL}.content.widgets[i].node.querySelectorAll('.jupyter-widgets'))
                .some(w => w.getBoundingClientRect().height > 0)""",
            arg=cell.index, timeout=timeout_ms)
    except Exception:  # noqa: BLE001
        return False
    return True


def screenshot_cells(page, cells: list[Cell], path: Path, *, predicate, focus: str | None = None) -> Path | None:
    """Screenshot the page scrolled to the first cell matching `predicate`.

    With `focus` (a CSS selector inside the cell, e.g. its output image) that element is
    centred instead of the cell's top, so a tall cell still shows what matters.
    """
    for cell in cells:
        if predicate(cell):
            scroll_to(page, cell)
            if focus:
                page.evaluate(f"""([i, selector]) => {{
                    const target = {_PANEL}.content.widgets[i].node.querySelector(selector);
                    if (target) target.scrollIntoView({{block: 'center'}});
                }}""", [cell.index, focus])
            page.screenshot(path=str(path))
            return path
    return None


# Processes: a launcher's output, and servers found by PID.

def read_until(process, pattern: re.Pattern, deadline: float) -> re.Match:
    """Read the child's stdout until `pattern` matches (bounded by `deadline`)."""
    seen = b""
    fd = process.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(fd, 65536)  # raw reads: a buffered readline() could hide a line from select()
            if not chunk:
                break
            seen += chunk
            if match := pattern.search(seen.decode(errors="replace")):
                return match
    raise AssertionError("no URL printed; output was:\n" + seen.decode(errors="replace"))


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_server(pid: int) -> None:
    from socklab.lab import _descendants

    try:
        if b"jupyterlab" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return  # gone, and the PID now belongs to someone else
    except OSError:
        return
    for victim in [pid, *_descendants(pid)]:
        if alive(victim):
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass

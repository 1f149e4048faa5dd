"""Small interactive views for the notebooks. Each returns an ipywidgets widget, or None under
nbgrader (nobody is there to click, and grading must not wait for a widget)."""
from __future__ import annotations

import html
import threading
from typing import Any

from socklab import env, ports

import ipywidgets as w

__all__ = ["describe_port", "port_explorer", "server_log_view", "ServerLogView"]

_TAG_KO = {"reserved": "예약됨", "well-known": "잘 알려진 포트", "registered": "등록된 포트",
           "dynamic": "동적/사설 포트"}


def _range_line(port: int, ephemeral: ports.EphemeralRange) -> str:
    kind = ports.classify(port)
    line = f"IANA 범위 / range: {_TAG_KO[kind]} ({kind})"
    if ephemeral.contains(port):
        line += f"; 이 커널의 임시 포트 범위 안 / inside this kernel's ephemeral range {ephemeral.low}-{ephemeral.high}"
    return line


def describe_port(query: str | int, table: ports.ServiceTable | None) -> str:
    """Plain-text answer for a service name or port number: services, IANA range, who may bind.

    >>> table = ports.parse_services("http 80/tcp www # web\\nhttp 80/udp")
    >>> print(describe_port("www", table))  # doctest: +ELLIPSIS
    http 80/tcp (www) - web
    http 80/udp
    IANA 범위 / range: 잘 알려진 포트 (well-known)
    bind: ...
    """
    text = str(query).strip()
    if not text:
        return "서비스 이름이나 포트 번호를 입력하세요 / type a service name (ssh, http) or a port number (22)"
    ephemeral = ports.ephemeral_range()
    if text.lstrip("-").isdigit():
        port = int(text)
        try:
            lines = [_range_line(port, ephemeral), f"bind: {ports.who_may_bind(port)}"]
        except ValueError as exc:
            return str(exc)
        found = table.find(port) if table is not None else []
        services = [_service_line(s) for s in found] or ["services 파일에 없음 / not in the services file"]
        return "\n".join(services + lines)
    found = table.find(text) if table is not None else []
    names = {s.name for s in found}  # an alias found on one line: show its service's other lines too
    found += [s for s in (table or []) if s.name in names and s not in found]
    if not found:
        where = "" if table is not None else " (services 파일 없음 / no services file here)"
        return f"'{text}' 서비스를 찾지 못했습니다 / no service named '{text}'{where}"
    port = found[0].port
    return "\n".join([_service_line(s) for s in found]
                     + [_range_line(port, ephemeral), f"bind: {ports.who_may_bind(port)}"])


def _service_line(s: ports.Service) -> str:
    aliases = f" ({', '.join(s.aliases)})" if s.aliases else ""
    comment = f" - {s.comment}" if s.comment else ""
    return f"{s.name} {s.port}/{s.protocol}{aliases}{comment}"


def _pre(text: str) -> str:
    return f"<pre style='margin:0'>{html.escape(text)}</pre>"


def port_explorer(value: str = "http", *, table: ports.ServiceTable | None = None) -> w.VBox | None:
    """Type a service name or port number; see its services-file entries, IANA range and who may bind it."""
    if env.under_nbgrader():
        return None
    if table is None and env.has_services_file():
        table = ports.load_services()
    box = w.Text(value=value, description="port / 서비스", placeholder="ssh, http, 22, 8080 ...",
                 continuous_update=True)
    out = w.HTML(_pre(describe_port(value, table)))

    def update(change: dict[str, Any]) -> None:
        out.value = _pre(describe_port(change["new"], table))

    box.observe(update, names="value")
    return w.VBox([box, out])


class ServerLogView(w.VBox):
    """A live table of a socklab server's event log; it redraws itself whenever the log grows."""

    def __init__(self, server: Any, interval: float = 0.25) -> None:
        self.title, self.table = w.HTML(), w.HTML()
        super().__init__([self.title, self.table])
        self.server = server
        self.interval = interval
        self._closed = threading.Event()
        self._shown = -1
        self.refresh()
        self._thread = threading.Thread(target=self._follow, name=f"socklab-logview-{server.name}", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        """Redraw now."""
        log = self.server.log
        self._shown = len(log)
        state = "실행 중 / running" if self.server.running else "멈춤 / stopped"
        self.title.value = (f"<b>{html.escape(str(self.server.name))}</b> "
                            f"{html.escape(str(self.server.address))} — {state}")
        self.table.value = log._repr_html_()

    def _follow(self) -> None:
        log = self.server.log
        while not self._closed.is_set():
            log.wait_for(lambda lg: len(lg) != self._shown, timeout=self.interval)
            if self._closed.is_set():
                break
            running = self.server.running
            self.refresh()
            if not running:  # one last redraw shows the final state, then stop following
                break

    @property
    def following(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        """Stop following and close the widget."""
        self._closed.set()
        self._thread.join(timeout=2 * self.interval + 1)
        self.title.close()
        self.table.close()
        super().close()


def server_log_view(server: Any, *, interval: float = 0.25) -> ServerLogView | None:
    """Show a server's connections, bytes and errors as they happen (None under nbgrader)."""
    if env.under_nbgrader():
        return None
    return ServerLogView(server, interval=interval)

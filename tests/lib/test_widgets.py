"""socklab.widgets: the port explorer and the live server log, built for real."""
import doctest
import time

import ipywidgets

from socklab import env, ports, widgets
from socklab.clients import round_trip
from socklab.servers import echo_server

TABLE = ports.parse_services("ssh 22/tcp # SSH Remote Login Protocol\nhttp 80/tcp www\nhttp 80/udp\n"
                             "socks 1080/tcp\n")


def _until(predicate, timeout=3.0):
    """Bounded polling: the widget redraws from its own thread."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_widgets_do_nothing_under_nbgrader(monkeypatch):
    """Under nbgrader, do both widgets return None without starting anything?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with echo_server(name="test-widgets-nbgrader") as srv:
        assert widgets.server_log_view(srv) is None
    assert widgets.port_explorer() is None


def test_port_explorer_answers_names_and_numbers():
    """Typing a name, an alias or a number: does the explorer show the service, range and who may bind?"""
    box = widgets.port_explorer("ssh", table=TABLE)
    assert isinstance(box, ipywidgets.VBox)
    text, out = box.children
    assert "22/tcp" in out.value and "well-known" in out.value and "CAP_NET_BIND_SERVICE" in out.value
    text.value = "www"
    assert "http 80/tcp (www)" in out.value and "http 80/udp" in out.value
    text.value = "1080"
    assert "socks 1080/tcp" in out.value and "registered" in out.value and "any user" in out.value
    text.value = "50000"
    assert "not in the services file" in out.value and "dynamic" in out.value
    box.close()


def test_port_explorer_explains_bad_input():
    """Do an impossible port, an unknown name and an empty box each get a helpful line?"""
    box = widgets.port_explorer("70000", table=TABLE)
    text, out = box.children
    assert "0 to 65535" in out.value
    text.value = "gopherx"
    assert "no service named" in out.value
    text.value = "  "
    assert "type a service name" in out.value
    text.value = "<b>"
    assert "&lt;b&gt;" in out.value  # what the student typed is shown, never interpreted as HTML
    box.close()


def test_port_explorer_marks_the_kernels_ephemeral_range():
    """Is a port inside the kernel's ephemeral range flagged as such?"""
    low = ports.ephemeral_range().low
    assert "ephemeral range" in widgets.describe_port(low, TABLE)


def test_port_explorer_without_a_services_file(monkeypatch):
    """With no services file, do numbers still work and names say why they are not found?"""
    monkeypatch.setattr(env, "has_services_file", lambda: False)
    box = widgets.port_explorer("8080")
    text, out = box.children
    assert "registered" in out.value
    text.value = "ssh"
    assert "no services file" in out.value
    box.close()


def test_server_log_view_follows_a_live_server():
    """Does the log view show new connections as they happen, then 'stopped' when the server stops?"""
    srv = echo_server(name="test-widgets-log")
    view = widgets.server_log_view(srv, interval=0.05)
    try:
        assert isinstance(view, ipywidgets.VBox)
        assert "running" in view.title.value and str(srv.port) in view.title.value
        round_trip(srv.address, b"hello widget", timeout=2)
        assert _until(lambda: "recv" in view.table.value and "b&#x27;hello widget&#x27;" in view.table.value
                      or "hello widget" in view.table.value)
    finally:
        srv.stop()
    assert _until(lambda: "stopped" in view.title.value)
    assert _until(lambda: not view.following)
    view.close()


def test_server_log_view_close_stops_its_thread():
    """Does closing the view end its redraw thread even while the server keeps running?"""
    with echo_server(name="test-widgets-close") as srv:
        view = widgets.server_log_view(srv, interval=0.05)
        assert view.following
        view.close()
        assert not view.following


def test_doctests():
    """Do the widgets' docstring examples run as written?"""
    result = doctest.testmod(widgets, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0

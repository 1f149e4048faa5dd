"""socklab.trace: recording real socket calls on both ends of loopback exchanges."""
import _socket
import doctest
import io
import socket
import threading

import pytest

import socklab.trace
from socklab.clients import concurrent_round_trips
from socklab.servers import echo_server, stop_all, udp_echo_server
from socklab.trace import TraceError, trace


@pytest.fixture(autouse=True)
def _no_servers_left():
    yield
    stop_all()


def _student_exchange():
    """The seed's story written the way a student would: one server thread, one client."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(3)

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())

    server = threading.Thread(target=serve)
    server.start()
    client = socket.socket()
    client.settimeout(3)
    client.connect(listener.getsockname())
    client.sendall(b"abc")
    reply = client.recv(100)
    client.close()
    server.join(3)
    listener.close()
    return reply


def _patched_names():
    return {k: v for k, v in vars(socket.socket).items()}


def test_exports():
    """Does every name in __all__ exist (so `from ... import *` and the README stay honest)?"""
    for module in (socklab.trace,):
        for name in module.__all__:
            assert getattr(module, name) is not None, name


def test_doctests():
    """Do the examples in trace's docstrings run as written?"""
    result = doctest.testmod(socklab.trace)
    assert result.failed == 0 and result.attempted > 0


def test_student_exchange_both_ends():
    """Are both ends' calls recorded in order, with roles, ids, addresses and byte counts?"""
    with trace() as t:
        assert _student_exchange() == b"ABC"
    assert t.ops("server") == ["socket", "bind", "listen", "accept", "recv", "sendall", "close", "close"]
    assert t.ops("client") == ["socket", "connect", "sendall", "recv", "close"]
    calls = t.calls
    by = {(c.role, c.op): c for c in calls}
    accept, connect = by["server", "accept"], by["client", "connect"]
    assert accept.peer == connect.local and _same_port(accept.local, connect.peer)
    conn_id = int(accept.result.split("#")[1])
    assert by["server", "recv"].sock_id == conn_id != accept.sock_id
    assert by["server", "recv"].nbytes == 3 and by["client", "sendall"].nbytes == 3
    # a send always comes before the recv that got its bytes, whatever thread ran first
    assert calls.index(by["client", "sendall"]) < calls.index(by["server", "recv"])
    assert calls.index(by["server", "sendall"]) < calls.index(by["client", "recv"])
    assert {c.thread for c in calls} >= {"MainThread"} and len({c.thread for c in calls}) == 2
    text = t.text()
    assert "accept" in text and f"new socket #{conn_id}" in text and text.count("\n") == len(calls) + 1


def _same_port(a, b):
    return a[1] == b[1]


def test_patches_are_removed_even_after_an_exception():
    """Is socket.socket exactly restored when the traced block raises?"""
    before = _patched_names()
    with pytest.raises(ValueError):
        with trace():
            raise ValueError("student bug")
    assert _patched_names() == before
    assert socket.socket.recv is _socket.socket.recv


def test_nested_trace_is_a_clear_error():
    """Does a trace inside a trace fail clearly, leaving the outer one working?"""
    before = _patched_names()
    with trace() as outer:
        with pytest.raises(TraceError, match="already recording"):
            with trace():
                pass
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
    assert outer.ops() == ["socket", "bind", "close"]
    assert _patched_names() == before


def test_many_threads_are_all_recorded():
    """Are calls from several client threads and server threads all recorded?"""
    with echo_server(name="tr-many") as srv, trace() as t:
        results = concurrent_round_trips(srv.address, [b"a1", b"b22", b"c333", b"d4444"], timeout=3)
    assert all(r.ok for r in results)
    assert t.ops("client").count("connect") == 4 and t.ops("server").count("accept") == 4
    sent = sum(c.nbytes for c in t.calls if c.role == "client" and c.op == "sendall")
    got = sum(c.nbytes for c in t.calls if c.role == "server" and c.op == "recv")
    assert sent == got == 2 + 3 + 4 + 5


def test_udp_roles():
    """Does a UDP exchange show sendto/recvfrom, with the bound socket as the server?"""
    with udp_echo_server(name="tr-udp") as srv, trace() as t:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(b"ping", srv.address)
            assert s.recvfrom(100)[0] == b"ping"
    assert t.ops("client") == ["socket", "sendto", "recvfrom", "close"]
    assert t.ops("server") == ["recvfrom", "sendto"]
    assert t.figure() is not None


def test_failures_are_recorded():
    """Are a refused connect and a recv timeout shown as such?"""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        with trace() as t:
            with socket.socket() as c, pytest.raises(ConnectionRefusedError):
                c.connect(holder.getsockname())
            with echo_server(name="tr-to") as srv, socket.create_connection(srv.address, timeout=0.05) as c:
                with pytest.raises(TimeoutError):
                    c.recv(10)
    results = [c.result for c in t.calls if c.op in ("connect", "recv") and c.role == "client"]
    assert results[0].startswith("ConnectionRefusedError") and results[-1] == "timeout"


def test_only_internet_sockets_and_only_inside_the_block():
    """Are socketpair()s ignored, and calls after the block not recorded?"""
    with trace() as t:
        a, b = socket.socketpair()
        a.sendall(b"x")
        b.recv(1)
        a.close()
        b.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
    assert t.calls == []


def test_figure_has_lanes_and_arrows():
    """Does the figure draw Server/Client lanes and arrows for connect, data and FIN?"""
    with trace() as t:
        _student_exchange()
    fig = t.figure()
    ax = fig.axes[0]
    texts = [x.get_text() for x in ax.texts]
    assert any(x.endswith("Server") for x in texts) and any(x.endswith("Client") for x in texts)
    assert any(x.endswith("connect (SYN)") for x in texts) and texts.count("3 B") == 2
    assert any("accept()" in x for x in texts)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # renders with Agg: no display needed
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_figure_is_titled_and_labelled_in_korean_too():
    """With a Hangul font installed, are the title and lanes Korean and English, and does a given title win?"""
    from socklab._figures import korean_font
    from support import strict_skip

    if korean_font() is None:
        strict_skip("no Hangul font (install fonts-nanum)")
    with trace() as t:
        _student_exchange()
    ax = t.figure().axes[0]
    texts = [x.get_text() for x in ax.texts]
    assert "서버 Server" in texts and "클라이언트 Client" in texts and "연결 요청 connect (SYN)" in texts
    assert ax.get_title() == "소켓 호출 순서 (위에서 아래로 시간 순)\nsocket calls, top to bottom in time order"
    assert t.figure(title="에코 한 번 / one echo").axes[0].get_title() == "에코 한 번 / one echo"


def test_empty_trace_and_show_outside_notebook(capsys):
    """Does an empty trace still draw, and does show() print the table outside IPython?"""
    with trace() as t:
        pass
    assert t.figure().axes
    t.show()
    assert "call" in capsys.readouterr().out
    assert "0 call(s)" in repr(t)

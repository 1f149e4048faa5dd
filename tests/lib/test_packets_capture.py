"""Capturing real loopback TCP exchanges (namespace and root tiers): each packet once, in order."""
import socket

import pytest
from support import strict_skip

from socklab import packets
from socklab.clients import round_trip
from socklab.servers import echo_server

CAPTURE_TIERS = ["namespace", "root"]


def _require(tier: str) -> None:
    report = packets.tier()
    if not report.available[tier]:
        strict_skip(f"tier {tier!r} unavailable here: {report.reasons[tier]}")


def assert_clean_exchange(cap, client_port, server_port, sent: bytes, echoed: bytes):
    """One connection: S, SA, A first, data each way once, one FIN per side, final ACK, no RST."""
    segs = cap.segments(server_port)
    flags = [s.flags for s in segs]
    assert {(s.sport, s.dport) for s in segs} == {(client_port, server_port), (server_port, client_port)}
    assert flags[:3] == ["S", "SA", "A"], flags
    assert segs[0].sport == client_port and segs[1].sport == server_port and segs[2].sport == client_port
    assert flags.count("S") == 1 and flags.count("SA") == 1, flags
    assert sum("F" in f for f in flags) == 2, flags
    assert [s.sport for s in segs if "F" in s.flags] in ([client_port, server_port], [server_port, client_port])
    assert flags[-1] == "A" and not any("R" in f for f in flags), flags
    assert b"".join(s.payload for s in segs if s.sport == client_port) == sent
    assert b"".join(s.payload for s in segs if s.sport == server_port) == echoed
    # each packet once: sniffing lo naively shows every frame twice, byte-identical
    raws = [r.raw for r in cap.only(server_port).records]
    assert len(raws) == len(set(raws)) == len(segs)
    assert [(s.rel_seq, s.rel_ack) for s in segs[:3]] == [(0, 0), (0, 1), (1, 1)]


def client_of_echo_server(message: bytes) -> dict:
    """Module level, so the namespace child can import it: a client talks to socklab's echo server."""
    with echo_server(name="packets-test-echo") as srv:
        reply = round_trip(srv.address, message, timeout=5.0)
        srv.wait_for(lambda log: any(e.kind == "close" for e in log.events), timeout=5.0)
        return {"port": srv.port, "reply": reply}


def connect_to_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connecting gets RST
    socket.create_connection(("127.0.0.1", port), timeout=2.0).close()


@pytest.mark.parametrize("tier", CAPTURE_TIERS)
def test_tcp_echo_scenario_captures_exact_handshake(tier):
    """Does a real connection show exactly S, SA, A, the data, and one FIN per side, each packet once?"""
    _require(tier)
    cap = packets.capture("tcp-echo", tier=tier)
    assert cap.tier == tier
    res = cap.result
    assert res["reply"] == b"hello, socklab"
    assert_clean_exchange(cap, res["client"][1], res["server"][1], b"hello, socklab", b"hello, socklab")


@pytest.mark.parametrize("tier", CAPTURE_TIERS)
def test_capture_of_own_function(tier):
    """Can a student's own function (module level) be captured, with its return value handed back?"""
    _require(tier)
    cap = packets.capture(client_of_echo_server, b"GET me twice", tier=tier)
    port = cap.result["port"]
    assert cap.result["reply"] == b"GET me twice"
    (conn,) = packets.timeline.connections(cap.only(port).records)
    assert_clean_exchange(cap, conn[0], port, b"GET me twice", b"GET me twice")
    text = cap.text(port)
    assert "SYN seq=0" in text and "'GET me twice'" in text


@pytest.mark.parametrize("tier", CAPTURE_TIERS)
def test_refused_connection_shows_rst_and_reraises(tier):
    """Does an error inside fn (a refused connect) come back as the same exception type?"""
    _require(tier)
    with pytest.raises(ConnectionRefusedError):
        packets.capture(connect_to_closed_port, tier=tier)


def test_lambda_cannot_go_to_the_namespace():
    """Is a function the child cannot import refused with advice before any child starts?"""
    _require("namespace")
    with pytest.raises(ValueError, match="module-level"):
        packets.capture(lambda: None, tier="namespace")


def test_unknown_scenario_lists_the_real_ones():
    """Does a typo in a scenario name list the valid names?"""
    with pytest.raises(ValueError, match="tcp-echo"):
        packets.scenarios.get_scenario("tcp-ehco")


def test_handshake_pairs_with_connect_and_accept():
    """Do connect() and accept() line up with the SYN and the handshake's final ACK on the timeline?"""
    _require("namespace")
    cap = packets.capture("tcp-echo", tier="namespace")
    client, server = cap.result["client"], cap.result["server"]
    segs = cap.segments(server[1])
    calls = [{"op": "connect", "local": client, "peer": server},
             {"op": "accept", "local": server, "peer": client},
             {"op": "sendall", "local": client, "peer": server},
             {"op": "shutdown", "local": client, "peer": server}]
    pairs = {c["op"]: segs[i] for c, i in packets.pair_with_trace(segs, calls)}
    assert pairs["connect"].flags == "S" and pairs["connect"].sport == client[1]
    assert pairs["accept"] is segs[2] and pairs["accept"].flags == "A"
    assert pairs["sendall"].payload == b"hello, socklab"
    assert "F" in pairs["shutdown"].flags and pairs["shutdown"].sport == client[1]
    fig = cap.timeline(server[1], calls=calls)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "connect()" in labels and "accept()" in labels


@pytest.mark.parametrize("tier", CAPTURE_TIERS)
def test_timeline_with_socklab_trace(tier):
    """With socklab.trace recording, do the traced connect()/accept() land on the handshake packets?"""
    _require(tier)
    pytest.importorskip("socklab.trace", reason="socklab.trace (helper A) is not there yet")
    cap = packets.capture(client_of_echo_server, b"traced", tier=tier)
    port = cap.result["port"]
    segs = cap.segments(port)
    ops = {getattr(c, "op", None): segs[i] for c, i in packets.pair_with_trace(segs, cap.calls)}
    assert ops["connect"] is segs[0] and ops["accept"] is segs[2]
    assert {(c.op, c.role) for c in cap.calls if c.op in ("connect", "accept")} == {("connect", "client"),
                                                                                   ("accept", "server")}
    labels = [t.get_text() for t in cap.timeline(port).axes[0].texts]
    assert "connect()" in labels and "accept()" in labels


def two_clients_of_echo_server() -> dict:
    """Module level for the namespace child: two clients, one after the other, to one echo server."""
    with echo_server(name="packets-test-two") as srv:
        for message in (b"first", b"second"):
            round_trip(srv.address, message, timeout=5.0)
        srv.wait_for(lambda log: sum(e.kind == "close" for e in log.events) >= 2, timeout=5.0)
        return {"port": srv.port}


@pytest.mark.parametrize("tier", CAPTURE_TIERS)
def test_traced_calls_of_two_clients_land_in_their_own_connections(tier):
    """With two clients of one server, does each accept()/send()/close() pair with a segment of its own connection?"""
    _require(tier)
    cap = packets.capture(two_clients_of_echo_server, tier=tier)
    segs = cap.segments(cap.result["port"])
    pairs = packets.pair_with_trace(segs, cap.calls)
    accepts = [segs[i] for c, i in pairs if c.op == "accept"]
    assert len(accepts) == 2 and accepts[0].stream != accepts[1].stream
    for call, i in pairs:
        if call.local and call.peer:
            assert {segs[i].sport, segs[i].dport} == {call.local[1], call.peer[1]}, (call, segs[i])


NOTEBOOK_LIKE = '''
from socklab import packets

def my_client(message):
    import socket
    from socklab.servers import echo_server
    with echo_server(name="cell-echo") as srv:
        with socket.create_connection(srv.address, timeout=5) as s:
            s.sendall(message)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        return srv.port

cap = packets.capture(my_client, b"from a cell", tier="namespace")
print("FLAGS", " ".join(cap.flags(cap.result)))
'''


def test_function_defined_in_main_goes_by_source(tmp_path):
    """Can a function defined in __main__ (like a notebook cell) run in the namespace child?"""
    _require("namespace")
    script = tmp_path / "cell.py"
    script.write_text(NOTEBOOK_LIKE)
    import subprocess
    import sys
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    flags = next(l for l in done.stdout.splitlines() if l.startswith("FLAGS")).split()[1:]
    assert flags[:3] == ["S", "SA", "A"] and flags[-1] == "A"

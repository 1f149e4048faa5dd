"""03.1 소켓이란 무엇인가 (what is a socket): exercises 1-5."""
from __future__ import annotations

from .common import Notebook, section

SETUP = '''
# 준비 (setup) — 잠긴 셀입니다. 먼저 실행하세요. / Locked: run it first.
import errno, socket, threading, time
from socklab import env, servers, clients, testing
from socklab.testing import call_with_timeout, check, expect_equal, fail
testing.install_hint_display()   # 실패하면 한국어/영어 힌트만 보여 줍니다 / failures show ko/en hints
print("socklab 준비 완료 (ready)")
'''

# An echo reply captured once and pasted here so the expected values stay readable in the cell.
REPLY_HEX = "450000231234000040016aa47f0000017f0000010000488e12340001736f636b6c6162"


def build() -> Notebook:
    nb = Notebook("03_1")
    nb.md(section('''
        # 03.1 소켓이란 무엇인가 (What is a socket?)

        뇌를 자극하는 TCP/IP 소켓 프로그래밍, 3장 「소켓 네트워크 프로그래밍에 대한 이해」 1절.

        **학습 목표 (learning goals)** — 이 노트북을 마치면:
        1. 소켓(socket)이 TCP/IP 4계층 모델의 어디에 놓이는지 설명할 수 있다.
        2. 서버와 클라이언트가 부르는 소켓 함수(`socket`, `bind`, `listen`, `accept`, `connect`, `recv`, `send`, `close`)의 순서를 말할 수 있다.
        3. 파이썬 `socket` 모듈로 작은 HTTP 클라이언트와 에코 서버(echo server)를 만들 수 있다.
        4. 전송 계층 아래, IP 수준(IP level)에서 ICMP 패킷을 만들고 해석할 수 있다.

        **점수 (points)**: 연습 1 (4점) · 연습 2 (4점) · 연습 3 (6점) · 연습 4 (8점) · 연습 5 (6점) = 28점.
        각 연습의 테스트 셀에는 보이는 테스트와 숨은 테스트(hidden tests)가 있습니다.
        ''', '''
        # 03.1 What is a socket?

        Chapter 3 ("Understanding socket network programming"), section 1 of the textbook.

        **Learning goals** — after this notebook you can:
        1. explain where a socket sits in the 4-layer TCP/IP model;
        2. give the order of socket calls on the server and on the client;
        3. write a small HTTP client and an echo server with Python's `socket` module;
        4. build and parse an ICMP packet at the IP level, below the transport layer.

        **Points**: exercise 1 (4) · 2 (4) · 3 (6) · 4 (8) · 5 (6) = 28.
        Each test cell has visible tests and hidden tests.
        '''))
    nb.setup(SETUP)

    nb.md(section('''
        ## 1. 소켓은 어디에 있나 (where the socket sits)

        TCP/IP 모델은 네 계층(4 layers)으로 나뉩니다.

        | 계층 (layer) | 하는 일 | 예 |
        |---|---|---|
        | 응용 계층 (application) | 프로그램끼리의 약속 | HTTP, FTP, SSH, DNS, SNMP |
        | 전송 계층 (transport) | 프로그램(프로세스)과 프로그램을 잇는다, 포트 번호(port number) | TCP, UDP |
        | 인터넷 계층 (internet) | 컴퓨터와 컴퓨터를 잇는다, IP 주소(IP address) | IP, ICMP |
        | 네트워크 접근 계층 (network access, link) | 같은 선/무선 위의 이웃까지 | Ethernet, Wi-Fi, MAC 주소 |

        **소켓(socket)** 은 전송 계층 위에 놓인 인터페이스입니다. 응용 프로그램은 소켓 함수만 부르고,
        전송 계층 아래(TCP의 재전송, IP 경로 선택, 이더넷 프레임)는 운영체제가 맡습니다. 그래서 소켓은
        **고수준 네트워크 프로그래밍 인터페이스**입니다. 필요하면 IP 수준(IP level)을 직접 다룰 수도 있습니다:
        패킷 캡처(packet capture)나 ICMP 같은 프로토콜을 직접 만드는 일 — 이 노트북의 연습 5에서 해 봅니다.

        **BSD 소켓 (버클리 소켓, Berkeley sockets)** — 슬라이드는 "1989년 UC Berkeley"라고 요약하지만 조금 더 정확히:
        소켓 API는 **1983년 4.2BSD** 에 처음 실려 나왔고, **1989년 Net/1 (Networking Release 1)** 로 AT&T 라이선스
        없이 자유롭게 공개되었습니다. 그 뒤 거의 모든 운영체제(UNIX, Linux, Windows의 Winsock, macOS, Android)가
        같은 모양의 API를 씁니다. 파이썬의 `socket` 모듈도 운영체제의 BSD 소켓 함수를 거의 그대로 감싼 것입니다.
        ''', '''
        ## 1. Where the socket sits

        The TCP/IP model has four layers: application (HTTP, FTP, SSH, DNS, SNMP), transport (TCP, UDP;
        connects *programs*, port numbers), internet (IP, ICMP; connects *computers*, IP addresses) and
        network access / link (Ethernet, Wi-Fi, MAC addresses).

        A **socket** is the interface on top of the transport layer. The application calls socket functions;
        everything below the transport layer (TCP retransmission, IP routing, Ethernet frames) is the
        operating system's job — a **high-level network programming interface**. When needed a program can
        also work at the IP level (packet capture, building ICMP by hand): exercise 5 does that.

        **BSD (Berkeley) sockets** — the slides say "UC Berkeley, 1989"; more precisely the socket API first
        shipped in **4.2BSD in 1983** and was released freely, without an AT&T licence, with **Net/1 in 1989**.
        Almost every OS now offers the same API (Winsock on Windows); Python's `socket` module wraps it thinly.
        '''))

    nb.md(section('''
        ### 연습 1 (4점): 계층 찾기 (map things to layers)

        `layer_of(name)` 함수를 완성하세요. 아래 이름(대소문자 무시, case-insensitive)을 받아
        `"application"`, `"transport"`, `"internet"`, `"link"` 중 하나를 돌려줍니다.
        목록에 없는 이름이면 `ValueError`를 일으키세요.

        `HTTP`, `FTP`, `SSH`, `DNS`, `SNMP`, `TCP`, `UDP`, `port number`, `IP`, `ICMP`, `IP address`,
        `Ethernet`, `Wi-Fi`, `MAC address`
        ''', '''
        ### Exercise 1 (4 points): map things to layers

        Complete `layer_of(name)`: for each name above (case-insensitive) return one of `"application"`,
        `"transport"`, `"internet"`, `"link"`; raise `ValueError` for a name not in the list.
        '''))
    nb.solution("q03_1_layers", '''
        def layer_of(name):
            """The TCP/IP layer ('application', 'transport', 'internet', 'link') a protocol or thing belongs to."""
            ### BEGIN SOLUTION
            layers = {
                "application": ["http", "ftp", "ssh", "dns", "snmp"],
                "transport": ["tcp", "udp", "port number"],
                "internet": ["ip", "icmp", "ip address"],
                "link": ["ethernet", "wi-fi", "mac address"],
            }
            key = name.strip().lower()
            for layer, names in layers.items():
                if key in names:
                    return layer
            raise ValueError(f"unknown protocol or thing: {name!r}")
            ### END SOLUTION
        ''')
    nb.grade("q03_1_layers", 4, '''
        """연습 1: 계층 찾기 / exercise 1: map things to layers (4점)"""
        for thing, layer in [("HTTP", "application"), ("TCP", "transport"), ("IP", "internet"), ("Ethernet", "link")]:
            expect_equal(call_with_timeout(layer_of, thing), layer, f"layer_of({thing!r})", f"layer_of({thing!r})")
        ### BEGIN HIDDEN TESTS
        for thing, layer in [("ssh", "application"), ("DNS", "application"), ("SNMP", "application"),
                             ("UDP", "transport"), ("Port Number", "transport"), ("ICMP", "internet"),
                             ("ip address", "internet"), ("Wi-Fi", "link"), ("MAC address", "link"), ("ftp", "application")]:
            expect_equal(call_with_timeout(layer_of, thing), layer, f"layer_of({thing!r})", f"layer_of({thing!r})")
        try:
            raised = call_with_timeout(layer_of, "banana")
        except testing.ExerciseFailed as exc:
            raised = (exc.detail or "").split(":")[0]
        expect_equal(raised, "ValueError", "목록에 없는 이름 → ValueError", "a name not in the list → ValueError")
        ### END HIDDEN TESTS
        ''')

    nb.md(section('''
        ## 2. 소켓이 하는 일: 웹을 예로 (what a socket does: the web)

        Apache 웹 서버(web server)와 Chrome 브라우저(browser)가 인터넷을 사이에 두고 떨어져 있다고 합시다.

        1. 둘 다 `socket()`으로 소켓을 만든다.
        2. 기다리는 쪽(서버)은 `bind()`로 포트를 정하고 `listen()`한 뒤 `accept()`로 기다린다.
        3. 연결하는 쪽(클라이언트)은 `connect()`로 연결을 시도한다.
        4. `connect()`가 성공하면 두 소켓 사이에 통로(connection)가 생긴다.
        5. 둘은 `recv()` / `send()` (C에서는 `read()` / `write()`)로 데이터를 주고받고, `close()`로 닫는다.

        아래 데모는 socklab 웹 서버("apache" 역할)와 클라이언트("chrome" 역할)를 실제로 띄우고,
        양쪽이 부른 소켓 함수를 **추적(trace)** 해서 순서도(sequence diagram)로 그립니다.
        ''', '''
        ## 2. What a socket does: the web

        An Apache web server and a Chrome browser: (1) both create a socket with `socket()`; (2) the waiting
        side `bind()`s a port, `listen()`s and waits in `accept()`; (3) the connecting side calls `connect()`;
        (4) the connection is made; (5) both exchange data with `recv()`/`send()` (`read()`/`write()` in C)
        and `close()`. The demo runs a real socklab web server and client and draws the traced calls of
        both ends as a sequence diagram.
        '''))
    nb.code('''
        # 데모 (demo): 웹 서버와 클라이언트, 양쪽의 소켓 호출 추적 / both ends traced
        if not env.under_nbgrader():
            from socklab import trace
            with trace.trace() as t:                     # 서버의 socket/bind/listen까지 기록 / server setup too
                web = servers.web_server(name="apache")
                response = clients.http_get(web.address)
                web.log.wait_for(lambda log: any(e.kind == "close" for e in log.events), 2.0)
            print(response.status, response.reason)
            print(response.body.decode("utf-8", "replace")[:300])
            print(t.text())
            t.show()                                     # 양쪽의 순서도 / both ends, in time order
            from socklab import widgets
            display(widgets.server_log_view(web))   # 서버 기록 위젯 / the server's log as a widget
        ''')

    nb.md(section('''
        ### 연습 2 (4점): 소켓 함수의 순서 (the order of socket calls)

        에코(echo) 한 번을 생각합니다: 클라이언트가 연결해 요청을 보내고, 서버가 읽고 그대로 돌려준 뒤, 양쪽이 닫습니다.
        `socket_calls(role)`이 `role`이 `"server"`이면 서버의, `"client"`이면 클라이언트의 파이썬 소켓 메서드 이름을
        부르는 순서대로 담은 리스트를 돌려주게 하세요. 이름은 `"socket"`, `"bind"`, `"listen"`, `"accept"`,
        `"connect"`, `"sendall"`, `"recv"`, `"close"` 중에서 고릅니다 (서버는 `accept()`가 돌려준 연결 소켓으로 주고받고,
        연결 소켓을 닫는 것까지만 적습니다). 다른 `role`에는 `ValueError`.
        ''', '''
        ### Exercise 2 (4 points): the order of socket calls

        One echo exchange: the client connects and sends a request, the server reads it and sends it back,
        both close. `socket_calls(role)` returns, for `"server"` or `"client"`, the list of Python socket
        method names in call order, chosen from `"socket"`, `"bind"`, `"listen"`, `"accept"`, `"connect"`,
        `"sendall"`, `"recv"`, `"close"` (the server talks on the connection socket returned by `accept()`; stop
        after closing it). Any other role raises `ValueError`.
        '''))
    nb.solution("q03_2_call_order", '''
        def socket_calls(role):
            """Socket method names, in call order, for one echo exchange on the server or the client."""
            ### BEGIN SOLUTION
            if role == "server":
                return ["socket", "bind", "listen", "accept", "recv", "sendall", "close"]
            if role == "client":
                return ["socket", "connect", "sendall", "recv", "close"]
            raise ValueError(f"role must be 'server' or 'client', not {role!r}")
            ### END SOLUTION
        ''')
    nb.grade("q03_2_call_order", 4, '''
        """연습 2: 소켓 함수의 순서 / exercise 2: order of socket calls (4점)"""
        expect_equal(call_with_timeout(socket_calls, "server"),
                     ["socket", "bind", "listen", "accept", "recv", "sendall", "close"],
                     "서버의 호출 순서", "the server's call order")
        ### BEGIN HIDDEN TESTS
        expect_equal(call_with_timeout(socket_calls, "client"), ["socket", "connect", "sendall", "recv", "close"],
                     "클라이언트의 호출 순서", "the client's call order")
        try:
            raised = call_with_timeout(socket_calls, "router")
        except testing.ExerciseFailed as exc:
            raised = (exc.detail or "").split(":")[0]
        expect_equal(raised, "ValueError", "다른 role → ValueError", "any other role → ValueError")
        ### END HIDDEN TESTS
        ''')

    nb.md(section('''
        ### 연습 3 (6점): 작은 HTTP 클라이언트 (a minimal HTTP GET client)

        `fetch(host, port, path)`를 완성하세요.
        1. `(host, port)`에 TCP로 연결합니다 (`socket.create_connection`을 쓰고 시간 제한(timeout) 5초를 주세요).
        2. 요청 `GET <path> HTTP/1.0` 줄, `Host: <host>:<port>` 헤더, 빈 줄을 보냅니다. 줄 끝은 `\\r\\n`.
        3. 서버가 연결을 닫을 때까지 **끝까지** 읽고(`recv()`가 `b""`를 돌려줄 때까지), 받은 응답 전체(헤더+본문)를 `bytes`로 돌려줍니다.

        테스트는 받은 요청을 그대로 기록하는 서버(recording server)로 확인합니다.
        ''', '''
        ### Exercise 3 (6 points): a minimal HTTP GET client

        Complete `fetch(host, port, path)`: connect over TCP (`socket.create_connection`, 5 s timeout), send the
        request line `GET <path> HTTP/1.0`, a `Host: <host>:<port>` header and an empty line (`\\r\\n` line
        ends), read **until the server closes** (`recv()` returns `b""`) and return the whole response
        (head and body) as `bytes`. A recording server checks exactly what you sent.
        '''))
    nb.solution("q03_3_http_get", '''
        def fetch(host, port, path="/"):
            """Send an HTTP/1.0 GET for `path` and return the raw response bytes (read until close)."""
            ### BEGIN SOLUTION
            request = f"GET {path} HTTP/1.0\\r\\nHost: {host}:{port}\\r\\n\\r\\n".encode("ascii")
            with socket.create_connection((host, port), timeout=5) as sock:
                sock.sendall(request)
                chunks = []
                while True:
                    data = sock.recv(4096)
                    if not data:
                        break
                    chunks.append(data)
            return b"".join(chunks)
            ### END SOLUTION
        ''')
    nb.grade("q03_3_http_get", 6, '''
        """연습 3: HTTP GET 클라이언트 / exercise 3: HTTP GET client (6점)"""
        reply = b"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nhello, socket"
        request, got = testing.check_client(lambda host, port: fetch(host, port, "/"), reply=reply, read_until=b"\\r\\n\\r\\n")
        check(request.startswith(b"GET / HTTP/1.0\\r\\n"), f"요청 줄이 틀렸습니다: {request[:40]!r}",
              f"wrong request line: {request[:40]!r}")
        check(b"\\r\\nHost: 127.0.0.1" in request, "Host 헤더가 없습니다", "no Host header")
        check(request.endswith(b"\\r\\n\\r\\n"), "요청은 빈 줄(\\\\r\\\\n\\\\r\\\\n)로 끝나야 합니다", "the request must end with an empty line")
        expect_equal(got, reply, "fetch()가 돌려준 응답", "the response fetch() returned")
        ### BEGIN HIDDEN TESTS
        big = b"HTTP/1.0 200 OK\\r\\n\\r\\n" + bytes(range(256)) * 800   # ~200 KB: one recv() is not enough
        request, got = testing.check_client(lambda host, port: fetch(host, port, "/lab/03.html"), reply=big,
                                            read_until=b"\\r\\n\\r\\n")
        check(request.startswith(b"GET /lab/03.html HTTP/1.0\\r\\n"), "path를 요청 줄에 넣어야 합니다",
              "the request line must carry the path")
        expect_equal(len(got), len(big), "연결이 닫힐 때까지 읽은 바이트 수", "bytes read until the server closed")
        ### END HIDDEN TESTS
        ''')
    nb.code('''
        # 데모 (demo): 여러분의 fetch()로 socklab 웹 서버에서 페이지 받기 / your fetch() against the live web server
        if not env.under_nbgrader():
            web = servers.web_server(name="apache")
            try:
                print(fetch(*web.address, "/").decode("utf-8", "replace")[:400])
            except NotImplementedError:
                print("연습 3을 먼저 풀어 보세요 / solve exercise 3 first")
        ''')

    nb.md(section('''
        ### 연습 4 (8점): 에코 서버 (an echo server)

        `serve_echo(listener, n_clients)`를 완성하세요. `listener`는 이미 `bind()`와 `listen()`을 마친 TCP 소켓입니다.
        - 클라이언트를 `n_clients`명 차례로 `accept()`하고, 각 연결에서 받은 바이트를 그대로 돌려보냅니다.
        - 클라이언트가 보내기를 끝내면(`recv()`가 `b""`) 그 연결을 닫고 다음 클라이언트로 갑니다.
        - 데이터는 여러 번의 `recv()`로 나뉘어 올 수 있습니다. 아무것도 보내지 않고 닫는 클라이언트도 있습니다.
        - 연결 소켓에 시간 제한을 주세요 (`conn.settimeout(2)`): 멈춘 클라이언트가 서버를 붙잡지 못하게.
        - `listener`는 닫지 마세요 (테스트가 닫습니다). `n_clients`명을 처리하면 돌아옵니다.
        ''', '''
        ### Exercise 4 (8 points): an echo server

        Complete `serve_echo(listener, n_clients)`. `listener` is a TCP socket that is already bound and
        listening. Accept `n_clients` clients one after another; on each connection send back every byte
        received; when the client has finished sending (`recv()` returns `b""`) close that connection and go
        on. Data may arrive split over several `recv()` calls; some clients send nothing. Give each
        connection a timeout (`conn.settimeout(2)`) so a stuck client cannot hold the server. Do not close
        `listener` (the test does); return after `n_clients` clients.
        '''))
    nb.solution("q03_4_echo_server", '''
        def serve_echo(listener, n_clients):
            """Accept n_clients connections one by one and echo each until the client half-closes."""
            ### BEGIN SOLUTION
            for _ in range(n_clients):
                conn, _addr = listener.accept()
                with conn:
                    conn.settimeout(2)
                    while True:
                        data = conn.recv(4096)
                        if not data:
                            break
                        conn.sendall(data)
            ### END SOLUTION
        ''')
    nb.grade("q03_4_echo_server", 8, '''
        """연습 4: 에코 서버 / exercise 4: echo server (8점)"""
        replies = testing.check_server(serve_echo, clients=[testing.round_trip(b"hello, echo"),
                                                            testing.round_trip(b"second client")], timeout=3)
        ### BEGIN HIDDEN TESTS
        replies = testing.check_server(serve_echo, clients=[
            testing.multi_chunk(48 * 1024, pieces=4),   # more than one recv() can return
            testing.silent(0.2),                        # connects, sends nothing, leaves
            testing.empty(),                            # sends nothing, half-closes at once
            testing.round_trip(b"after the quiet ones"),
        ], timeout=3)
        ### END HIDDEN TESTS
        ''')

    nb.md(section('''
        ## 3. IP 수준: ICMP 직접 다루기 (the IP level: ICMP by hand)

        `ping`은 소켓 API의 TCP/UDP를 쓰지 않습니다. 인터넷 계층의 **ICMP 에코 요청(echo request, type 8)** 을 보내고
        **에코 응답(echo reply, type 0)** 을 받습니다. 각 요청에는 식별자(identifier, `id`)와 순서 번호(sequence, `seq`)가
        있어서 어떤 응답이 어떤 요청의 것인지 짝을 맞춥니다. 이런 패킷을 보내려면 보통 raw 소켓(관리자 권한)이나
        리눅스의 ping 소켓이 필요하지만, **만들고 해석하는 일은 어디서나** 할 수 있습니다. 여기서는 scapy로 합니다.
        ''', '''
        ## 3. The IP level: ICMP by hand

        `ping` does not use TCP or UDP: it sends an internet-layer **ICMP echo request (type 8)** and gets an
        **echo reply (type 0)**; the identifier (`id`) and sequence number (`seq`) pair replies with requests.
        Sending needs a raw socket (root) or Linux's ping socket, but **building and parsing works anywhere**;
        we use scapy.
        '''))
    nb.md(section(f'''
        ### 연습 5 (6점): ICMP 에코 만들기와 해석하기 (build and parse ICMP echo)

        1. `build_echo_request(ident, seq, payload)`: 목적지 `127.0.0.1`로 가는 ICMP 에코 요청을 scapy 패킷
           (`IP(...)/ICMP(...)/payload`)으로 만들어 돌려주세요. 체크섬(checksum)은 scapy가 계산합니다.
        2. `parse_echo_reply(raw)`: IP 패킷의 바이트 `raw`를 해석해 사전(dict)을 돌려주세요. 키(key)는
           `"src"`, `"dst"`, `"ttl"`, `"type"`, `"code"`, `"id"`, `"seq"`, `"payload"` (payload는 `bytes`).

        예: 아래 바이트는 `127.0.0.1`이 보낸 에코 응답입니다 (id `0x1234`, seq `1`, payload `b"socklab"`, TTL 64).

        `{REPLY_HEX}`
        ''', f'''
        ### Exercise 5 (6 points): build and parse ICMP echo

        1. `build_echo_request(ident, seq, payload)` returns a scapy packet `IP(...)/ICMP(...)/payload` for an
           echo request to `127.0.0.1` (scapy fills in the checksum).
        2. `parse_echo_reply(raw)` parses the IP packet bytes `raw` into a dict with keys `"src"`, `"dst"`,
           `"ttl"`, `"type"`, `"code"`, `"id"`, `"seq"`, `"payload"` (bytes).

        Example: the hex above is an echo reply from `127.0.0.1` (id `0x1234`, seq `1`, payload `b"socklab"`, TTL 64).
        '''))
    nb.solution("q03_5_icmp", '''
        from scapy.layers.inet import IP, ICMP

        def build_echo_request(ident, seq, payload):
            """An ICMP echo request to 127.0.0.1 as a scapy packet."""
            ### BEGIN SOLUTION
            return IP(dst="127.0.0.1") / ICMP(type=8, code=0, id=ident, seq=seq) / payload
            ### END SOLUTION

        def parse_echo_reply(raw):
            """The fields of an IPv4 ICMP echo reply given as bytes."""
            ### BEGIN SOLUTION
            pkt = IP(raw)
            icmp = pkt[ICMP]
            return {"src": pkt.src, "dst": pkt.dst, "ttl": pkt.ttl, "type": icmp.type, "code": icmp.code,
                    "id": icmp.id, "seq": icmp.seq, "payload": bytes(icmp.payload)}
            ### END SOLUTION
        ''')
    nb.grade("q03_5_icmp", 6, '''
        """연습 5: ICMP 에코 / exercise 5: ICMP echo (6점)"""
        from socklab.packets import dissect, verify_checksums
        request = call_with_timeout(build_echo_request, 0x1234, 1, b"socklab")
        check(request is not None, "build_echo_request()가 None을 돌려줬습니다", "build_echo_request() returned None",
              hint_ko="return을 잊었나요?", hint_en="did you forget return?")
        fields = dissect(request)
        expect_equal(fields["IP"]["dst"], "127.0.0.1", "요청의 목적지", "the request's destination")
        expect_equal({k: fields["ICMP"][k] for k in ("type", "code", "id", "seq")}, {"type": 8, "code": 0, "id": 0x1234, "seq": 1},
                     "요청의 ICMP 헤더", "the request's ICMP header")
        expect_equal(fields.get("Raw", {}).get("load"), b"socklab", "요청의 payload", "the request's payload")
        check(all(verify_checksums(request).values()), "체크섬이 틀렸습니다", "a checksum is wrong")
        reply = bytes.fromhex("@REPLY_HEX@")
        expect_equal(call_with_timeout(parse_echo_reply, reply),
                     {"src": "127.0.0.1", "dst": "127.0.0.1", "ttl": 64, "type": 0, "code": 0, "id": 0x1234, "seq": 1,
                      "payload": b"socklab"}, "parse_echo_reply() 결과", "parse_echo_reply() result")
        ### BEGIN HIDDEN TESTS
        request = call_with_timeout(build_echo_request, 0xBEEF, 513, b"hidden payload")
        fields = dissect(request)
        expect_equal({k: fields["ICMP"][k] for k in ("type", "id", "seq")}, {"type": 8, "id": 0xBEEF, "seq": 513},
                     "다른 id/seq로 만든 요청", "a request with another id/seq")
        expect_equal(fields.get("Raw", {}).get("load"), b"hidden payload", "요청의 payload", "the request's payload")
        check(all(verify_checksums(request).values()), "체크섬이 틀렸습니다", "a checksum is wrong")
        from scapy.layers.inet import IP as _IP, ICMP as _ICMP
        other = bytes(_IP(src="127.0.0.2", dst="127.0.0.1", ttl=37) / _ICMP(type=0, id=7, seq=65535) / b"\\x00\\xffdata")
        expect_equal(call_with_timeout(parse_echo_reply, other),
                     {"src": "127.0.0.2", "dst": "127.0.0.1", "ttl": 37, "type": 0, "code": 0, "id": 7, "seq": 65535,
                      "payload": b"\\x00\\xffdata"}, "다른 응답의 해석", "parsing another reply")
        ### END HIDDEN TESTS
        '''.replace("@REPLY_HEX@", REPLY_HEX))
    nb.md(section('''
        ### 데모: 127.0.0.1에 진짜 ping (a live ping to 127.0.0.1)

        socklab은 이 컴퓨터에서 가능한 가장 좋은 방법(tier)을 고릅니다: 관리자(root)면 raw 소켓,
        리눅스 ping 소켓이 허용되면 그것, 아니면 새 네트워크 네임스페이스(namespace), 다 안 되면 오프라인(offline).
        이 데모는 채점되지 않습니다.
        ''', '''
        ### Demo: a live ping to 127.0.0.1

        socklab picks the best tier this machine allows: raw socket as root, Linux's ping socket, a fresh
        network namespace, or offline. This demo is not graded.
        '''))
    nb.code('''
        # 데모 (demo): 가능한 가장 좋은 방법으로 127.0.0.1에 ping / ping 127.0.0.1 at the best tier
        if not env.under_nbgrader():
            from socklab import packets
            report = packets.tier()
            print(report)
            try:
                for r in packets.ping("127.0.0.1", count=3, timeout=1.0):
                    print(f"seq={r.seq} id={r.id} ttl={r.ttl} time={r.rtt_ms:.3f} ms ({r.tier})")
            except Exception as exc:   # offline tier: nothing may be sent here
                print("ping을 보낼 수 없습니다 / cannot send ping here:", exc)
            print(packets.hexdump(packets.echo_request(0x1234, 1, b"socklab")))
        ''')
    nb.md(section('''
        ## 정리 (summary)
        - 소켓은 전송 계층 위의 인터페이스다: 응용 프로그램은 소켓 함수만 부른다.
        - 서버: `socket → bind → listen → accept → recv/send → close`; 클라이언트: `socket → connect → send/recv → close`.
        - 필요하면 IP 수준(ICMP)도 직접 만들고 해석할 수 있다.
        ''', '''
        ## Summary
        - A socket is the interface on top of the transport layer; applications only call socket functions.
        - Server: `socket → bind → listen → accept → recv/send → close`; client: `socket → connect → send/recv → close`.
        - When needed you can build and parse IP-level packets (ICMP) yourself.
        '''))
    return nb

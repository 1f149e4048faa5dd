"""03.2 네트워크 연결 모델 (server/client, manager/agent, P2P): exercises 6-9."""
from __future__ import annotations

from .common import Notebook, section

SETUP = '''
# 준비 (setup) — 잠긴 셀입니다. 먼저 실행하세요. / Locked: run it first.
import socket, threading, time
from socklab import env, servers, clients, testing, snmp, p2p
from socklab.testing import call_with_timeout, check, expect_equal, fail
testing.install_hint_display()   # 실패하면 한국어/영어 힌트만 보여 줍니다 / failures show ko/en hints
print("socklab 준비 완료 (ready)")
'''


def build() -> Notebook:
    nb = Notebook("03_2")
    nb.md(section('''
        # 03.2 네트워크 연결 모델 (network connection models)

        뇌를 자극하는 TCP/IP 소켓 프로그래밍, 3장 2절. 인터넷은 컴퓨터가 아니라 **프로그램(프로세스)과 프로그램의 연결**이고,
        연결하는 방식에는 여러 모델이 있습니다: **서버 & 클라이언트 (server & client)**, **매니저 & 에이전트 (manager & agent)**,
        **P2P (peer to peer)**.

        **학습 목표 (learning goals)** — 이 노트북을 마치면:
        1. 세 모델의 구조(1:N, 1:N 폴링, N:N)와 장단점을 설명할 수 있다.
        2. 여러 클라이언트를 동시에(concurrently) 처리하는 서버를 스레드로 만들 수 있다.
        3. 진짜 SNMPv2c GET 요청으로 여러 에이전트를 폴링하고, 응답하지 않는 에이전트에서 시간 초과(timeout)로 빠져나올 수 있다.
        4. 서버이면서 동시에 클라이언트인 피어(peer)를 만들 수 있다.

        **점수 (points)**: 연습 6 (8점) · 연습 7 (8점) · 연습 8 (8점) · 연습 9 (5점, 수동 채점 manual) = 29점.
        ''', '''
        # 03.2 Network connection models

        Chapter 3, section 2. The Internet connects **programs (processes)**, not computers, in several ways:
        **server & client**, **manager & agent**, and **peer to peer (P2P)**.

        **Learning goals** — after this notebook you can:
        1. describe the three models (1:N, 1:N polling, N:N) and their trade-offs;
        2. write a server that serves several clients at once with threads;
        3. poll several agents with real SNMPv2c GET requests and time out on one that does not answer;
        4. write a peer that is a server and a client at the same time.

        **Points**: exercise 6 (8) · 7 (8) · 8 (8) · 9 (5, graded by hand) = 29.
        '''))
    nb.setup(SETUP)

    nb.md(section('''
        ## 1. 서버 & 클라이언트 모델 (server & client)

        고객 & 서비스 제공자 모델이라고도 합니다. **서버(server process)** 는 데이터를 관리하고 서비스를 제공하고,
        **클라이언트(client process)** 는 서버에 정보를 요청합니다. 정보가 서버에 모이는 **중앙 집중형**입니다.
        - 장점: 잘 알려져 구현이 쉽고, 정보를 한곳에서 관리하므로 상업적 서비스에 알맞다 (웹, 메일, 게임 서버).
        - 단점: 서버 성능이 전체 성능을 정하고(1:N), 서버를 키우는 데 비용이 크며, 공격이 한곳에 몰린다.

        1:N이 되려면 서버가 **여러 클라이언트를 동시에** 처리해야 합니다. 03.1의 에코 서버는 한 번에 한 클라이언트만
        처리했습니다: 한 클라이언트가 느리면 뒤의 모두가 기다립니다. 아래 데모에서 socklab 에코 서버에 클라이언트 셋이
        동시에 접속하고, 서버 기록(log)을 위젯(widget)으로 봅니다.
        ''', '''
        ## 1. Server & client

        Also called the customer & service-provider model. The **server process** manages data and offers a
        service; **client processes** request it. Information is **centralised**: easy to build and to sell,
        but the server's performance bounds everyone (1:N), scaling it is expensive, and attacks concentrate
        on it. To be 1:N a server must serve **several clients at the same time**; exercise 4's echo server
        served one at a time. The demo connects three clients at once to a socklab echo server and shows
        the server's log in a widget.
        '''))
    nb.code('''
        # 데모 (demo): 동시에 접속한 클라이언트 셋 / three clients at once, and the server's log
        if not env.under_nbgrader():
            from socklab import widgets
            echo = servers.echo_server(name="echo-03-2")
            for r in clients.concurrent_round_trips(echo.address, [b"first", b"second", b"third"], timeout=2, interleave=True):
                print(r.payload, "->", r.reply, f"{r.elapsed * 1000:.1f} ms", r.error or "")
            display(widgets.server_log_view(echo))
        ''')

    nb.md(section('''
        ### 연습 6 (8점): 동시에 여러 클라이언트 (a server for several clients at once)

        `serve_concurrently(listener, n_clients)`를 완성하세요. 연습 4처럼 `n_clients`명을 `accept()`하고 각 연결에서 받은 것을
        그대로 돌려보내지만, **각 연결을 자기 스레드(`threading.Thread`)에서** 처리해야 합니다. 모든 연결을 처리한 뒤
        (스레드를 `join()`한 뒤) 돌아오세요. 연결마다 `conn.settimeout(2)`를 주세요.

        테스트의 클라이언트들은 메시지를 반쯤 보낸 뒤, **다른 모든 클라이언트가 응답을 받을 때까지** 기다립니다.
        한 번에 한 클라이언트만 처리하는 서버는 여기서 멈추고, 테스트는 제한 시간 안에 실패로 끝납니다.
        ''', '''
        ### Exercise 6 (8 points): a server for several clients at once

        Complete `serve_concurrently(listener, n_clients)`: like exercise 4, accept `n_clients` clients and echo
        what each sends, but handle **each connection in its own thread** (`threading.Thread`); return after
        all of them are done (`join()` the threads). Give every connection `conn.settimeout(2)`. The test's
        clients send half a message and then wait until **every other client got a reply**: a server that
        serves one client at a time gets stuck there and the test fails within its time limit.
        '''))
    nb.solution("q03_6_concurrent", '''
        def serve_concurrently(listener, n_clients):
            """Accept n_clients connections and echo each in its own thread; return when all are done."""
            ### BEGIN SOLUTION
            def handle(conn):
                with conn:
                    conn.settimeout(2)
                    while True:
                        data = conn.recv(4096)
                        if not data:
                            break
                        conn.sendall(data)

            threads = []
            for _ in range(n_clients):
                conn, _addr = listener.accept()
                t = threading.Thread(target=handle, args=(conn,), daemon=True)
                t.start()
                threads.append(t)
            for t in threads:
                t.join()
            ### END SOLUTION
        ''')
    nb.grade("q03_6_concurrent", 8, '''
        """연습 6: 동시 처리 서버 / exercise 6: concurrent server (8점)"""
        replies = testing.check_server(serve_concurrently, clients=[testing.concurrent([b"alpha", b"bravo"])], timeout=2)
        ### BEGIN HIDDEN TESTS
        replies = testing.check_server(serve_concurrently, clients=[
            testing.concurrent([b"one", b"two", b"three", b"four"]),
            testing.multi_chunk(48 * 1024, pieces=4),
            testing.round_trip(b"last one"),
        ], timeout=2)
        ### END HIDDEN TESTS
        ''')

    nb.md(section('''
        ## 2. 매니저 & 에이전트 모델 (manager & agent)

        **매니저(manager)** 프로그램이 여러 노드에 있는 **에이전트(agent)** 에게 정보를 요청합니다. 서버 & 클라이언트는
        1(server) : N(client)이고 요청하는 쪽이 클라이언트이지만, 매니저 & 에이전트에서는 1(manager) : N(agent)이고
        **요청하는 쪽이 한 명(매니저)** 입니다. 매니저가 주기적으로 정보를 모으고(polling) 명령을 내리는 데 알맞습니다.

        대표 예는 **SNMP (Simple Network Management Protocol)**: 기업 네트워크의 라우터, 스위치, 프린터, 서버를 관리합니다.
        - 매니저가 에이전트의 **UDP 161번** 포트로 `GET` 요청을 보내고, 에이전트가 값을 응답합니다 (에이전트가 먼저 알리는
          trap은 매니저의 UDP 162번으로).
        - 값은 **OID (object identifier)** 로 가리킵니다. 예: `1.3.6.1.2.1.1.5.0` = sysName (장비 이름),
          `1.3.6.1.2.1.1.3.0` = sysUpTime (켜진 뒤 지난 시간, 1/100초 단위).
        - SNMPv2c의 **커뮤니티(community)** 문자열은 평문 비밀번호와 같습니다. 틀리면 에이전트는 **대답하지 않습니다**.
          (암호화와 인증은 SNMPv3에서.)
        - UDP라서 연결이 없습니다. 꺼진 장비는 아무 대답도 하지 않으므로, 매니저는 **시간 초과(timeout)** 로 판단합니다.

        아래 데모는 socklab이 띄운 에이전트 셋(하나는 꺼진 장비처럼 대답하지 않음)을 참조 매니저로 폴링합니다.
        ''', '''
        ## 2. Manager & agent

        A **manager** program requests information from **agents** on many nodes: 1 (manager) : N (agents),
        and the single requester is the manager. It fits periodic collection (polling) and commands.
        The classic example is **SNMP**: the manager sends a `GET` to the agent's **UDP port 161** (traps go to
        the manager's UDP 162); values are named by **OIDs** (`1.3.6.1.2.1.1.5.0` sysName,
        `1.3.6.1.2.1.1.3.0` sysUpTime in hundredths of a second); the SNMPv2c **community** string is a
        clear-text password, and an agent simply does **not answer** a wrong one (SNMPv3 adds security).
        Over UDP a switched-off node says nothing, so the manager decides by **timeout**. The demo polls
        three socklab agents (one silent) with the reference manager.
        '''))
    nb.code('''
        # 데모 (demo): 에이전트 셋을 폴링 (하나는 침묵) / poll three agents, one of them silent
        if not env.under_nbgrader():
            demo_agents = snmp.agents([{snmp.SYS_NAME: "router-1", snmp.SYS_UPTIME: 123456},
                                       {snmp.SYS_NAME: "switch-2", snmp.SYS_UPTIME: 98765},
                                       {snmp.SYS_NAME: "printer-3", snmp.SYS_UPTIME: 42}], silent=(2,), prefix="demo-agent")
            t0 = time.monotonic()
            for address, name in snmp.poll([a.address for a in demo_agents], snmp.SYS_NAME, timeout=0.3).items():
                print(f"{address[0]}:{address[1]:<6} sysName = {name!r}")
            print(f"{time.monotonic() - t0:.2f} s (침묵한 에이전트에서 timeout / timed out on the silent agent)")
            print(snmp.get_request(snmp.SYS_NAME).hex(" "))   # 요청 PDU의 바이트 / the GET request's bytes
        ''')
    nb.md(section('''
        ### 연습 7 (8점): SNMP 매니저 (an SNMP manager)

        `poll_agents(agents, oid, community, timeout)`를 완성하세요.
        - `agents`는 `(host, port)` 튜플의 리스트입니다. 각 에이전트에게 UDP로 **SNMPv2c GET** 요청을 보내세요:
          `SNMP(community=community, PDU=SNMPget(id=요청번호, varbindlist=[SNMPvarbind(oid=ASN1_OID(oid))]))`를
          `bytes(...)`로 바꿔 `sendto()`합니다.
        - 응답을 `recvfrom()`으로 받아 `SNMP(data)`로 해석하고, `.PDU.varbindlist[0].value.val`을 꺼냅니다.
          문자열 값은 `bytes`로 오므로 UTF-8로 디코드해 `str`로, 정수(INTEGER, TimeTicks)는 `int` 그대로 돌려주세요.
        - `timeout`초 안에 대답이 없는 에이전트는 값 `None`으로 두고 **다음 에이전트로** 넘어가세요.
        - 돌려줄 값: `{(host, port): 값 또는 None}` 사전.
        ''', '''
        ### Exercise 7 (8 points): an SNMP manager

        Complete `poll_agents(agents, oid, community, timeout)`. For each `(host, port)` in `agents`, send an
        **SNMPv2c GET** over UDP (`bytes(SNMP(community=..., PDU=SNMPget(id=..., varbindlist=[SNMPvarbind(oid=ASN1_OID(oid))])))`),
        receive the answer with `recvfrom()`, parse it with `SNMP(data)` and take `.PDU.varbindlist[0].value.val`:
        decode byte strings as UTF-8 to `str`, keep integers (INTEGER, TimeTicks) as `int`. An agent that does
        not answer within `timeout` seconds gets `None`; go on with the next one. Return `{(host, port): value or None}`.
        '''))
    nb.solution("q03_7_snmp_manager", '''
        from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind
        from scapy.asn1.asn1 import ASN1_OID

        def poll_agents(agents, oid, community, timeout):
            """SNMPv2c GET `oid` from every agent; {(host, port): value, or None when it did not answer}."""
            ### BEGIN SOLUTION
            results = {}
            for request_id, (host, port) in enumerate(agents, start=1):
                request = SNMP(community=community,
                               PDU=SNMPget(id=request_id, varbindlist=[SNMPvarbind(oid=ASN1_OID(oid))]))
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(timeout)
                    sock.sendto(bytes(request), (host, port))
                    try:
                        data, _ = sock.recvfrom(65535)
                    except (TimeoutError, ConnectionRefusedError):
                        results[(host, port)] = None
                        continue
                value = SNMP(data).PDU.varbindlist[0].value.val
                results[(host, port)] = value.decode("utf-8") if isinstance(value, bytes) else value
            return results
            ### END SOLUTION
        ''')
    nb.grade("q03_7_snmp_manager", 8, '''
        """연습 7: SNMP 매니저 / exercise 7: SNMP manager (8점)"""
        agents = snmp.agents([{snmp.SYS_NAME: "router-1"}, {snmp.SYS_NAME: "switch-2"}, {snmp.SYS_NAME: "printer-3"}],
                             silent=(2,), prefix="q7-agent")
        got = call_with_timeout(poll_agents, [a.address for a in agents], snmp.SYS_NAME, "public", 0.3, timeout=3)
        expect_equal(got, {agents[0].address: "router-1", agents[1].address: "switch-2", agents[2].address: None},
                     "폴링 결과 (세 번째 에이전트는 침묵)", "poll result (the third agent is silent)")
        ### BEGIN HIDDEN TESTS
        agents = snmp.agents([{snmp.SYS_UPTIME: 360000}, {snmp.SYS_UPTIME: 7}, {snmp.SYS_UPTIME: 1},
                              {snmp.SYS_UPTIME: 99}], silent=(0, 2), community="lab-secret", prefix="q7-hidden")
        got = call_with_timeout(poll_agents, [a.address for a in agents], snmp.SYS_UPTIME, "lab-secret", 0.3, timeout=4)
        expect_equal(got, {agents[0].address: None, agents[1].address: 7, agents[2].address: None, agents[3].address: 99},
                     "community 'lab-secret', 정수 값(TimeTicks), 침묵 둘", "community 'lab-secret', integer values, two silent")
        ### END HIDDEN TESTS
        for a in agents:
            a.stop()
        ''')

    nb.md(section('''
        ## 3. P2P 모델 (peer to peer)

        **동등 계층 모델**: 모든 노드(peer)가 동등한 자격으로 참여합니다. 각 피어는 **서버이면서 동시에 클라이언트**입니다.
        슬라이드는 P2P가 "정보 산업화와 맞지 않아 사장됐다"고 하지만, 조금 고쳐 말하면: 음악 파일 공유 같은 소비자 서비스는
        줄었지만 P2P는 여전히 쓰입니다 — BitTorrent, 게임·운영체제 업데이트 배포(부하를 클라이언트에 분산),
        WebRTC 영상 통화, 블록체인. 모바일 기기와 엣지(edge) 장치가 늘면서 다시 중요해지고 있습니다.

        여기서 쓸 작은 프로토콜 (TCP, 연결 하나에 요청 하나):
        - `HAVE\\n` → 가진 조각(chunk) 번호를 `b"0,2,5\\n"`처럼 답하고 닫는다 (없으면 `b"\\n"`).
        - `GET 3\\n` → 3번 조각의 바이트를 보내고 닫는다 (없으면 아무것도 보내지 않고 닫는다).
        ''', '''
        ## 3. Peer to peer

        All nodes (peers) take part as equals; each peer is **a server and a client at once**. The slides say
        P2P "died out" because it does not fit the information business; more precisely, consumer file
        sharing shrank, but P2P lives on in BitTorrent, game and OS update distribution (spreading load onto
        clients), WebRTC calls and blockchains, and matters again as mobile and edge devices grow.

        Our small protocol (TCP, one request per connection): `HAVE\\n` → the chunk numbers held, e.g.
        `b"0,2,5\\n"` (`b"\\n"` if none), then close; `GET 3\\n` → the bytes of chunk 3, then close (nothing if
        not held).
        '''))
    nb.code('''
        # 데모 (demo): 참조 피어 둘이 조각을 주고받아 둘 다 전체 파일을 갖게 됨 / two reference peers swap chunks
        if not env.under_nbgrader():
            pieces = p2p.split(p2p.make_file(4, 1000), 4)
            a = p2p.peer({0: pieces[0], 1: pieces[1]}, 4, name="demo-peer-a")
            b = p2p.peer({2: pieces[2], 3: pieces[3]}, 4, name="demo-peer-b")
            print("a HAVE", sorted(p2p.ask_have(a.address)), "| b HAVE", sorted(p2p.ask_have(b.address)))
            deadline = time.monotonic() + 3
            a.start_fetching([b.address], deadline=deadline)
            b.start_fetching([a.address], deadline=deadline)
            print("complete:", a.complete.wait(3), b.complete.wait(3), "| a got", a.got_from, "| b got", b.got_from)
            a.stop(); b.stop()
        ''')
    nb.md(section('''
        ### 연습 8 (8점): 주고받는 피어 (a peer that serves and requests)

        `run_peer(listener, chunks, n_chunks, peers)`를 완성하세요.
        - `listener`: 이미 `listen()` 중인 TCP 소켓. `chunks`: 처음에 가진 조각 `{번호: bytes}`. `n_chunks`: 전체 조각 수.
          `peers`: 다른 피어들의 `(host, port)` 리스트.
        - **서버 역할**: 데몬 스레드(`threading.Thread(..., daemon=True)`)에서 `listener.accept()`를 반복하며 위 프로토콜
          (`HAVE`, `GET n`)에 답하세요. 다른 피어들도 여러분에게서 조각을 받아 가야 합니다. `accept()`가 `OSError`를
          일으키면(테스트가 listener를 닫음) 스레드를 끝내세요. 조각 사전은 두 역할이 함께 쓰므로 `threading.Lock`으로 보호하세요.
        - **클라이언트 역할**: 각 피어에게 `HAVE`를 묻고 없는 조각을 `GET`으로 받아 (연결이 닫힐 때까지 읽기!),
          전체 파일 `b"".join(조각 0..n_chunks-1)`을 돌려주세요. 서버 스레드는 돌아온 뒤에도 계속 돕니다.
        ''', '''
        ### Exercise 8 (8 points): a peer that serves and requests

        Complete `run_peer(listener, chunks, n_chunks, peers)`. `listener` is a listening TCP socket, `chunks`
        the chunks you start with (`{number: bytes}`), `n_chunks` the total, `peers` the other peers'
        `(host, port)`. **Server role**: in a daemon thread, loop on `listener.accept()` and answer `HAVE` and
        `GET n` (the other peers need your chunks too); end the thread when `accept()` raises `OSError` (the
        test closed the listener); guard the shared dict with a `threading.Lock`. **Client role**: ask each
        peer `HAVE`, `GET` what you lack (read until the connection closes!) and return the whole file
        `b"".join(chunk 0..n_chunks-1)`. Your server thread keeps running after you return.
        '''))
    nb.solution("q03_8_p2p", '''
        def run_peer(listener, chunks, n_chunks, peers):
            """Serve HAVE/GET on `listener` in a daemon thread, fetch missing chunks from `peers`, return the file."""
            ### BEGIN SOLUTION
            chunks = dict(chunks)
            lock = threading.Lock()

            def answer(conn):
                with conn:
                    conn.settimeout(2)
                    line = b""
                    while b"\\n" not in line and len(line) < 64:
                        data = conn.recv(64)
                        if not data:
                            break
                        line += data
                    line = line.strip()
                    with lock:
                        if line == b"HAVE":
                            conn.sendall((",".join(map(str, sorted(chunks))) + "\\n").encode())
                        elif line.startswith(b"GET ") and int(line[4:]) in chunks:
                            conn.sendall(chunks[int(line[4:])])

            def serve():
                while True:
                    try:
                        conn, _ = listener.accept()
                    except OSError:
                        return
                    try:
                        answer(conn)
                    except (OSError, ValueError):
                        pass

            threading.Thread(target=serve, daemon=True).start()

            def request(address, line):
                with socket.create_connection(address, timeout=2) as sock:
                    sock.sendall(line)
                    parts = []
                    while data := sock.recv(65536):
                        parts.append(data)
                return b"".join(parts)

            for address in peers:
                offered = request(address, b"HAVE\\n").decode().strip()
                for index in [int(x) for x in offered.split(",") if x]:
                    with lock:
                        if index in chunks:
                            continue
                    data = request(address, f"GET {index}\\n".encode())
                    with lock:
                        chunks[index] = data
            return b"".join(chunks[i] for i in range(n_chunks))
            ### END SOLUTION
        ''')
    nb.grade("q03_8_p2p", 8, '''
        """연습 8: P2P 피어 / exercise 8: P2P peer (8점)"""
        result = p2p.exchange(run_peer, student=[0, 1], references=[[2, 3], [4, 5]], chunk_size=1000, timeout=3)
        check(result.student_ok, "run_peer()가 돌려준 파일이 전체 파일과 다릅니다", "run_peer() did not return the whole file")
        expect_equal(result.reference_complete, [True, True], "참조 피어들이 전체 파일을 받았나", "did the reference peers get the whole file")
        check(result.served_by_student >= 2, "다른 피어들이 여러분에게서 조각을 받지 못했습니다",
              "the other peers could not download chunks from you", hint_ko="HAVE/GET에 답하는 서버 스레드가 있나요?",
              hint_en="does a server thread answer HAVE/GET?")
        ### BEGIN HIDDEN TESTS
        result = p2p.exchange(run_peer, student=[0, 3], references=[[1, 2], [2, 4, 5], []], chunk_size=200_000, timeout=4)
        check(result.student_ok, "큰 조각(200 KB): 연결이 닫힐 때까지 읽었나요?", "large chunks (200 KB): did you read until close?")
        expect_equal(result.reference_complete, [True, True, True], "참조 피어 셋 (하나는 빈손)", "three reference peers (one empty)")
        ### END HIDDEN TESTS
        ''')

    nb.md(section('''
        ## 4. 세 모델 비교 (comparing the models)

        - 가장 많이 쓰는 모델: **서버 & 클라이언트** — 상업적 목적에 알맞고, 잘 알려져 구현이 쉽다.
        - 분산 시스템 관리: **매니저 & 에이전트** — 시스템 관리의 대부분이 이 모델을 따른다 (SNMP, 모니터링 에이전트).
        - **P2P** — 부하를 클라이언트에 나누는 데 주로 쓴다 (예: 프로그램 배포를 P2P로). 모바일 기기가 인터넷에 연결되면서 다시 중요해졌다.

        ### 연습 9 (5점, 수동 채점 manual grading): 글로 답하기 (written answer)

        다음 상황 각각에 세 모델 중 무엇이 알맞은지 고르고, **누가 연결을 시작하는지**, **장애가 나면 무슨 일이 생기는지**를
        들어 3–6문장으로 설명하세요: (a) 온라인 서점, (b) 회사 네트워크 장비 300대의 상태 감시, (c) 10 GB 게임 패치를
        수십만 명에게 배포. 아래 칸에 한국어나 영어로 쓰세요.
        ''', '''
        ## 4. Comparing the models

        Server & client is the most used (commercial, well known, easy); manager & agent runs most distributed
        system management (SNMP, monitoring agents); P2P mainly spreads load onto clients (e.g. distributing
        software), and matters again with mobile devices.

        ### Exercise 9 (5 points, graded by hand): written answer

        For each situation choose the best model and explain in 3–6 sentences **who starts the connection** and
        **what happens when something fails**: (a) an online bookshop, (b) watching the state of 300 network
        devices in a company, (c) distributing a 10 GB game patch to hundreds of thousands of players.
        Answer in Korean or English in the cell below.
        '''))
    nb.written("q03_9_models_written", 5, '''
        ### BEGIN SOLUTION
        **모범 답안 (model answer)**: (a) 서버 & 클라이언트: 고객(클라이언트)이 서점 서버에 연결을 시작하고, 재고와 주문은
        서버에 모여 관리된다; 서버가 멈추면 모두가 서비스를 못 받으므로 서버 증설·이중화가 필요하다.
        (b) 매니저 & 에이전트 (SNMP): 매니저가 300대의 에이전트에게 주기적으로 요청(polling)을 시작한다; 장비 하나가 꺼지면
        그 에이전트만 대답하지 않고(timeout) 매니저는 나머지 결과를 모으며 그 장비를 장애로 표시한다.
        (c) P2P: 피어끼리 서로 연결을 시작해 조각을 주고받는다; 피어 하나가 빠져도 다른 피어가 같은 조각을 가지고 있어
        배포가 계속되고, 서버 하나에 부하가 몰리지 않는다.

        **채점 기준 (rubric, 5점)**
        - 세 상황 모두 알맞은 모델 (a 서버/클라이언트, b 매니저/에이전트, c P2P): 각 1점, 최대 3점.
        - 누가 연결을 시작하는지 최소 두 모델에서 올바르게 설명: 1점.
        - 장애 시 동작(서버 단일 장애점 / 에이전트 timeout 후 나머지 수집 / 다른 피어가 대신함)을 최소 두 모델에서 설명: 1점.
        - 모델 이름만 있고 이유가 없으면 모델 점수의 절반만.
        ### END SOLUTION
        ''')
    return nb

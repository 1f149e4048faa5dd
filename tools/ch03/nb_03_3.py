"""03.3 인터넷 서비스 포트 (service ports): exercises 10-14."""
from __future__ import annotations

from .common import Notebook, section

SETUP = '''
# 준비 (setup) — 잠긴 셀입니다. 먼저 실행하세요. / Locked: run it first.
import errno, os, pathlib, socket, time
from socklab import env, servers, clients, testing, ports
from socklab.testing import call_with_timeout, check, expect_equal, fail
testing.install_hint_display()   # 실패하면 한국어/영어 힌트만 보여 줍니다 / failures show ko/en hints
print("socklab 준비 완료 (ready)")
'''

SERVICES = '''SAMPLE = """\\
# /etc/services 의 일부 / part of /etc/services
netstat\\t15/tcp
ftp-data\\t20/tcp
ftp\\t\\t21/tcp
fsp\\t\\t21/udp\\t\\tfspd
ssh\\t\\t22/tcp\\t\\t\\t\\t# SSH Remote Login Protocol
telnet\\t\\t23/tcp
smtp\\t\\t25/tcp\\t\\tmail
time\\t\\t37/tcp\\t\\ttimserver
time\\t\\t37/udp\\t\\ttimserver
nameserver\\t42/tcp\\t\\tname\\t\\t# IEN 116

whois\\t\\t43/tcp\\t\\tnickname
gopher\\t\\t70/tcp\\t\\t\\t\\t# Internet Gopher
http\\t\\t80/tcp\\t\\twww\\t\\t# WorldWideWeb HTTP
"""'''


def build() -> Notebook:
    nb = Notebook("03_3")
    nb.md(section('''
        # 03.3 인터넷 서비스 포트 (Internet service ports)

        뇌를 자극하는 TCP/IP 소켓 프로그래밍, 3장 3절. 인터넷은 프로그램과 프로그램의 연결입니다. 그러면 클라이언트
        프로그램은 서버 프로그램을 어떻게 찾을까요? 컴퓨터의 위치는 **IP 주소 (IP address)**, 그 컴퓨터 안에서 프로그램의
        위치는 **포트 번호 (port number)** 입니다.

        **학습 목표 (learning goals)** — 이 노트북을 마치면:
        1. 서비스 파일(services file)을 읽어 서비스 이름과 포트 번호를 서로 찾을 수 있다.
        2. 포트 번호를 IANA 범위(well-known, registered, dynamic)로 나누고, 잘못된 번호를 거부할 수 있다.
        3. 클라이언트가 받는 임시 포트(ephemeral port)를 관찰하고, 리눅스 커널 범위와 IANA 범위를 구별할 수 있다.
        4. `bind()` 오류를 번호가 아니라 이름(`EADDRINUSE`, `EACCES`)으로 다룰 수 있다.
        5. 시간 제한을 둔 연결 스캐너(connect scanner)로 **내 컴퓨터(loopback)의** 열린 포트를 찾을 수 있다.

        **점수 (points)**: 연습 10 (6점) · 연습 11 (5점) · 연습 12 (4점) · 연습 13 (5점) · 연습 14 (6점) = 26점.
        ''', '''
        # 03.3 Internet service ports

        Chapter 3, section 3. How does a client program find a server program? The computer is found by its
        **IP address**, the program inside it by its **port number**.

        **Learning goals** — after this notebook you can:
        1. read a services file and look up names and port numbers;
        2. classify port numbers into the IANA ranges and reject invalid ones;
        3. observe the ephemeral port a client gets and tell Linux's range from IANA's;
        4. handle `bind()` errors by name (`EADDRINUSE`, `EACCES`), not by number;
        5. find the open ports **of your own machine (loopback)** with a connect scanner that has timeouts.

        **Points**: exercise 10 (6) · 11 (5) · 12 (4) · 13 (5) · 14 (6) = 26.
        '''))
    nb.setup(SETUP)

    nb.md(section('''
        ## 1. 서비스 포트와 services 파일 (service ports and the services file)

        포트는 한 컴퓨터(단일 플랫폼)에서 성격이 다른 여러 서비스를 제공하기 위한 구조입니다. **각 서비스는 고유의 포트 번호**를
        가지고, 원격 프로그램은 **IP 주소로 컴퓨터를 찾고 포트 번호로 프로그램을 찾습니다**. TCP와 UDP의 포트 번호는 서로 다른
        공간입니다: `37/tcp`와 `37/udp`는 별개입니다.

        운영체제는 표준 서비스 이름과 포트를 파일로 둡니다: 리눅스 `/etc/services`, 윈도우
        `C:\\Windows\\System32\\drivers\\etc\\services`. 한 줄의 형식은
        `이름  포트/프로토콜  [별칭(alias) ...]  [# 설명(comment)]` 이고, `#` 뒤는 주석, 빈 줄은 무시합니다.
        ''', '''
        ## 1. Service ports and the services file

        Ports let one computer offer many different services: **each service has its own port number**; a
        remote program finds the computer by IP address and the program by port number. TCP and UDP ports are
        separate spaces (`37/tcp` and `37/udp` are different). The OS lists standard names and ports in a file
        (`/etc/services` on Linux, `C:\\Windows\\System32\\drivers\\etc\\services` on Windows); a line is
        `name  port/protocol  [aliases ...]  [# comment]`; text after `#` is a comment, blank lines are ignored.
        '''))
    nb.code('''
        # 데모 (demo): 이 컴퓨터의 services 파일 / this machine's services file
        if not env.under_nbgrader():
            if env.has_services_file():
                table = ports.load_services()
                print(env.services_path(), "—", len(table), "entries")
                for name in ["ftp", "ssh", "telnet", "smtp", "http", "https", "snmp"]:
                    print(f"  {name:<8}", table.by_name(name, protocol=None))
            else:
                print("이 컴퓨터에는 services 파일이 없습니다 / no services file on this machine")
        ''')
    nb.md(section('''
        ### 연습 10 (6점): services 파일 읽기 (parse a services file)

        1. `parse_services(text)`: services 파일의 텍스트를 받아, 항목마다 사전 하나를 담은 리스트를 돌려주세요:
           `{"name": "http", "port": 80, "protocol": "tcp", "aliases": ["www"], "comment": "WorldWideWeb HTTP"}`.
           별칭이 없으면 `[]`, 주석이 없으면 `""`. 빈 줄과 `#`로 시작하는 줄은 건너뜁니다. 칸은 탭이나 공백(여러 개일 수 있음)으로 나뉩니다.
        2. `port_of(entries, name, protocol)`: 이름이나 **별칭**이 `name`이고 프로토콜이 `protocol`인 항목의 포트 번호, 없으면 `None`.

        아래 `SAMPLE`은 슬라이드에 나온 부분입니다.
        ''', '''
        ### Exercise 10 (6 points): parse a services file

        1. `parse_services(text)` returns a list with one dict per entry:
           `{"name": "http", "port": 80, "protocol": "tcp", "aliases": ["www"], "comment": "WorldWideWeb HTTP"}`
           (`[]` without aliases, `""` without a comment); skip blank lines and lines starting with `#`; fields are
           separated by tabs or spaces (possibly several).
        2. `port_of(entries, name, protocol)` returns the port of the entry whose name **or alias** is `name` with
           that `protocol`, else `None`. `SAMPLE` below is the part shown in the slides.
        '''))
    nb.fixed("sample_services", SERVICES)
    nb.solution("q03_10_services", '''
        def parse_services(text):
            """Entries of a services file as dicts: name, port, protocol, aliases, comment."""
            ### BEGIN SOLUTION
            entries = []
            for line in text.splitlines():
                body, _, comment = line.partition("#")
                fields = body.split()
                if len(fields) < 2:
                    continue
                port, _, protocol = fields[1].partition("/")
                entries.append({"name": fields[0], "port": int(port), "protocol": protocol.lower(),
                                "aliases": fields[2:], "comment": comment.strip()})
            return entries
            ### END SOLUTION

        def port_of(entries, name, protocol):
            """The port of the service called `name` (or with that alias) over `protocol`, else None."""
            ### BEGIN SOLUTION
            for entry in entries:
                if entry["protocol"] == protocol and (entry["name"] == name or name in entry["aliases"]):
                    return entry["port"]
            return None
            ### END SOLUTION
        ''')
    nb.grade("q03_10_services", 6, '''
        """연습 10: services 파일 / exercise 10: services file (6점)"""
        entries = call_with_timeout(parse_services, SAMPLE)
        check(isinstance(entries, list), "parse_services()는 리스트를 돌려줘야 합니다", "parse_services() must return a list")
        check({"name": "ssh", "port": 22, "protocol": "tcp", "aliases": [], "comment": "SSH Remote Login Protocol"} in entries,
              "ssh 항목이 없거나 틀렸습니다", "the ssh entry is missing or wrong")
        expect_equal(call_with_timeout(port_of, entries, "http", "tcp"), 80, "port_of(entries, 'http', 'tcp')", "port_of(entries, 'http', 'tcp')")
        ### BEGIN HIDDEN TESTS
        expect_equal(len(entries), 13, "SAMPLE의 항목 수 (빈 줄·주석 줄 제외)", "entries in SAMPLE (no blank or comment lines)")
        check({"name": "http", "port": 80, "protocol": "tcp", "aliases": ["www"], "comment": "WorldWideWeb HTTP"} in entries,
              "http 항목 (별칭 www, 주석)", "the http entry (alias www, comment)")
        for args, want in [(("www", "tcp"), 80), (("mail", "tcp"), 25), (("fsp", "udp"), 21), (("fsp", "tcp"), None),
                           (("time", "udp"), 37), (("timserver", "udp"), 37), (("gopher", "udp"), None), (("nope", "tcp"), None)]:
            expect_equal(call_with_timeout(port_of, entries, *args), want, f"port_of(entries, {args[0]!r}, {args[1]!r})",
                         f"port_of(entries, {args[0]!r}, {args[1]!r})")
        odd = "  # indented comment\\n\\n  domain   53/udp   nameserver  dns   #DNS, over UDP # really\\nhttps 443/tcp\\n"
        expect_equal(call_with_timeout(parse_services, odd),
                     [{"name": "domain", "port": 53, "protocol": "udp", "aliases": ["nameserver", "dns"], "comment": "DNS, over UDP # really"},
                      {"name": "https", "port": 443, "protocol": "tcp", "aliases": [], "comment": ""}],
                     "공백·여러 별칭·주석이 섞인 줄", "lines with spaces, several aliases and comments")
        ### END HIDDEN TESTS
        ''')

    nb.md(section('''
        ## 2. 포트 번호의 범위 (port number ranges)

        포트 번호는 16비트 부호 없는 정수(16-bit unsigned integer), 0–65535 입니다. 0은 예약(reserved)되어 서비스 포트로 쓰지
        않습니다 (UDP에서 출발지 포트 0은 "포트 없음"을 뜻하고, `bind()`에 0을 주면 "커널이 빈 포트를 골라 달라"는 뜻입니다 —
        socklab 서버가 늘 포트 0에 bind하는 이유입니다). IANA (Internet Assigned Numbers Authority, RFC 6335)의 범위:

        | 범위 | 이름 | 누가 |
        |---|---|---|
        | 0 | 예약 (reserved) | 사용하지 않음 |
        | 1–1023 | **잘 알려진 포트 (well-known, system)** | IANA가 할당: ftp 21, telnet 23, smtp 25, http 80 |
        | 1024–49151 | **등록된 포트 (registered, user)** | IANA가 등록해 목록으로 알려 줌 |
        | 49152–65535 | **동적 혹은 사적인 포트 (dynamic / private)** | 할당하지 않음: 임시 포트용 |

        **누가 bind할 수 있나**: 전통적으로 1024 미만은 root(또는 `CAP_NET_BIND_SERVICE` 권한)만 bind할 수 있습니다.
        리눅스는 이 경계를 `/proc/sys/net/ipv4/ip_unprivileged_port_start`로 바꿀 수 있습니다 (기본 1024, 컨테이너에서는 0인 경우도 있음).
        ''', '''
        ## 2. Port number ranges

        A port is a 16-bit unsigned integer, 0–65535. Port 0 is reserved (a UDP source port of 0 means "no port";
        `bind()` to port 0 asks the kernel for a free port, which is why socklab servers always bind port 0).
        IANA (RFC 6335): 1–1023 **well-known (system)** ports, assigned by IANA; 1024–49151 **registered (user)**
        ports, listed by IANA; 49152–65535 **dynamic / private**, never assigned. Traditionally only root (or a
        program with `CAP_NET_BIND_SERVICE`) may bind below 1024; Linux moves that limit with
        `/proc/sys/net/ipv4/ip_unprivileged_port_start` (default 1024, sometimes 0 in containers).
        '''))
    nb.code('''
        # 위젯 (widget): 이름이나 번호를 입력해 보세요 / type a service name or a port number
        if not env.under_nbgrader():
            from socklab import widgets
            display(widgets.port_explorer("http"))
        ''')
    nb.md(section('''
        ### 연습 11 (5점): 포트 번호 분류 (classify port numbers)

        `port_range(port)`가 `"reserved"`, `"well-known"`, `"registered"`, `"dynamic"` 중 하나를 돌려주게 하세요 (`socklab.ports.classify`를 쓰지 말고 직접).
        포트 번호가 아닌 값 — 범위 밖의 정수, 정수가 아닌 값(`"80"`, `80.0`), `True`/`False` — 에는 `ValueError`를 일으키세요.
        ''', '''
        ### Exercise 11 (5 points): classify port numbers

        `port_range(port)` returns `"reserved"`, `"well-known"`, `"registered"` or `"dynamic"` (write it yourself,
        without `socklab.ports.classify`). Anything that is not a port number — an integer out of range, a
        non-integer (`"80"`, `80.0`), `True`/`False` — raises `ValueError`.
        '''))
    nb.solution("q03_11_classify", '''
        def port_range(port):
            """IANA range name of a port number; ValueError for anything that is not a port number."""
            ### BEGIN SOLUTION
            if isinstance(port, bool) or not isinstance(port, int):
                raise ValueError(f"a port number is an int, not {port!r}")
            if not 0 <= port <= 65535:
                raise ValueError(f"port numbers go from 0 to 65535, not {port}")
            if port == 0:
                return "reserved"
            if port <= 1023:
                return "well-known"
            if port <= 49151:
                return "registered"
            return "dynamic"
            ### END SOLUTION
        ''')
    nb.grade("q03_11_classify", 5, '''
        """연습 11: 포트 번호 분류 / exercise 11: classify ports (5점)"""
        for port, want in [(80, "well-known"), (8080, "registered"), (50000, "dynamic")]:
            expect_equal(call_with_timeout(port_range, port), want, f"port_range({port})", f"port_range({port})")
        ### BEGIN HIDDEN TESTS
        for port, want in [(0, "reserved"), (1, "well-known"), (1023, "well-known"), (1024, "registered"),
                           (49151, "registered"), (49152, "dynamic"), (65535, "dynamic")]:
            expect_equal(call_with_timeout(port_range, port), want, f"경계값 port_range({port})", f"boundary port_range({port})")
        for bad in [-1, 65536, 10**6, "80", 80.0, True, None]:
            try:
                raised = call_with_timeout(port_range, bad)
            except testing.ExerciseFailed as exc:
                raised = (exc.detail or "").split(":")[0]
            expect_equal(raised, "ValueError", f"port_range({bad!r}) → ValueError", f"port_range({bad!r}) → ValueError")
        ### END HIDDEN TESTS
        ''')

    nb.md(section('''
        ## 3. 포트 번호의 할당 (who picks the port)

        - **서버 포트: 명시적으로 할당**. 서버 프로그램이 포트에 `bind()`하므로 클라이언트도 미리 알고 있어야 합니다.
        - **클라이언트 포트: 임의 할당**. `connect()`할 때 커널이 남은 포트 중 하나를 **임시 포트 (ephemeral port)** 로 고릅니다.

        슬라이드는 "1024보다 큰 포트 중 남은 것"이라고 하지만, 실제로는 운영체제마다 정해 둔 **범위**에서 고릅니다:
        - 리눅스: `/proc/sys/net/ipv4/ip_local_port_range`, 기본 **32768–60999**.
        - IANA 권고와 윈도우(Vista 이후), macOS: **49152–65535**.

        둘 다 맞는 말입니다: IANA의 범위는 권고이고, 실제로 무엇을 고를지는 커널이 정합니다. 아래에서 확인해 봅니다.
        ''', '''
        ## 3. Who picks the port

        **Server ports are chosen explicitly** (the server `bind()`s, clients must know the port); **client ports
        are picked by the kernel** at `connect()` time: an **ephemeral port**. The slides say "some free port above
        1024"; really each OS picks from a **range**: Linux `/proc/sys/net/ipv4/ip_local_port_range`, default
        **32768–60999**; IANA's recommendation, Windows (since Vista) and macOS use **49152–65535**. IANA recommends,
        the kernel decides.
        '''))
    nb.code('''
        # 데모 (demo): 연결 다섯 번, 커널이 고른 임시 포트 / five connections, five ephemeral ports
        if not env.under_nbgrader():
            echo = servers.echo_server(name="echo-03-3")
            kernel = ports.ephemeral_range()
            print(f"커널 범위 (kernel): {kernel.low}-{kernel.high} ({kernel.source})")
            print(f"IANA 동적 범위 (dynamic): {ports.IANA_DYNAMIC.start}-{ports.IANA_DYNAMIC.stop - 1}")
            for _ in range(5):
                p = ports.ephemeral_port_of(echo.address, timeout=2)
                print(p, "커널 범위 안" if kernel.contains(p) else "커널 범위 밖", "/", ports.classify(p))
            print(ports.who_may_bind(80))
            print(ports.who_may_bind(8080))
        ''')
    nb.md(section('''
        ### 연습 12 (4점): 임시 포트 관찰 (observe the ephemeral port)

        1. `kernel_port_range()`: 리눅스의 `/proc/sys/net/ipv4/ip_local_port_range`를 읽어 `(low, high)` 정수 튜플로 돌려주세요.
           (파일이 없는 운영체제에서는 IANA 범위 `(49152, 65535)`.)
        2. `my_ephemeral_port(address)`: `address`의 서버에 TCP로 연결하고, 커널이 **내 쪽 끝**에 준 포트 번호를
           돌려주세요 (`getsockname()`). 연결은 닫고 돌아오세요.
        ''', '''
        ### Exercise 12 (4 points): observe the ephemeral port

        1. `kernel_port_range()` reads Linux's `/proc/sys/net/ipv4/ip_local_port_range` and returns `(low, high)` as
           ints (IANA's `(49152, 65535)` where that file does not exist).
        2. `my_ephemeral_port(address)` connects to the server at `address` and returns the port the kernel gave
           **your end** (`getsockname()`); close the connection before returning.
        '''))
    nb.solution("q03_12_ephemeral", '''
        def kernel_port_range():
            """(low, high) of the kernel's ephemeral port range."""
            ### BEGIN SOLUTION
            try:
                with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                    low, high = f.read().split()
                return int(low), int(high)
            except OSError:
                return 49152, 65535
            ### END SOLUTION

        def my_ephemeral_port(address):
            """Connect to `address` and return the local (client-side) port the kernel chose."""
            ### BEGIN SOLUTION
            with socket.create_connection(address, timeout=2) as sock:
                return sock.getsockname()[1]
            ### END SOLUTION
        ''')
    nb.grade("q03_12_ephemeral", 4, '''
        """연습 12: 임시 포트 / exercise 12: ephemeral port (4점)"""
        kernel = ports.ephemeral_range()
        expect_equal(call_with_timeout(kernel_port_range), (kernel.low, kernel.high), "커널 범위", "the kernel's range")
        echo = servers.echo_server(name="q12-echo")
        port = call_with_timeout(my_ephemeral_port, echo.address, timeout=3)
        check(isinstance(port, int) and kernel.contains(port), f"{port!r}는 커널 범위 {kernel.low}-{kernel.high} 밖입니다",
              f"{port!r} is outside the kernel's range {kernel.low}-{kernel.high}")
        ### BEGIN HIDDEN TESTS
        for _ in range(3):
            port = call_with_timeout(my_ephemeral_port, echo.address, timeout=3)
            echo.log.wait_for(lambda log: any(e.kind == "accept" and e.peer and e.peer[1] == port for e in log.events), timeout=1)
            seen = [e.peer[1] for e in echo.log.events if e.kind == "accept" and e.peer]
            check(port in seen, f"서버는 포트 {port}에서 온 연결을 보지 못했습니다 (본 것: {seen[-3:]})",
                  f"the server saw no connection from port {port} (saw: {seen[-3:]})", hint_ko="getsockname()[1]을 돌려주나요?",
                  hint_en="do you return getsockname()[1]?")
        ### END HIDDEN TESTS
        echo.stop()
        ''')

    nb.code('''
        # 데모 (demo): 여러분의 함수로 본 임시 포트, 커널 범위와 IANA 범위 나란히 / your ports beside both ranges
        if not env.under_nbgrader():
            echo = servers.echo_server(name="echo-03-3")
            try:
                low, high = kernel_port_range()
                for _ in range(3):
                    p = my_ephemeral_port(echo.address)
                    print(f"{p}: 커널 범위 (kernel) {low}-{high} 안? {low <= p <= high} | "
                          f"IANA 49152-65535 안? {p in ports.IANA_DYNAMIC}")
            except NotImplementedError:
                print("연습 12를 먼저 풀어 보세요 / solve exercise 12 first")
        ''')

    nb.md(section('''
        ### 연습 13 (5점): bind 오류를 이름으로 (bind errors by name)

        `try_bind(host, port)`: TCP 소켓을 만들어 `(host, port)`에 `bind()`해 보고, 성공하면 소켓을 닫고 `"ok"`를,
        `OSError`가 나면 그 오류의 **이름**을 돌려주세요: `errno.errorcode[exc.errno]` → `"EADDRINUSE"`, `"EACCES"`, ...
        (번호 98, 13은 운영체제마다 다릅니다: 이름으로 비교해야 이식성이 있습니다.)

        참고: 1024 미만 포트는 root나 `CAP_NET_BIND_SERVICE` 권한이 있거나 포트가 `ip_unprivileged_port_start` 이상이면 bind됩니다.
        테스트는 지금 이 커널이 여러분에게 실제로 허락하는 것과 비교합니다.
        ''', '''
        ### Exercise 13 (5 points): bind errors by name

        `try_bind(host, port)` creates a TCP socket and `bind()`s it to `(host, port)`: on success close it and return
        `"ok"`; on `OSError` return the error's **name**, `errno.errorcode[exc.errno]` (`"EADDRINUSE"`, `"EACCES"`, ...).
        Numbers (98, 13) differ between systems; names are portable. Ports below 1024 bind for root, for a program
        with `CAP_NET_BIND_SERVICE`, or when the port is at least `ip_unprivileged_port_start`; the test compares
        with what this kernel actually allows you.
        '''))
    nb.solution("q03_13_bind_errors", '''
        def try_bind(host, port):
            """'ok' if a TCP socket can bind (host, port), else the errno name such as 'EADDRINUSE'."""
            ### BEGIN SOLUTION
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, port))
                return "ok"
            except OSError as exc:
                return errno.errorcode.get(exc.errno, str(exc.errno))
            finally:
                sock.close()
            ### END SOLUTION
        ''')
    nb.grade("q03_13_bind_errors", 5, '''
        """연습 13: bind 오류 / exercise 13: bind errors (5점)"""
        busy = servers.echo_server(name="q13-busy")
        expect_equal(call_with_timeout(try_bind, *busy.address), "EADDRINUSE", "쓰고 있는 포트에 bind", "bind a port in use")
        expect_equal(call_with_timeout(try_bind, "127.0.0.1", 0), "ok", "포트 0 (커널이 고름)", "port 0 (the kernel picks)")
        low = 1023   # 1024 미만 / below 1024: 허락되면 ok, 아니면 EACCES / ok when allowed, else EACCES
        allowed = os.geteuid() == 0 or low >= ports.unprivileged_port_start()[0]
        expect_equal(call_with_timeout(try_bind, "127.0.0.1", low), "ok" if allowed else "EACCES",
                     f"포트 {low} (root={os.geteuid() == 0})", f"port {low} (root={os.geteuid() == 0})")
        ### BEGIN HIDDEN TESTS
        udp = servers.udp_echo_server(name="q13-udp")   # TCP와 UDP의 포트는 서로 다른 공간 / separate spaces
        expect_equal(call_with_timeout(try_bind, *udp.address), "ok", "UDP가 쓰는 번호에 TCP bind", "TCP bind on a port UDP uses")
        knob = pathlib.Path("/proc/sys/net/ipv4/ip_nonlocal_bind")   # 1이면 없는 주소에도 bind 허용 / 1 allows any address
        nonlocal_ok = knob.exists() and knob.read_text().strip() == "1"
        expect_equal(call_with_timeout(try_bind, "192.0.2.1", 0), "ok" if nonlocal_ok else "EADDRNOTAVAIL",
                     "이 컴퓨터에 없는 주소 (bind는 패킷을 보내지 않음)", "an address this machine does not have (bind sends nothing)")
        busy_again = call_with_timeout(try_bind, *busy.address)
        expect_equal(busy_again, "EADDRINUSE", "다시 한 번 (소켓을 닫았나?)", "once more (did you close the socket?)")
        udp.stop()
        ### END HIDDEN TESTS
        busy.stop()
        ''')

    nb.md(section('''
        ### 연습 14 (6점): 내 컴퓨터의 포트 스캐너 (a loopback port scanner)

        `scan(host, port_list, timeout)`: `port_list`의 각 포트에 TCP `connect()`를 시도해 (연결마다 `timeout`초 제한),
        연결되는 포트 번호를 **중복 없이 오름차순** 리스트로 돌려주세요. 연결되면 바로 닫습니다. 거부(`ConnectionRefusedError`)나
        시간 초과는 "닫힘"입니다.

        ⚠️ 스캔은 **내 컴퓨터(127.0.0.1)나 허락받은 곳에만** 하세요. 남의 컴퓨터를 허락 없이 스캔하는 것은 많은 곳에서 불법입니다.
        ''', '''
        ### Exercise 14 (6 points): a loopback port scanner

        `scan(host, port_list, timeout)` tries a TCP `connect()` to each port (a `timeout`-second limit per
        connection) and returns the ports that accept, **sorted and without duplicates**; close each connection
        at once. Refused (`ConnectionRefusedError`) or timed out means closed. ⚠️ Scan **only your own machine
        (127.0.0.1) or machines you have permission for**; scanning others without permission is illegal in many places.
        '''))
    nb.solution("q03_14_scanner", '''
        def scan(host, port_list, timeout):
            """Sorted list of the ports in port_list where a TCP connect() to host succeeds."""
            ### BEGIN SOLUTION
            found = set()
            for port in set(port_list):
                try:
                    with socket.create_connection((host, port), timeout=timeout):
                        found.add(port)
                except OSError:
                    pass
            return sorted(found)
            ### END SOLUTION
        ''')
    nb.grade("q03_14_scanner", 6, '''
        """연습 14: 포트 스캐너 / exercise 14: port scanner (6점)"""
        open_servers = [servers.echo_server(name=f"q14-open-{i}") for i in range(2)]
        closed = [socket.socket() for _ in range(2)]   # bind만 하고 listen하지 않음 = 닫힌 포트 / bound, not listening
        for s in closed:
            s.bind(("127.0.0.1", 0))
        open_ports = sorted(s.port for s in open_servers)
        closed_ports = [s.getsockname()[1] for s in closed]
        expect_equal(call_with_timeout(scan, "127.0.0.1", open_ports + closed_ports, 0.5, timeout=5), open_ports,
                     "열린 포트", "open ports")
        ### BEGIN HIDDEN TESTS
        udp = servers.udp_echo_server(name="q14-udp")
        mixed = [closed_ports[1], open_ports[1], udp.port, open_ports[0], closed_ports[0], open_ports[1]]
        expect_equal(call_with_timeout(scan, "127.0.0.1", mixed, 0.5, timeout=5), open_ports,
                     "섞이고 중복된 목록 (UDP 포트는 TCP로 닫힘)", "a shuffled list with duplicates (the UDP port is closed for TCP)")
        expect_equal(call_with_timeout(scan, "127.0.0.1", tuple(closed_ports), 0.5, timeout=5), [],
                     "열린 포트가 없을 때", "when no port is open")
        udp.stop()
        ### END HIDDEN TESTS
        for s in closed:
            s.close()
        for s in open_servers:
            s.stop()
        ''')
    nb.md(section('''
        ## 정리 (summary)
        - IP 주소는 컴퓨터를, 포트 번호는 그 안의 프로그램을 찾는다. TCP와 UDP의 포트는 별개다.
        - IANA: well-known 1–1023, registered 1024–49151, dynamic 49152–65535. 리눅스의 임시 포트는 기본 32768–60999.
        - 오류는 번호가 아니라 이름(`errno.EADDRINUSE`)으로 다룬다.
        ''', '''
        ## Summary
        - The IP address finds the computer, the port the program in it; TCP and UDP ports are separate.
        - IANA: well-known 1–1023, registered 1024–49151, dynamic 49152–65535; Linux's ephemeral default is 32768–60999.
        - Handle errors by name (`errno.EADDRINUSE`), not by number.
        '''))
    return nb

"""Notebook 03.3's grade cells: every check can fail, and correct answers in other styles pass.

For each check a grade cell makes there is a wrong answer that fails *at that check* (the
failure's English text names it), and for each exercise at least two correct answers written
differently from the reference pass every cell of it. Cells run in this process (real sockets,
real servers, no kernel), as in test_hidden_tests.py; the kernel runs are in test_ch03_3_notebook.py.
"""
from __future__ import annotations

import textwrap

import pytest

from cellrun import edit, run, solution
from nbtools import SOLUTIONS, load, nbgrader_meta, source
from support import strict_skip

NOTEBOOK = SOLUTIONS / "03.3-service-ports.ipynb"
CELLS = {nbgrader_meta(c).get("grade_id"): source(c) for c in load(NOTEBOOK)["cells"] if nbgrader_meta(c)}
EXERCISE = {  # exercise -> its grade cells, in notebook order
    10: ["q03_10_services", "q03_10_services_robust"], 11: ["q03_11_classify"], 12: ["q03_12_ephemeral"],
    13: ["q03_13_bind_errors", "q03_13_bind_errors_robust"], 14: ["q03_14_scanner"]}


def fails_at(grade_id: str, answer: str, label: str) -> str:
    """Run the cell with a wrong answer; it must fail with a message naming `label`. Returns the message."""
    from socklab.testing import ExerciseFailed

    with pytest.raises(ExerciseFailed) as caught:
        run(grade_id, answer)
    message = str(caught.value)
    assert label in caught.value.en or label in message, message
    return message


# Token-based: a field starting with '#' opens the comment; "70/tcp#..." slips through.
TOKEN_PARSER = textwrap.dedent('''
        def parse_services(text):
            entries = []
            for line in text.splitlines():
                fields = line.split()
                if not fields or fields[0].startswith("#"):
                    continue
                cut = next((i for i, f in enumerate(fields) if f.startswith("#")), len(fields))
                port, _, protocol = fields[1].partition("/")
                entries.append({"name": fields[0], "port": int(port), "protocol": protocol, "aliases": fields[2:cut],
                                "comment": " ".join(fields[cut:])[1:].strip()})
            return entries
        def port_of(entries, name, protocol):
            for e in entries:
                if e["protocol"] == protocol and name in [e["name"], *e["aliases"]]:
                    return e["port"]
        ''')


# -- exercise 10 ---------------------------------------------------------------------------------
REF10 = "q03_10_services"
WRONG_10 = [
    # (grade cell, label of the check that must catch it, answer)
    (REF10, "must return a list of dicts", edit(solution(REF10), ("entries = []", "entries = None"),
     ("        entries.append({", "        yield ({"), ("    return entries\n", ""))),
    (REF10, "the ssh entry", edit(solution(REF10), ('"comment": comment.strip()', '"comment": comment'))),
    (REF10, "port_of(entries, 'http', 'tcp')", edit(solution(REF10), ('return entry["port"]', 'return str(entry["port"])'))),
    (REF10, "the 13 entries of SAMPLE", '''
        def parse_services(text):
            by_name = {}
            for line in text.splitlines():
                body, _, comment = line.partition("#")
                fields = body.split()
                if fields:
                    port, _, protocol = fields[1].partition("/")
                    by_name[fields[0]] = {"name": fields[0], "port": int(port), "protocol": protocol,
                                          "aliases": fields[2:], "comment": comment.strip()}
            return list(by_name.values())
        def port_of(entries, name, protocol):
            return next((e["port"] for e in entries if e["protocol"] == protocol
                         and (e["name"] == name or name in e["aliases"])), None)
        '''),
    (REF10, "the http entry", edit(solution(REF10), ('"aliases": fields[2:]', '"aliases": [] if comment else fields[2:]'))),
    (REF10, "port_of(entries, 'www', 'tcp')", edit(solution(REF10), ('(entry["name"] == name or name in entry["aliases"])',
                                                               'entry["name"] == name'))),
    (REF10, "port_of(entries, 'fsp', 'tcp')", edit(solution(REF10), ('entry["protocol"] == protocol and ', ''))),
    ("q03_10_services_robust", "number of entries", edit(solution(REF10), ("        if not fields:\n",
                                                                     "        if not fields or line[:1].isspace():\n"))),
    ("q03_10_services_robust", "entry 1", edit(solution(REF10), ('"comment": comment.strip()',
                                                         '"comment": line.split("#")[-1].strip() if comment else ""'))),
    ("q03_10_services_robust", "entry 2", edit(solution(REF10), ('"comment": comment.strip()', '"comment": comment.strip() or None'))),
    # Token-based: a field starting with '#' opens the comment; "70/tcp#..." slips through.
    ("q03_10_services_robust", "no space before '#'", TOKEN_PARSER),
    ("q03_10_services_robust", "lookup by the second alias", edit(solution(REF10), (
        '(entry["name"] == name or name in entry["aliases"])',
        '(entry["name"] == name or entry["aliases"][:1] == [name])'))),
]

RIGHT_10 = {
    "regex": r'''
        import re
        LINE = re.compile(r"^\s*(?P<name>\S+)\s+(?P<port>\d+)/(?P<proto>\w+)(?P<aliases>[^#]*)(?:#(?P<comment>.*))?$")
        def parse_services(text):
            out = []
            for line in text.splitlines():
                if not line.split("#", 1)[0].strip():
                    continue
                m = LINE.match(line)
                out.append({"name": m["name"], "port": int(m["port"]), "protocol": m["proto"],
                            "aliases": m["aliases"].split(), "comment": (m["comment"] or "").strip()})
            return out
        def port_of(entries, name, protocol):
            return next((e["port"] for e in entries if e["protocol"] == protocol and
                         (name == e["name"] or name in e["aliases"])), None)
        ''',
    "find-and-resplit": r'''
        import re
        def parse_services(text):
            result = []
            for raw in text.split("\n"):
                hash_at = raw.find("#")
                body, comment = (raw, "") if hash_at < 0 else (raw[:hash_at], raw[hash_at + 1:])
                fields = [f for f in re.split(r"[ \t]+", body) if f]
                if not fields:
                    continue
                number, protocol = fields[1].split("/")
                result.append(dict(name=fields[0], port=int(number), protocol=protocol, aliases=list(fields[2:]),
                                   comment=comment.strip()))
            return result
        def port_of(entries, name, protocol):
            index = {}
            for e in reversed(entries):  # reversed: the first entry wins
                for n in [e["name"], *e["aliases"]]:
                    index[(n, e["protocol"])] = e["port"]
            return index.get((name, protocol))
        ''',
}


@pytest.mark.parametrize("grade_id,label,answer", WRONG_10, ids=[w[1] for w in WRONG_10])
def test_exercise_10_each_check_catches_its_own_wrong_answer(grade_id, label, answer):
    """Does each services-file check fail the wrong answer meant for it, showing got and expected?"""
    message = fails_at(grade_id, answer, label)
    if "port_of" in label or "entry" in label:
        assert "got:" in message and "expected:" in message, message


def test_exercise_10_parser_that_follows_the_prompt_does_not_crash_on_the_hidden_input():
    """Does a parser written from the prompt's rules alone pass both cells (indented comments included)?"""
    answer = r'''
        def parse_services(text):
            entries = []
            for line in text.splitlines():
                body = line.split("#", 1)[0]                  # rule: from the first # to the end is a comment
                comment = line.split("#", 1)[1].strip() if "#" in line else ""
                fields = body.split()
                if len(fields) == 0:                          # rule: no fields -> skip
                    continue
                port, protocol = fields[1].split("/")
                entries.append({"name": fields[0], "port": int(port), "protocol": protocol,
                                "aliases": fields[2:], "comment": comment})
            return entries
        def port_of(entries, name, protocol):
            for e in entries:
                if e["protocol"] == protocol and (e["name"] == name or name in e["aliases"]):
                    return e["port"]
            return None
        '''
    for grade_id in EXERCISE[10]:
        run(grade_id, answer)


# -- exercise 11 ---------------------------------------------------------------------------------
REF11 = "q03_11_classify"
WRONG_11 = [
    ("port_range(50000)", edit(solution(REF11), ('    if port <= 49151:\n        return "registered"\n    return "dynamic"',
                                            '    return "registered"'))),
    ("boundary port_range(1023)", edit(solution(REF11), ("if port <= 1023:", "if port < 1023:"))),
    ("port_range(True) must raise ValueError", edit(solution(REF11), ("isinstance(port, bool) or ", ""))),
    ("port_range('80') must raise ValueError", edit(solution(REF11), (
        '    if isinstance(port, bool) or not isinstance(port, int):\n        raise ValueError(f"a port number is an int, not {port!r}")\n',
        '    if isinstance(port, bool):\n        raise ValueError("bool")\n'))),
    ("port_range(65536) must raise ValueError", edit(solution(REF11), ("if not 0 <= port <= 65535:", "if port < 0:"))),
]
RIGHT_11 = {
    "bisect and a ValueError subclass": '''
        import bisect
        class NotAPort(ValueError):
            pass
        def port_range(port):
            if type(port) is not int or not 0 <= port < 2**16:
                raise NotAPort(port)
            return ["reserved", "well-known", "registered", "dynamic"][bisect.bisect_right([0, 1, 1024, 49152], port) - 1]
        ''',
    "match statement": '''
        def port_range(port):
            match port:
                case bool():
                    raise ValueError("a bool is not a port")
                case 0:
                    return "reserved"
                case int() if 1 <= port <= 1023:
                    return "well-known"
                case int() if 1024 <= port <= 49151:
                    return "registered"
                case int() if 49152 <= port <= 65535:
                    return "dynamic"
            raise ValueError(f"not a port number: {port!r}")
        ''',
}


@pytest.mark.parametrize("label,answer", WRONG_11, ids=[w[0] for w in WRONG_11])
def test_exercise_11_each_check_catches_its_own_wrong_answer(label, answer):
    """Does each classification check (ranges, boundaries, types) fail the wrong answer meant for it?"""
    fails_at(REF11, answer, label)


def test_exercise_11_wrong_exception_type_is_named_in_the_message():
    """Is a TypeError where ValueError was asked reported as such (compared by isinstance, not text)?"""
    message = fails_at(REF11, WRONG_11[3][1], "must raise ValueError")
    assert "TypeError" in message, message


# -- exercise 12 ---------------------------------------------------------------------------------
REF12 = "q03_12_ephemeral"
WRONG_12 = [
    ("the kernel's range", edit(solution(REF12), ("return int(low), int(high)", "return 49152, 65535"))),
    ("outside the kernel's range", edit(solution(REF12), ("return sock.getsockname()[1]", "return sock.getsockname()"))),
    # the server's port is also in the ephemeral range (it bound port 0): only the server's log tells
    ("the server saw no connection from port", edit(solution(REF12), ("sock.getsockname()[1]", "sock.getpeername()[1]"))),
    ("was still open after you returned", edit(solution(REF12), (
        "    with socket.create_connection(address, timeout=2) as sock:\n        return sock.getsockname()[1]",
        "    sock = socket.create_connection(address, timeout=2)\n    return sock.getsockname()[1]"))),
]
RIGHT_12 = {
    "plain socket, close in finally": '''
        import pathlib
        def kernel_port_range():
            knob = pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range")
            if not knob.exists():
                return (49152, 65535)
            low, high = map(int, knob.read_text().split())
            return (low, high)
        def my_ephemeral_port(address):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(2)
            try:
                sock.connect(address)
                return sock.getsockname()[1]
            finally:
                sock.close()
        ''',
    "tuple unpacking, shutdown then close": '''
        def kernel_port_range():
            try:
                with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                    text = f.read()
            except FileNotFoundError:
                return 49152, 65535
            return tuple(int(x) for x in text.split())
        def my_ephemeral_port(address):
            with socket.socket() as s:
                s.settimeout(3)
                s.connect(address)
                _, port = s.getsockname()
                s.shutdown(socket.SHUT_RDWR)
            return port
        ''',
}


@pytest.mark.parametrize("label,answer", WRONG_12, ids=[w[0] for w in WRONG_12])
def test_exercise_12_each_check_catches_its_own_wrong_answer(label, answer):
    """Does each ephemeral-port check (range, the server's view, closing) fail the wrong answer meant for it?"""
    fails_at(REF12, answer, label)


# -- exercise 13 ---------------------------------------------------------------------------------
REF13 = "q03_13_bind_errors"
ROBUST13 = "q03_13_bind_errors_robust"


def _privileged_outcome() -> str:
    from socklab.testing.held import bindable_port
    with bindable_port(privileged=True) as (_, _, outcome):
        return outcome


def _wrong_13_privileged() -> str:
    """Claims the opposite of what this kernel does below 1024 (so it fails for root and non-root)."""
    claim = '"EACCES"' if _privileged_outcome() == "ok" else '"ok"'
    return edit(solution(REF13), ("    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n",
                            f"    if 0 < port < 1024:\n        return {claim}\n"
                            "    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"))


WRONG_13 = [
    (REF13, "bind a port in use", lambda: edit(solution(REF13), ("return errno.errorcode.get(exc.errno, str(exc.errno))",
                                                           "return str(exc.errno)"))),
    (REF13, "port 0 (the kernel picks)", lambda: edit(solution(REF13), ('return "ok"', 'return "OK"'))),
    # binds every interface instead of `host`: collides with the number the test holds on 127.0.0.1
    (REF13, "a free port", lambda: edit(solution(REF13), ("sock.bind((host, port))", 'sock.bind(("", port))'))),
    (ROBUST13, "a port below 1024", _wrong_13_privileged),
    (ROBUST13, "an address this machine does not have", lambda: edit(solution(REF13), (
        "return errno.errorcode.get(exc.errno, str(exc.errno))",
        'return "EADDRINUSE" if exc.errno == errno.EADDRINUSE else "EACCES"'))),
    # "a port is a port": also tries UDP on the same number
    (ROBUST13, "TCP bind on a number UDP uses", lambda: edit(solution(REF13), (
        "        sock.bind((host, port))\n",
        "        sock.bind((host, port))\n        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:\n"
        "            u.bind((host, port))\n"))),
    (ROBUST13, "binding the same address again after try_bind() returned", lambda: edit(solution(REF13), (
        "    finally:\n        sock.close()\n", ""), ("        return errno.errorcode", "        sock.close()\n        return errno.errorcode"))),
]
RIGHT_13 = {
    "with block and errorcode[]": '''
        def try_bind(host, port):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind((host, port))
                except OSError as e:
                    return errno.errorcode[e.errno]
            return "ok"
        ''',
    "exception classes, contextlib.closing": '''
        import contextlib
        def try_bind(host, port):
            with contextlib.closing(socket.socket()) as s:
                try:
                    s.bind((host, port))
                except PermissionError:
                    return "EACCES"
                except OSError as e:
                    if e.errno == errno.EADDRINUSE:
                        return "EADDRINUSE"
                    return errno.errorcode.get(e.errno, "UNKNOWN")
                else:
                    return "ok"
        ''',
}


@pytest.mark.parametrize("grade_id,label,make", WRONG_13, ids=[w[1] for w in WRONG_13])
def test_exercise_13_each_check_catches_its_own_wrong_answer(grade_id, label, make):
    """Does each bind check (in use, port 0, held port, privileged, absent address, UDP, close) catch its wrong answer?"""
    from socklab.testing.probes import bind_outcome

    if label.startswith("an address") and bind_outcome("192.0.2.1", 0) == "ok":
        strict_skip("ip_nonlocal_bind=1: binding 192.0.2.1 succeeds, so every answer gets 'ok' there")
    fails_at(grade_id, make(), label)


def test_exercise_13_never_closing_fails_even_where_port_zero_and_errors_pass():
    """Does code that never closes its socket fail the robustness cell (the 'did you close' check really bites)?"""
    never = edit(solution(REF13), ("    finally:\n        sock.close()\n", ""))
    run(REF13, never)  # the basic cell cannot see it: port 0 and failed binds hold nothing
    fails_at(ROBUST13, never, "binding the same address again")


# -- exercise 14 ---------------------------------------------------------------------------------
REF14 = "q03_14_scanner"
WRONG_14 = [
    ("open ports", edit(solution(REF14), ("found.add(port)", "pass"), ("        except OSError:\n            pass",
                                                                 "        except OSError:\n            found.add(port)"))),
    ("a shuffled list with duplicates", edit(solution(REF14), ("for port in set(port_list):", "for port in port_list:"),
                                                 ("found = set()", "found = []"), ("found.add(port)", "found.append(port)"),
                                                 ("return sorted(found)", "return found"))),
    ("when no port is open", edit(solution(REF14), ("return sorted(found)", "return sorted(found) or None"))),
    ("did not finish within 3 s", '''
        def scan(host, port_list, timeout):
            found = set()
            for port in set(port_list):
                sock = socket.socket()
                try:
                    if sock.connect_ex((host, port)) == 0:   # no timeout: waits as long as the kernel does
                        found.add(port)
                finally:
                    sock.close()
            return sorted(found)
        '''),
    ("a port that never answers counts as closed", edit(solution(REF14), (
        "        except OSError:\n            pass",
        "        except TimeoutError:\n            found.add(port)\n        except OSError:\n            pass"))),
]
RIGHT_14 = {
    "selectors, all connects at once": '''
        import selectors, time
        def scan(host, port_list, timeout):
            sel, found = selectors.DefaultSelector(), set()
            for port in set(port_list):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex((host, port))
                sel.register(s, selectors.EVENT_WRITE, port)
            deadline = time.monotonic() + timeout
            try:
                while sel.get_map() and (left := deadline - time.monotonic()) > 0:
                    for key, _ in sel.select(left):
                        if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                            found.add(key.data)
                        sel.unregister(key.fileobj)
                        key.fileobj.close()
            finally:
                for key in list(sel.get_map().values()):
                    key.fileobj.close()
                sel.close()
            return sorted(found)
        ''',
    "thread pool, connect_ex with settimeout": '''
        from concurrent.futures import ThreadPoolExecutor
        def scan(host, port_list, timeout):
            def is_open(port):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.settimeout(timeout)
                    try:
                        return s.connect_ex((host, port)) == 0
                    except TimeoutError:
                        return False
            unique = sorted(set(port_list))
            with ThreadPoolExecutor(max_workers=8) as pool:
                return [p for p, ok in zip(unique, pool.map(is_open, unique)) if ok]
        ''',
}


@pytest.mark.parametrize("label,answer", WRONG_14, ids=[w[0] for w in WRONG_14])
def test_exercise_14_each_check_catches_its_own_wrong_answer(label, answer):
    """Does each scanner check (open, duplicates, none open, a port that stalls) catch its wrong answer?"""
    fails_at(REF14, answer, label)


def test_exercise_14_scanner_that_only_catches_refusals_is_told_about_timeouts():
    """Does a scanner that lets TimeoutError escape fail on the stalled port with the TimeoutError named?"""
    answer = edit(solution(REF14), ("        except OSError:", "        except ConnectionRefusedError:"))
    message = fails_at(REF14, answer, "raised an exception")
    assert "TimeoutError" in message and "catch TimeoutError too" in message, message


# -- correct answers in other styles ---------------------------------------------------------------
RIGHT = [(10, name, a) for name, a in RIGHT_10.items()] + [(11, name, a) for name, a in RIGHT_11.items()] + \
        [(12, name, a) for name, a in RIGHT_12.items()] + [(13, name, a) for name, a in RIGHT_13.items()] + \
        [(14, name, a) for name, a in RIGHT_14.items()]


@pytest.mark.parametrize("exercise,style,answer", RIGHT, ids=[f"{e}-{s}" for e, s, _ in RIGHT])
def test_correct_answers_in_other_styles_pass_every_cell_of_their_exercise(exercise, style, answer):
    """Does a correct answer written differently from the reference pass all of its exercise's cells?"""
    for grade_id in EXERCISE[exercise]:
        run(grade_id, answer)


def test_every_03_3_grade_cell_is_covered_here():
    """Are all of 03.3's grade cells exercised by a wrong answer in this file?"""
    graded = {g for g, c in CELLS.items() if g and g.startswith("q03_1") and not g.endswith("_answer")}
    covered = {g for g, _, _ in WRONG_10} | {REF11, REF12, REF14} | {g for g, _, _ in WRONG_13}
    assert graded == covered == {g for ids in EXERCISE.values() for g in ids}


def test_exercise_10_parser_that_skips_only_lines_starting_with_hash_is_told_where_it_crashed():
    """Does a parser that skips only lines *starting* with '#' (against the prompt) fail with its own line shown?"""
    answer = edit(solution(REF10), ("        if not fields:\n", "        if not line or line.startswith(\"#\"):\n"))
    run(REF10, answer)  # SAMPLE has no indented comment: the basic cell passes
    message = fails_at("q03_10_services_robust", answer, "parse_services() raised an exception")
    assert "IndexError" in message and "parse_services() 줄/line" in message, message  # the line that crashed

"""A chat room over TCP: every line one member sends goes to every *other* member, in order.

The protocol (what chapter 6's chat server speaks):

1. A client connects; once the server has added it to the room it sends ``b"welcome\\n"``.
2. Each line the client sends (bytes up to and including ``b"\\n"``) is sent, unchanged, to every
   other member, and never back to its sender. Lines from one sender arrive in the order sent.
3. A client leaves by closing. An unfinished line (no ``\\n`` yet) of a client that leaves is
   dropped; the server closes its end of that connection and carries on with the others.

>>> server = chat_server(name="doc-chat")
>>> a, b = ChatClient(server.address), ChatClient(server.address)
>>> a.send(b"hi from a\\n"); b.read_line()
b'hi from a\\n'
>>> a.close(); b.close(); server.stop()
"""
from __future__ import annotations

import socket
import threading
import time

from socklab.concurrency import server_holds, unread_bytes, wait_until
from socklab.testing.checks import Scenario
from socklab.testing.messages import ExerciseFailed

__all__ = ["WELCOME", "chat_server", "ChatClient", "chat_room", "ChatError"]

WELCOME = b"welcome\n"
LEFTOVER = b"never finis"  # what the member who leaves mid-line had started to say


class ChatError(ExerciseFailed):
    """A chat check failed (ko/en message and hint, like every ExerciseFailed)."""


def chat_server(*, name: str | None = "chat", timeout: float = 30.0):
    """A reference chat server (thread per member) following the protocol above, for demos."""
    from socklab.servers import serve_tcp

    members: list[socket.socket] = []
    lock = threading.Lock()

    def relay(line: bytes, sender: socket.socket) -> None:
        with lock:
            others = [m for m in members if m is not sender]
        for m in others:
            try:
                m.sendall(line)
            except OSError:
                pass  # that member is leaving; its own thread cleans up

    def member(conn: socket.socket, _peer: tuple) -> None:
        with lock:
            members.append(conn)
        conn.sendall(WELCOME)
        buffer = b""
        try:
            while data := conn.recv(4096):
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    relay(line + b"\n", conn)
        finally:
            with lock:
                members.remove(conn)
    return serve_tcp(member, name=name, timeout=timeout)


class ChatClient:
    """One scripted room member: connects, waits for the welcome, sends and reads whole lines."""

    def __init__(self, address, *, timeout: float = 2.0, label: str | None = None) -> None:
        from socklab import clients
        self.address = clients._address(address)
        self.timeout = timeout
        self.sock = clients._connect(self.address, timeout)
        self.me = self.sock.getsockname()[:2]
        self.label = label or f"client {self.me[1]}"
        self.sent: list[bytes] = []
        self._buffer = b""
        first = self.read_line(what="welcome")
        if first != WELCOME:
            raise ChatError(f"{self.label}가 welcome 대신 {first!r}을(를) 받았습니다",
                            f"{self.label} got {first!r} instead of the welcome line",
                            hint_ko=r"방에 추가한 뒤 b'welcome\n'을 보내세요",
                            hint_en=r"send b'welcome\n' once the client is in the room")

    def send(self, data: bytes) -> None:
        """Send raw bytes (whole lines, several lines or a piece of one)."""
        self.sock.sendall(data)
        self.sent += [line + b"\n" for line in data.split(b"\n")[:-1]]

    def wait_read(self) -> bool:
        """Wait until the kernel shows the server has recv()-ed everything we sent."""
        return wait_until(lambda: unread_bytes(self.address, self.me) == 0, self.timeout)

    def read_line(self, *, what: str = "a line") -> bytes:
        """The next whole line from the server; ChatError if none comes within the timeout."""
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            data = None
            if left > 0:
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(4096)
                except TimeoutError:
                    data = None
                except ConnectionResetError:
                    data = b""
            if not data:
                why = "연결이 닫혔습니다 / the connection was closed" if data == b"" else \
                    f"{self.timeout:g}초 동안 오지 않았습니다 / nothing came within {self.timeout:g} s"
                raise ChatError(f"{self.label}가 {what}을(를) 받지 못했습니다", f"{self.label} never got {what}",
                                detail=f"{why}; 받다 만 바이트 / partial bytes: {self._buffer!r}",
                                hint_ko="한 클라이언트가 보낸 줄을 다른 모든 클라이언트에게 보내세요",
                                hint_en="send each line from one client to every other client")
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"

    def expect(self, lines: list[bytes], *, sender: str) -> None:
        """Read ``len(lines)`` lines; they must be exactly `lines`, in order."""
        got = []
        for want in lines:
            line = self.read_line(what=f"{sender}의 줄 / {sender}'s line {want!r}")
            got.append(line)
            if line in self.sent:
                raise ChatError(f"{self.label}가 자기가 보낸 줄을 돌려받았습니다",
                                f"{self.label} got its own line back", detail=f"{line!r}",
                                hint_ko="보낸 사람에게는 다시 보내지 마세요", hint_en="never send a line back to its sender")
            if LEFTOVER in line and LEFTOVER not in want:
                raise ChatError("나간 클라이언트의 끝나지 않은 줄을 다른 클라이언트에게 보냈습니다",
                                "the unfinished line of a client that left was relayed", detail=f"{line!r}",
                                hint_ko="연결이 닫힐 때 버퍼에 남은 조각(b'\\n' 없음)은 버리세요",
                                hint_en="drop what is left in a leaving client's buffer (no b'\\n' yet)")
            if line != want:
                unordered = line in lines  # one of the expected lines, in the wrong place
                raise ChatError(f"{self.label}가 {sender}의 줄을 {'다른 순서로' if unordered else '잘못'} 받았습니다",
                                f"{self.label} got {sender}'s lines {'out of order' if unordered else 'wrong'}",
                                detail=f"받은 값 / got:      {line!r}\n기대한 값 / expected: {want!r}",
                                hint_ko="받은 데이터를 줄(b'\\n')로 나누어 완성된 줄만, 받은 순서대로 보내세요",
                                hint_en="split what you receive at b'\\n' and relay whole lines only, in order")

    def close(self) -> None:
        self.sock.close()


def chat_room(n: int = 3, *, lines: int = 2, burst: bool = False, split: bool = False,
              leaver: bool = False) -> Scenario:
    """`n` members join one by one; each sends `lines` lines (``burst``: in one send) that every
    other member must get in order and the sender must not; ``split``: a line arrives in two pieces
    with another member's line in between; ``leaver``: a member leaves mid-line."""
    if n < 3 and (split or leaver):
        raise ValueError("split and leaver checks need at least 3 members")

    def action(address, timeout):
        room: list[ChatClient] = []
        try:
            for i in range(n):
                room.append(ChatClient(address, timeout=timeout, label=f"client {i + 1}"))
            for s, sender in enumerate(room):
                said = [b"client %d says %d\n" % (s + 1, j + 1) for j in range(lines)]
                if burst:
                    sender.send(b"".join(said))
                else:
                    for line in said:
                        sender.send(line)
                for other in room:
                    if other is not sender:
                        other.expect(said, sender=sender.label)
            if split:
                a, b = room[0], room[1]
                a.send(b"client 1 sp")
                a.wait_read()  # the server surely holds the first piece before b's line is sent
                b.send(b"client 2 in between\n")
                for other in room:
                    if other is not b:
                        other.expect([b"client 2 in between\n"], sender=b.label)
                a.send(b"lits a line\n")
                for other in room[1:]:
                    other.expect([b"client 1 splits a line\n"], sender=a.label)
            if leaver:
                gone = room.pop()
                gone.send(LEFTOVER)
                gone.wait_read()
                gone.close()
                if not wait_until(lambda: not server_holds(address, gone.me), timeout):
                    raise ChatError(f"{gone.label}가 나갔는데 서버가 그 연결을 닫지 않았습니다",
                                    f"{gone.label} left but the server did not close its connection",
                                    hint_ko="recv()가 b''를 돌려주면 그 연결을 방에서 빼고 close()하세요",
                                    hint_en="when recv() returns b'', remove that connection from the room and close() it")
            # Last a sync line each way: anything sent to a member before it (an echo, a fragment
            # of a member who left) is read first and caught by expect().
            first, last = room[0], room[-1]
            last.send(b"last member syncs\n")
            for other in room[:-1]:
                other.expect([b"last member syncs\n"], sender=last.label)
            first.send(b"first member syncs\n")
            for other in room[1:]:
                other.expect([b"first member syncs\n"], sender=first.label)
        finally:
            for member in room:
                member.close()
        return []
    label = f"chat room of {n}" + "".join(f", {w}" for w, on in (("burst", burst), ("split line", split),
                                                                 ("one leaves mid-line", leaver)) if on)
    return Scenario(label, n, action, crash_first=False)

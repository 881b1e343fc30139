"""A minimal DAP client for tests: what an editor's debugger does when it attaches.

VS Code's Python Debugger extension cannot be installed here (no marketplace), so
the Debug run's attach is tested over DAP itself: Content-Length framed JSON on a
TCP socket, requests answered by id, events queued.
"""

from __future__ import annotations

import json
import socket
from typing import Any


class DapClient:
    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.seq = 0
        self.events: list[dict[str, Any]] = []
        self.responses: dict[int, dict[str, Any]] = {}

    def close(self) -> None:
        self.sock.close()

    def send(self, command: str, **arguments: Any) -> int:
        self.seq += 1
        body = json.dumps(
            {"seq": self.seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _read(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = int(head.split(b":")[1])
        while len(rest) < length:
            self.buffer = head + b"\r\n\r\n" + rest
            self._fill()
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = rest[length:]
        msg = json.loads(rest[:length])
        if msg["type"] == "event":
            self.events.append(msg)
        elif msg["type"] == "response":
            self.responses[msg["request_seq"]] = msg
        return msg

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError(f"the debug adapter closed the connection; events: {self.events}")
        self.buffer += data

    def response(self, seq: int) -> dict[str, Any]:
        while seq not in self.responses:
            self._read()
        answer = self.responses.pop(seq)
        assert answer["success"], answer
        return answer.get("body") or {}

    def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        return self.response(self.send(command, **arguments))

    def event(self, name: str) -> dict[str, Any]:
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i).get("body") or {}
            self._read()

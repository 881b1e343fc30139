"""Hand-framed JSON-RPC, for what a well-behaved client library cannot send."""

from __future__ import annotations

import json
import os
from typing import Any, BinaryIO


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(**fields: Any) -> bytes:
    return frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())


def read_message(stream: BinaryIO) -> dict[str, Any]:
    length = None
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("server closed the stream")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    assert length is not None, "a message without Content-Length"
    return json.loads(stream.read(length))


def read_response(stream: BinaryIO, msg_id: int) -> dict[str, Any]:
    """Skip notifications and server requests until the response to ``msg_id``."""
    while True:
        msg = read_message(stream)
        if msg.get("id") == msg_id and "method" not in msg:
            return msg


def initialize(root: str, msg_id: int = 1) -> bytes:
    return message(
        id=msg_id,
        method="initialize",
        params={
            "processId": os.getpid(),
            "rootUri": f"file://{root}",
            "capabilities": {},
            "initializationOptions": {"pool": 1},
        },
    )

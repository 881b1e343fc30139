"""Server: LSP base-protocol framing and the message loop.

pygls's loop skips any header line it does not know (so an HTTP ``POST`` with
a ``text/plain`` body reads as LSP), answers nothing to a body that is not
JSON, and once a ``Content-Length`` overstates its body it reads the next
message as the rest of this one and stays out of step. Here: only
``Content-Length`` and ``Content-Type`` headers exist (a strict reader, used
before a TCP client has authenticated, refuses anything else); a body that
does not parse gets ``-32700`` (``-32600`` if it is JSON but no JSON-RPC
message) and, if a header is found inside it, reading resumes there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from pygls.protocol import JsonRPCProtocol

from . import pygls_compat

log = logging.getLogger(__name__)

#: Largest body the server reads (a didOpen of a big file fits; a bogus length does not).
MAX_BODY = 256 * 1024 * 1024
HEADER = b"content-length"
KNOWN_HEADERS = (HEADER, b"content-type")
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


class FramingError(ValueError):
    """Bytes that are not LSP framing (a stray line, an HTTP request, a bad length)."""


class Framer:
    """Reads whole message bodies from an asyncio reader; can take bytes back."""

    def __init__(self, reader: Any, max_body: int = MAX_BODY) -> None:
        self._reader = reader
        self._pending = bytearray()
        self.max_body = max_body

    async def _readline(self) -> bytes:
        try:
            return await self._readline_buffered()
        except asyncio.IncompleteReadError as exc:
            return exc.partial
        except FramingError:
            raise
        except ValueError as exc:  # asyncio's "separator not found, chunk exceeds the limit"
            raise FramingError("a header line longer than any LSP header") from exc

    async def _readline_buffered(self) -> bytes:
        if self._pending:
            i = self._pending.find(b"\n")
            if i >= 0:
                line = bytes(self._pending[: i + 1])
                del self._pending[: i + 1]
                return line
            head = bytes(self._pending)
            self._pending.clear()
            return head + await self._reader.readline()
        return await self._reader.readline()

    async def _readexactly(self, n: int) -> bytes:
        head = bytes(self._pending[:n])
        del self._pending[:n]
        if len(head) < n:
            head += await self._reader.readexactly(n - len(head))
        return head

    def unread(self, data: bytes) -> None:
        self._pending[:0] = data

    async def next(self) -> bytes | None:
        """The next body; None at the end of the stream; FramingError for a bad header."""
        length: int | None = None
        try:
            while True:
                line = await self._readline()
                if not line:
                    return None
                if not line.strip():
                    if length is None:
                        continue  # a stray blank line between messages
                    break
                name, sep, value = line.partition(b":")
                key = name.strip().lower()
                if not sep or key not in KNOWN_HEADERS:
                    raise FramingError(f"not an LSP header: {line[:60]!r}")
                if key == HEADER:
                    try:
                        length = int(value.strip())
                    except ValueError:
                        raise FramingError(f"bad Content-Length: {line[:60]!r}") from None
                    if not 0 <= length <= self.max_body:
                        raise FramingError(f"Content-Length {length} outside 0..{self.max_body}")
            return await self._readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None


def send_error(protocol: JsonRPCProtocol, code: int, message: str, msg_id: Any = None) -> None:
    """An error response; ``"id": null`` is spelled out, as JSON-RPC wants for -32700."""
    error = {"code": code, "message": message}
    pygls_compat.send_raw(protocol, {"jsonrpc": "2.0", "id": msg_id, "error": error})


async def message_loop(
    framer: Framer,
    protocol: JsonRPCProtocol,
    stop: threading.Event,
    error_handler: Callable[[Exception, type], Any] | None = None,
) -> int | None:
    """Dispatch messages until the stream ends; returns an ``exit``'s code, if any."""
    while not stop.is_set():
        try:
            body = await framer.next()
        except FramingError as exc:
            log.warning("skipped a line that is not LSP framing: %s", exc)
            continue  # the junk line is gone; the next header puts us back in step
        if body is None:
            return None
        try:
            dispatch(protocol, framer, body)
        except SystemExit as exc:  # pygls's exit handler
            return int(exc.code or 0)
        except Exception as exc:
            log.exception("unable to handle a message")
            if error_handler is not None:
                from pygls.exceptions import JsonRpcException

                error_handler(exc, JsonRpcException)
    return None


def dispatch(protocol: JsonRPCProtocol, framer: Framer, body: bytes) -> None:
    """Parse and hand one body to the protocol; answer what cannot be parsed."""
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        send_error(protocol, PARSE_ERROR, f"Parse error: {exc}")
        at = body.find(b"Content-Length:")
        if at > 0:  # an overstated length swallowed the next message: read it again
            framer.unread(body[at:])
        return
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        msg_id = data.get("id") if isinstance(data, dict) else None
        send_error(protocol, INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message", msg_id)
        return
    message = protocol.structure_message(data)
    protocol.handle_message(message)

"""Framing and codec for the channel.

A frame is a 4-byte big-endian length and a msgpack map. Plain data stays
msgpack; any other Python object (a user's callable, an example's value) rides
as cloudpickle bytes in ext type 1, so the twin can run whatever the caller
hands it, as Glamorous Toolkit's ``runRemotely`` does.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import cloudpickle
import msgpack

HEADER = struct.Struct("!I")
MAX_FRAME = 512 * 1024 * 1024
PICKLED = 1


class ChannelClosed(EOFError):
    """The other end went away (EOF or a reset)."""


class FrameError(ValueError):
    """A frame that cannot be decoded: the channel can no longer be trusted."""


def _default(obj: Any) -> msgpack.ExtType:
    return msgpack.ExtType(PICKLED, cloudpickle.dumps(obj))


def _ext_hook(code: int, data: bytes) -> Any:
    if code == PICKLED:
        return cloudpickle.loads(data)
    return msgpack.ExtType(code, data)


def encode(msg: dict[str, Any]) -> bytes:
    body = msgpack.packb(msg, default=_default, use_bin_type=True, datetime=False)
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    try:
        msg = msgpack.unpackb(body, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several types; all mean the same here
        raise FrameError(f"undecodable frame: {exc}") from exc
    if not isinstance(msg, dict) or "k" not in msg:
        raise FrameError(f"frame is not a message map: {type(msg).__name__}")
    return msg


class FrameReader:
    """Blocking reader of whole frames from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def _exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self._sock.recv(min(n - len(buf), 1 << 20))
            except (ConnectionResetError, OSError) as exc:
                raise ChannelClosed(str(exc)) from exc
            if not chunk:
                raise ChannelClosed("end of stream")
            buf += chunk
        return bytes(buf)

    def read(self) -> dict[str, Any]:
        (size,) = HEADER.unpack(self._exactly(HEADER.size))
        if size > MAX_FRAME:
            raise FrameError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
        return decode(self._exactly(size))


class FrameWriter:
    """Thread-safe writer: one lock keeps frames whole and in send order."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.lock = threading.Lock()

    def write(self, msg: dict[str, Any]) -> None:
        data = encode(msg)
        with self.lock:
            self.write_raw(data)

    def write_raw(self, data: bytes) -> None:
        """Send pre-encoded bytes; the caller holds :attr:`lock` when order matters."""
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise ChannelClosed(str(exc)) from exc

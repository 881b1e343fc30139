"""Shared (server, twin and run children): framing and codec for the channel.

A frame is a 4-byte big-endian length and a msgpack map. Plain data stays
msgpack; any Python ``str`` is carried, lone surrogates included
(``surrogatepass``: an editor may send ``"\\ud800"``, a file name may not be
UTF-8). A non-plain object (a user's callable, a ``run_remotely`` value) rides
as cloudpickle bytes in ext type 1, but only a reader that asks for it
(``pickles=True``: the twin reading its caller) unpickles: the LSP server and
the readers of run children get a :class:`Pickled` they never load, so no
test can get code run in the server by sending a crafted pickle.
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass
from typing import Any

import cloudpickle
import msgpack

HEADER = struct.Struct("!I")
MAX_FRAME = 512 * 1024 * 1024
PICKLED = 1
#: How str is carried both ways: any Python str survives the trip unchanged.
UNICODE_ERRORS = "surrogatepass"


class ChannelClosed(EOFError):
    """The other end went away (EOF or a reset)."""


class ChannelTimeout(TimeoutError):
    """A read did not complete in time (e.g. a frame stopped half way)."""


class FrameError(ValueError):
    """A frame that cannot be decoded: the channel can no longer be trusted."""


class FrameTooBig(ValueError):
    """A message too big for one frame; refused before anything is sent."""


@dataclass(frozen=True, slots=True)
class Pickled:
    """Pickled bytes a plain reader received and did not load."""

    data: bytes

    def __repr__(self) -> str:
        return f"<pickled object, {len(self.data)} bytes, not loaded>"


def _default(obj: Any) -> msgpack.ExtType:
    if isinstance(obj, Pickled):  # relayed as it came, still unloaded
        return msgpack.ExtType(PICKLED, obj.data)
    return msgpack.ExtType(PICKLED, cloudpickle.dumps(obj))


def _load_ext(code: int, data: bytes) -> Any:
    if code == PICKLED:
        return cloudpickle.loads(data)
    return msgpack.ExtType(code, data)


def _keep_ext(code: int, data: bytes) -> Any:
    if code == PICKLED:
        return Pickled(data)
    return msgpack.ExtType(code, data)


def encode(msg: dict[str, Any], limit: int | None = None) -> bytes:
    """One frame; :class:`FrameTooBig` (nothing sent) when the body exceeds ``limit``
    (default :data:`MAX_FRAME`, read at the call)."""
    limit = MAX_FRAME if limit is None else limit
    body = msgpack.packb(
        msg, default=_default, use_bin_type=True, datetime=False, unicode_errors=UNICODE_ERRORS
    )
    if len(body) > limit:
        raise FrameTooBig(
            f"a {msg.get('k', '?')!r} message of {len(body)} bytes exceeds the "
            f"channel's {limit}-byte frame limit"
        )
    return HEADER.pack(len(body)) + body


def decode(body: bytes, pickles: bool = False) -> dict[str, Any]:
    """A message map; ext-1 values are loaded only with ``pickles`` (see module doc)."""
    try:
        msg = msgpack.unpackb(
            body,
            ext_hook=_load_ext if pickles else _keep_ext,
            raw=False,
            strict_map_key=False,
            unicode_errors=UNICODE_ERRORS,
        )
    except Exception as exc:  # msgpack raises several types; all mean the same here
        raise FrameError(f"undecodable frame: {exc}") from exc
    if not isinstance(msg, dict) or "k" not in msg:
        raise FrameError(f"frame is not a message map: {type(msg).__name__}")
    return msg


def unpickle(value: Any) -> Any:
    """``value`` with every :class:`Pickled` in it loaded (for the Python API's caller)."""
    if isinstance(value, Pickled):
        return cloudpickle.loads(value.data)
    if isinstance(value, list):
        return [unpickle(v) for v in value]
    if isinstance(value, dict):
        return {unpickle(k): unpickle(v) for k, v in value.items()}
    return value


class FrameReader:
    """Blocking reader of whole frames from a socket.

    ``pickles`` as in :func:`decode`. A socket timeout set by the caller holds
    for the whole frame: a frame that stops half way raises :class:`ChannelTimeout`.
    """

    def __init__(self, sock: socket.socket, pickles: bool = False) -> None:
        self._sock = sock
        self._pickles = pickles

    def _exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self._sock.recv(min(n - len(buf), 1 << 20))
            except TimeoutError as exc:  # socket.timeout
                raise ChannelTimeout(f"{len(buf)} of {n} bytes read in time") from exc
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
        return decode(self._exactly(size), self._pickles)


class FrameWriter:
    """Thread-safe writer: one lock keeps frames whole and in send order."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.lock = threading.Lock()

    def write(self, msg: dict[str, Any]) -> None:
        data = encode(msg)  # FrameTooBig here leaves the channel untouched
        with self.lock:
            self.write_raw(data)

    def write_raw(self, data: bytes) -> None:
        """Send pre-encoded bytes; the caller holds :attr:`lock` when order matters."""
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise ChannelClosed(str(exc)) from exc

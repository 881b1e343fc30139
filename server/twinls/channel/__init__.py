"""The server ⇄ twin channel: length-prefixed msgpack frames over a socket."""

from .frames import (
    ChannelClosed,
    ChannelTimeout,
    FrameError,
    FrameReader,
    FrameTooBig,
    FrameWriter,
    Pickled,
    decode,
    encode,
    unpickle,
)

__all__ = [
    "ChannelClosed",
    "ChannelTimeout",
    "FrameError",
    "FrameReader",
    "FrameTooBig",
    "FrameWriter",
    "Pickled",
    "decode",
    "encode",
    "unpickle",
]

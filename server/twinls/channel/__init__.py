"""The server ⇄ twin channel: length-prefixed msgpack frames over a socket."""

from .frames import ChannelClosed, FrameError, FrameReader, FrameWriter, decode, encode

__all__ = ["ChannelClosed", "FrameError", "FrameReader", "FrameWriter", "decode", "encode"]

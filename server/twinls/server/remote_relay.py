"""Server: a remote twin's channel, relayed frame by frame, with its paths mapped.

The pool talks to a remote twin through an ordinary socket (``TwinProcess`` does
not change): this module joins the other end of that socketpair to the twin's
execnet channel. The host's checkout lives at another path, so every frame is
decoded once on the way: outgoing, strings that *are* paths under the local root
(edit paths, call arguments, settings) are moved to the host's root (document
text is never touched); incoming, the host's root is replaced by the local one
wherever it appears (locations, run results, tracebacks). And the host's disk
holds the base, not the local disk: an edit entry that sends a twin back to
disk (``close``, ``changed``, ``created`` of a file with no open document) is
sent as an ``open`` with the local disk's text. ``Pickled`` values pass through
unloaded.
"""

from __future__ import annotations

import logging
import queue
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..shared.frames import HEADER, ChannelClosed, FrameError, FrameReader, decode, encode
from ..shared.overlay import decode_source

log = logging.getLogger(__name__)

#: Keys whose values are a document's text: never rewritten on the way out.
TEXT_KEYS = frozenset({"text", "edits"})
#: Ops that make a twin read the file from its disk again.
BACK_TO_DISK = frozenset({"close", "changed", "created"})


class PathMap:
    """Local folders ⇄ the host's checkouts of them, for plain paths and ``file://`` URIs.

    ``folders``: local folder -> its checkout on the host (one per mapped workspace
    folder); a path under none of them travels unchanged.
    """

    def __init__(self, folders: dict[str, str]) -> None:
        pairs = {(k.rstrip("/") or "/"): (v.rstrip("/") or "/") for k, v in folders.items()}
        self.folders = pairs
        self.identity = all(k == v for k, v in pairs.items())
        #: (local, remote) plain and as URIs, the longest local first: a nested folder wins.
        self._out = sorted(
            [*pairs.items(), *((_uri(k), _uri(v)) for k, v in pairs.items())],
            key=lambda p: -len(p[0]),
        )
        back = {v: k for k, v in pairs.items()} | {_uri(v): _uri(k) for k, v in pairs.items()}
        self._back = back
        # A host root followed by a character that cannot continue a name: "/srv/ws" in
        # "/srv/ws/a.py" or '"/srv/ws"', never in "/srv/ws2".
        self._in = re.compile(
            "(?:"
            + "|".join(re.escape(r) for r in sorted(back, key=len, reverse=True))
            + r")(?![\w.-])"
        )

    @staticmethod
    def _under(s: str, root: str) -> bool:
        return s == root or s.startswith(root + "/")

    def maps(self, path: str) -> bool:
        """Is this local path under a folder the host has?"""
        return any(self._under(path, local) for local in self.folders)

    def out_str(self, s: str) -> str:
        for local, remote in self._out:
            if self._under(s, local):
                return remote + s[len(local) :]
        return s

    def in_str(self, s: str) -> str:
        if not any(r in s for r in self._back):
            return s
        return self._in.sub(lambda m: self._back[m.group(0)], s)

    def out(self, value: Any) -> Any:
        """A message on its way to the host (paths moved, texts left alone)."""
        return _walk(value, self.out_str, skip=TEXT_KEYS) if not self.identity else value

    def into(self, value: Any) -> Any:
        """A message from the host (its roots replaced wherever they appear)."""
        return _walk(value, self.in_str, skip=frozenset()) if not self.identity else value

    def local_path(self, remote_path: str) -> str:
        return self.in_str(remote_path)


def _uri(path: str) -> str:
    return Path(path).as_uri()


def _walk(value: Any, fix: Callable[[str], str], skip: frozenset[str]) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        return [_walk(v, fix, skip) for v in value]
    if isinstance(value, tuple):
        return tuple(_walk(v, fix, skip) for v in value)
    if isinstance(value, dict):
        return {
            (fix(k) if isinstance(k, str) else k): (v if k in skip else _walk(v, fix, skip))
            for k, v in value.items()
        }
    return value


def to_host_entry(msg: dict[str, Any], has_document: Callable[[str], bool]) -> dict[str, Any]:
    """An edit that sends the twin back to disk carries the local disk's text instead."""
    if msg.get("k") != "edit" or msg.get("op") not in BACK_TO_DISK:
        return msg
    path = msg["path"]
    if has_document(path):  # the editor's text still rules; a later entry says otherwise
        return msg
    try:
        with open(path, "rb") as f:
            text = decode_source(f.read())
    except (OSError, ValueError, SyntaxError):
        return msg  # gone or unreadable here: the host's disk is as good a guess
    if text is None:
        return msg
    return {"k": "edit", "seq": msg["seq"], "op": "open", "path": path, "version": 0, "text": text}


class Relay:
    """Pumps frames between the pool's socket end and the host's execnet channel."""

    def __init__(
        self,
        sock: socket.socket,
        channel: Any,
        paths: PathMap,
        has_document: Callable[[str], bool],
        on_frame: Callable[[int], None] | None = None,
    ) -> None:
        self.sock = sock
        self.channel = channel
        self.paths = paths
        self.has_document = has_document
        self.on_frame = on_frame
        self._buf = bytearray()
        self._closed = threading.Event()
        #: Frames read off the pool's socket, waiting for the link: the pool never blocks
        #: on a slow or stalled link (it writes edits under its lock), memory grows instead.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def start(self) -> Relay:
        self.channel.setcallback(self._from_host, endmarker=None)
        threading.Thread(target=self._read_pool, name="remote-relay-in", daemon=True).start()
        threading.Thread(target=self._to_host, name="remote-relay-out", daemon=True).start()
        return self

    def _read_pool(self) -> None:
        reader = FrameReader(self.sock)
        try:
            while True:
                msg = reader.read()
                self._outbox.put(encode(self.paths.out(to_host_entry(msg, self.has_document))))
        except (ChannelClosed, OSError, EOFError):
            pass
        except Exception:
            log.exception("relay to the host failed")
        finally:
            self._outbox.put(None)

    def _to_host(self) -> None:
        try:
            while (frame := self._outbox.get()) is not None:
                self.channel.send(frame)
        except (OSError, EOFError) as exc:
            log.warning("relay to the host stopped: %s", exc)
        except Exception:
            log.exception("relay to the host failed")
        finally:
            try:
                self.channel.close()
            except Exception:
                pass
            self._close()

    def _from_host(self, data: Any) -> None:
        """execnet's receiver thread: bytes of frames from the twin (None: the channel closed)."""
        if data is None:
            self._close()
            return
        self._buf += data
        try:
            while len(self._buf) >= HEADER.size:
                (size,) = HEADER.unpack_from(self._buf)
                if len(self._buf) < HEADER.size + size:
                    break
                body = bytes(self._buf[HEADER.size : HEADER.size + size])
                del self._buf[: HEADER.size + size]
                frame = encode(self.paths.into(decode(body)))
                if self.on_frame is not None:
                    self.on_frame(len(frame))
                self.sock.sendall(frame)
        except (OSError, FrameError) as exc:
            log.warning("relay from the host stopped: %s", exc)
            self._close()

    def _close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

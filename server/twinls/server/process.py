"""Server: the handle on one twin; fork it, talk to it, notice when it dies."""

from __future__ import annotations

import gc
import itertools
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from ..shared import checks, reap
from ..shared.frames import ChannelClosed, FrameError, FrameReader, FrameWriter
from .promise import Promise, TwinDied

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 20.0

#: Starts a twin elsewhere (a zygote): (slot, roots, settings) -> (pid, server's socket end).
Launcher = Callable[[int, list[str], dict[str, Any]], tuple[int, socket.socket]]


class TwinProcess:
    """One forked twin and the reader thread that settles its promises."""

    _ids = itertools.count(1)

    def __init__(
        self,
        slot: int,
        roots: list[str],
        settings: dict[str, Any],
        on_exit: Callable[[TwinProcess, str], None] | None = None,
        on_resync: Callable[[TwinProcess, str, str], None] | None = None,
    ) -> None:
        self.slot = slot
        self.roots = roots
        self.settings = settings
        self.on_exit = on_exit
        self.on_resync = on_resync
        self.pid = 0
        self.started = 0.0
        self.alive = False
        self.ready = threading.Event()
        self.exited = threading.Event()  # set once the process is reaped
        self.last_pong = 0.0
        #: (CPU seconds, when) at the last look and whether it grew (``pool._working``).
        self.cpu_seen: tuple[float, float] | None = None
        self.cpu_busy = False
        self.applied_seq = 0
        self.busy = 0.0  # seconds the twin's worker has been on one call (last pong)
        self.cancelled_for = 0.0  # seconds that call has ignored its cancel
        self.exit_reason = ""
        self.hello: dict[str, Any] = {}
        self._promises: dict[int, Promise] = {}
        self._lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.writer: FrameWriter | None = None
        #: The twin's host (``remote.RemoteHost``) when it runs on another one; None: here.
        self.host: Any = None
        self.rtt = 0.0  # seconds of the last ping's round trip
        self.calls = 0  # calls (chunks of sharded ones included) it has answered
        self.chunks = 0  # of which chunks of sharded calls that finished files
        self.files_per_s = 0.0  # measured by sharded calls (``server/shards.py``)
        self._pinged: dict[int, float] = {}

    # -- life ------------------------------------------------------------------------

    def start(
        self,
        close_in_child: Callable[[], list[socket.socket]] = list,
        launcher: Launcher | None = None,
    ) -> None:
        """Start the twin: from ``launcher`` (a zygote), else forked from this process.

        ``close_in_child`` names sockets a forked child must not keep open.
        """
        if launcher is not None:
            pid, parent = launcher(self.slot, self.roots, self.settings)
            self._started(pid, parent)
            return
        parent, child = socket.socketpair()
        inherited = close_in_child()
        # The heap frozen over the fork: the twin's collections then skip (and so do not
        # copy) the pages it shares with the server and the other twins (issue 10's
        # memory: a twin's shared pages fell from 49 to 20 MiB after one search).
        gc.collect()
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the twin
            from ..twin.main import twin_main

            parent.close()
            for s in inherited:
                try:
                    s.close()
                except OSError:
                    pass
            twin_main(child, self.roots, self.settings)
        gc.unfreeze()
        child.close()
        self._started(pid, parent)

    def _started(self, pid: int, parent: socket.socket) -> None:
        self.pid = pid
        self.sock = parent
        self.writer = FrameWriter(parent)
        self.started = time.time()
        self.last_pong = time.monotonic()
        self.alive = True
        threading.Thread(
            target=self._read_loop, name=f"twin-{self.slot}-reader", daemon=True
        ).start()

    def wait_ready(self, timeout: float = HELLO_TIMEOUT) -> bool:
        return self.ready.wait(timeout)

    def stop(self, grace: float) -> None:
        """Close the channel (the twin kills its runs and exits); kill it after ``grace``."""
        self.exit_reason = self.exit_reason or "stopped"
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        if not self.exited.wait(grace):
            self.kill("did not exit when its channel closed")

    def kill(self, reason: str = "killed") -> None:
        """Kill -9 and let the reader notice; safe to call on a dead twin."""
        self.exit_reason = self.exit_reason or reason
        if self.host is not None:  # its pid is the host's: ask the host (never block here)
            if self.pid and self.alive:
                threading.Thread(target=self.host.kill, args=(self.pid,), daemon=True).start()
        elif self.pid and self.alive:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- messages -------------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        assert self.writer is not None
        self.writer.write(msg)

    def send_raw(self, data: bytes) -> None:
        """Pre-encoded frame (one encoding of an edit serves every twin)."""
        assert self.writer is not None
        with self.writer.lock:
            self.writer.write_raw(data)

    def call(
        self,
        target: str | Callable[..., Any],
        args: list[Any],
        seq: int,
        decode: Callable[[Any], Any] | None = None,
    ) -> Promise:
        call_id = next(self._ids)
        promise = Promise(call_id, self, lambda: self._cancel(call_id), decode)
        with self._lock:
            if not self.alive:
                promise._reject(TwinDied(f"twin {self.slot} is not running ({self.exit_reason})"))
                return promise
            self._promises[call_id] = promise
        try:
            self.send({"k": "call", "id": call_id, "q": target, "args": args, "seq": seq})
        except ChannelClosed as exc:
            self._settle_dead(f"channel closed: {exc}")
        except Exception as exc:  # e.g. an argument cloudpickle cannot pickle
            with self._lock:
                self._promises.pop(call_id, None)
            promise._reject(exc)
        return promise

    def _cancel(self, call_id: int) -> None:
        with self._lock:
            self._promises.pop(call_id, None)
        if self.alive:
            try:
                self.send({"k": "cancel", "id": call_id})
            except ChannelClosed:
                pass

    def ping(self, n: int) -> None:
        self._pinged = {n: time.monotonic()}
        try:
            self.send({"k": "ping", "n": n})
        except ChannelClosed:
            pass

    @property
    def in_flight(self) -> int:
        return len(self._promises)

    # -- the reader thread ------------------------------------------------------------

    def _read_loop(self) -> None:
        assert self.sock is not None
        reader = FrameReader(self.sock)
        reason = "exited"
        try:
            while True:
                msg = reader.read()
                try:
                    checks.check_message(msg, checks.TWIN_MESSAGES, "twin → server")
                except checks.MessageError as exc:  # a bug in the twin: said, then skipped
                    log.error("twin %s sent a malformed message, skipped: %s", self.slot, exc)
                    continue
                self._dispatch(msg)
        except ChannelClosed:
            reason = "exited"
        except FrameError as exc:
            reason = f"sent a malformed frame ({exc})"
            log.error("twin %s %s; killing it", self.slot, reason)
            self.kill(reason)
        except Exception as exc:  # a bug in dispatch must not leave promises hanging
            reason = f"reader failed: {exc!r}"
            log.exception("twin %s reader failed", self.slot)
            self.kill(reason)
        self._settle_dead(reason)

    def _settle_dead(self, reason: str) -> None:
        with self._lock:
            if not self.alive:
                return
            self.alive = False
            promises, self._promises = self._promises, {}
        status = ""
        if self.pid and self.host is None:  # a remote twin's pid is its host's
            ended = reap.exit_of(reap.wait(self.pid))
            status = f" ({ended})" if ended != reap.Exit() else ""
        self.exit_reason = (self.exit_reason or reason) + status
        self.exited.set()
        for p in promises.values():
            p._reject(TwinDied(f"twin {self.slot} (pid {self.pid}) died: {self.exit_reason}"))
        if self.sock is not None:
            self.sock.close()
        self.ready.set()  # wake anyone waiting for a hello that will never come
        if self.on_exit is not None:
            self.on_exit(self, self.exit_reason)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg["k"]
        if kind in ("partial", "progress", "done", "fail"):
            with self._lock:
                p = self._promises.get(msg["id"])
                if kind in ("done", "fail"):
                    self._promises.pop(msg["id"], None)
                    self.calls += 1
            if p is None:
                return  # cancelled or unknown: late answers are dropped
            if kind == "partial":
                p._add_partial(msg["items"])
            elif kind == "progress":
                p._progress(msg["done"], msg["total"], msg.get("msg"))
            elif kind == "done":
                p._resolve(msg.get("value"))
            else:
                p._reject(_remote_error(msg))
        elif kind == "pong":
            self.last_pong = time.monotonic()
            sent = self._pinged.get(msg.get("n"))  # type: ignore[arg-type]
            if sent is not None:
                self.rtt = self.last_pong - sent
            self.applied_seq = msg.get("seq", self.applied_seq)
            self.busy = float(msg.get("busy", 0.0))
            self.cancelled_for = float(msg.get("cancelled_for", 0.0))
        elif kind == "hello":
            self.hello = msg
            self.last_pong = time.monotonic()
            self.ready.set()
        elif kind == "resync":
            if self.on_resync is not None:
                self.on_resync(self, msg["path"], msg.get("reason", ""))
        elif kind == "log":
            getattr(log, msg.get("level", "info"), log.info)("twin %s: %s", self.slot, msg["msg"])
        else:
            log.warning("twin %s sent unknown kind %r", self.slot, kind)


def _remote_error(msg: dict[str, Any]) -> BaseException:
    from .promise import Cancelled, TwinError

    if msg.get("type") == "Cancelled":
        return Cancelled(msg.get("message", "cancelled"))
    return TwinError(msg.get("type", "Error"), msg.get("message", ""), msg.get("tb"))

"""The twin's side of the channel: replay edits in order, answer calls.

Three threads. The reader takes frames off the socket and answers what must
not wait behind work (ping, cancel); everything else goes, in arrival order, to
one queue that the worker drains: it applies edits and answers calls, so a call
sees every edit sent before it. A call of a *bulk* query (a search, marked
``@query(..., bulk=True)``) is handed, once the worker reaches it, to the search
lane: one more thread that runs bulk calls in order. So hover, outline, lenses
and any query not marked bulk never wait behind a search, however long one
file of it takes; the search sees every edit sent before it (and may see later
ones: the overlay's lock keeps each read whole).
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import sys
import threading
import traceback
from typing import Any, NoReturn

from ..channel import ChannelClosed, FrameError, FrameReader, FrameWriter
from ..overlay import Divergence, apply_entry
from ..queries import registry
from .context import CallContext
from .state import TwinState

PROTOCOL = 1


def prepare_process() -> None:
    """Make a freshly forked process a quiet, disk-clean twin."""
    # The server's stdout is the LSP stream: nothing from here may reach it.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the server's
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:  # a fork taken on an event loop's thread still believes that loop runs
        import asyncio.events

        asyncio.events._set_running_loop(None)
    except Exception:
        pass
    from ..overlay import jedi_io

    jedi_io.disable_disk_caches()


def twin_main(sock: socket.socket, roots: list[str], settings: dict[str, Any]) -> NoReturn:
    """Entry point of a forked twin; never returns."""
    code = 0
    try:
        prepare_process()
        serve(sock, roots, settings)
    except ChannelClosed:
        code = 0
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def serve(sock: socket.socket, roots: list[str], settings: dict[str, Any]) -> None:
    writer = FrameWriter(sock)
    reader = FrameReader(sock)
    state = TwinState(roots, settings, writer.write)
    state.channel = sock
    from ..overlay import jedi_io

    jedi_io.install(state.overlay)
    registry.load_all()
    inbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
    cancelled: set[int] = set()

    def read_loop() -> None:
        try:
            while True:
                msg = reader.read()
                kind = msg["k"]
                if kind == "ping":
                    writer.write({"k": "pong", "n": msg.get("n"), "seq": state.applied_seq})
                elif kind == "cancel":
                    ctx = state.calls.get(msg["id"])
                    if ctx is not None:
                        ctx.cancelled.set()
                    else:
                        cancelled.add(msg["id"])
                else:
                    inbox.put(msg)
        except FrameError as exc:
            try:
                writer.write({"k": "log", "level": "error", "msg": f"bad frame from server: {exc}"})
            finally:
                os._exit(3)  # framing is lost; the server restarts us from a snapshot
        except (ChannelClosed, OSError):
            os._exit(0)  # the server went away: so do we

    threading.Thread(target=read_loop, name="twin-reader", daemon=True).start()
    writer.write(
        {"k": "hello", "proto": PROTOCOL, "pid": os.getpid(), "queries": sorted(registry.QUERIES)}
    )

    lane = SearchLane(state, cancelled)
    # A run child is forked while the lane may be reading a document: fork only
    # between reads, so the child never inherits the overlay's lock held.
    lock = state.overlay.lock
    os.register_at_fork(
        before=lock.acquire, after_in_parent=lock.release, after_in_child=lock.release
    )
    stale: set[str] = set()  # diverged documents waiting for their full text
    deferred: list[dict[str, Any]] = []  # calls held until every stale document is resent

    while True:
        msg = inbox.get()
        kind = msg["k"]
        if kind == "edit":
            path = msg["path"]
            if path in stale and msg["op"] != "open":
                state.applied_seq = msg["seq"]
                continue
            try:
                apply_entry(state.overlay, msg)
                stale.discard(path)
            except Divergence as exc:
                stale.add(path)
                state.overlay.close(path)
                writer.write({"k": "resync", "path": path, "seq": msg["seq"], "reason": exc.reason})
            except Exception as exc:
                writer.write(
                    {"k": "log", "level": "error", "msg": f"edit {msg.get('seq')}: {exc!r}"}
                )
            state.applied_seq = msg["seq"]
            if not stale and deferred:
                for call in deferred:
                    lane.dispatch(call)
                deferred.clear()
        elif kind == "call":
            if stale:
                deferred.append(msg)
            else:
                lane.dispatch(msg)
        elif kind == "settings":
            state.settings.update(msg["settings"])
            state.overlay.excluded = list(state.settings.get("exclude", []))
        else:
            writer.write({"k": "log", "level": "warning", "msg": f"unknown message kind {kind!r}"})


class SearchLane:
    """The thread that runs bulk calls, so the worker stays free for interactive ones."""

    def __init__(self, state: TwinState, cancelled: set[int]) -> None:
        self.state = state
        self.cancelled = cancelled
        self.inbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def dispatch(self, msg: dict[str, Any]) -> None:
        """Run a call now on the worker (interactive), or queue it in the lane (bulk)."""
        if not registry.is_bulk(msg["q"]):
            run_call(self.state, msg, self.cancelled)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="twin-search", daemon=True)
            self._thread.start()
        self.inbox.put(msg)

    def _drain(self) -> None:
        while True:
            run_call(self.state, self.inbox.get(), self.cancelled)


def run_call(state: TwinState, msg: dict[str, Any], cancelled: set[int]) -> None:
    call_id = msg["id"]
    ctx = CallContext(call_id, state, state.send)
    if call_id in cancelled:
        cancelled.discard(call_id)
        state.send({"k": "fail", "id": call_id, "type": "Cancelled", "message": "cancelled"})
        return
    state.calls[call_id] = ctx
    target = msg["q"]
    args = msg.get("args") or []
    if isinstance(target, str):
        try:
            fn = registry.resolve(target)
        except registry.UnknownQuery as exc:
            state.calls.pop(call_id, None)
            state.send({"k": "fail", "id": call_id, "type": "UnknownQuery", "message": str(exc)})
            return
        state.complete(ctx, lambda: fn(ctx, *args))
    elif callable(target):
        state.complete(ctx, lambda: target(*args))
    else:
        state.calls.pop(call_id, None)
        state.send(
            {"k": "fail", "id": call_id, "type": "TypeError", "message": f"cannot call {target!r}"}
        )

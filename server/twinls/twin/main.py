"""Twin: its side of the channel; replay edits in order, answer calls.

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

import contextlib
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any, NoReturn

from ..shared import checks
from ..shared.entries import apply_entry
from ..shared.frames import ChannelClosed, FrameError, FrameReader, FrameWriter
from ..shared.overlay import Divergence
from . import holds
from .context import CallContext
from .gate import gate as jedi_gate
from .queries import registry
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
    # Its own process group: stopped by the server while the interactive twin answers
    # (``server/pause.py``), it is continued (and hung up) by the kernel if the server
    # dies meanwhile, its group then orphaned with a stopped member.
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    from . import asyncio_compat

    asyncio_compat.forget_running_loop()  # a fork taken on an event loop's thread
    from . import jedi_io

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
    reader = FrameReader(sock, pickles=True)  # the caller may send a callable
    state = TwinState(roots, settings, writer.write)
    state.channel = sock
    from . import jedi_io

    jedi_io.install(state.overlay)
    registry.load_all()
    inbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
    cancelled: set[int] = set()
    worker = WorkerWatch()
    lane = SearchLane(state, cancelled, worker)

    def read_loop() -> None:
        try:
            while True:
                msg = reader.read()
                try:
                    checks.check_message(msg, checks.SERVER_MESSAGES, "server → twin")
                except checks.MessageError as exc:  # said, then skipped; a call is failed
                    _refuse(writer, msg, exc)
                    continue
                kind = msg["k"]
                if kind == "ping":
                    pong = {"k": "pong", "n": msg.get("n"), "seq": state.applied_seq}
                    writer.write({**pong, **lane.health()})
                elif kind == "cancel":
                    ctx = state.calls.get(msg["id"])
                    if ctx is not None:
                        ctx.cancel()
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
            from ..run import child

            child.kill_all()  # a run in progress goes with us
            os._exit(0)  # the server went away: so do we

    threading.Thread(target=read_loop, name="twin-reader", daemon=True).start()
    writer.write(
        {"k": "hello", "proto": PROTOCOL, "pid": os.getpid(), "queries": sorted(registry.QUERIES)}
    )

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
            state.apply_settings()
        else:
            writer.write({"k": "log", "level": "warning", "msg": f"unknown message kind {kind!r}"})


def _refuse(writer: FrameWriter, msg: Any, exc: checks.MessageError) -> None:
    """Log a malformed message to the server; fail it if it was a call with an id."""
    writer.write({"k": "log", "level": "error", "msg": f"malformed message, skipped: {exc}"})
    call_id = msg.get("id") if isinstance(msg, dict) and msg.get("k") == "call" else None
    if isinstance(call_id, int) and not isinstance(call_id, bool):
        writer.write({"k": "fail", "id": call_id, "type": "MessageError", "message": str(exc)})


class WorkerWatch:
    """What the worker is doing, for the pong: the server's watchdog reads it.

    The heartbeat is answered by the reader thread, so it proves the process is
    alive, not that its worker is: a call blocked in a system call (or ignoring
    its cancel) is seen here and the server restarts the twin.
    """

    def __init__(self) -> None:
        self.since: float | None = None
        self.ctx_id: int | None = None
        self.state: TwinState | None = None

    @contextlib.contextmanager
    def on(self, state: TwinState, call_id: int) -> Iterator[None]:
        self.state, self.ctx_id, self.since = state, call_id, time.monotonic()
        try:
            yield
        finally:
            self.since = self.ctx_id = None

    def health(self) -> dict[str, float]:
        since, call_id, state = self.since, self.ctx_id, self.state
        if since is None or state is None:
            return {"busy": 0.0, "cancelled_for": 0.0}
        now = time.monotonic()
        ctx = state.calls.get(call_id) if call_id is not None else None
        at = ctx.cancelled_at if ctx is not None else None
        return {"busy": now - since, "cancelled_for": now - at if at is not None else 0.0}


class SearchLane:
    """The thread that runs bulk calls, so the worker stays free for interactive ones.

    Interactive calls run on the worker under ``worker`` (the server's watchdog
    reads how long it has been busy); bulk calls under ``watch`` of their own, so
    a search that ignores its cancel is seen too, but a long one is not a hang.
    """

    def __init__(self, state: TwinState, cancelled: set[int], worker: WorkerWatch) -> None:
        self.state = state
        self.cancelled = cancelled
        self.worker = worker
        self.watch = WorkerWatch()
        self.inbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def dispatch(self, msg: dict[str, Any]) -> None:
        """Run a call now on the worker (interactive), or queue it in the lane (bulk)."""
        if not registry.is_bulk(msg["q"]):
            gate = (
                jedi_gate.interactive()
                if registry.uses_jedi(msg["q"])
                else contextlib.nullcontext()
            )
            with self.worker.on(self.state, msg["id"]), gate:
                run_call(self.state, msg, self.cancelled)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="twin-search", daemon=True)
            self._thread.start()
        self.inbox.put(msg)

    def health(self) -> dict[str, float]:
        """The worker's busy time; the longer time a cancel has gone unheeded on either."""
        mine, lane = self.worker.health(), self.watch.health()
        return {**mine, "cancelled_for": max(mine["cancelled_for"], lane["cancelled_for"])}

    def _drain(self) -> None:
        lower_priority()
        while True:
            msg = self.inbox.get()
            with self.watch.on(self.state, msg["id"]), jedi_gate.bulk():
                holds.hold(msg["q"])  # tests only: one long unit, as jedi's can be
                run_call(self.state, msg, self.cancelled)


#: How much nicer the search lane's thread is than the twin's worker (issue 10), so that
#: on a machine the searches saturate the interactive twin gets a core at once. Off by
#: default: measured at load 7-11 (docs/benchmarks.md), nice 10 cut the hover p95 during
#: a search by a third but made the cold search 1.5-2.5 times slower, the other users'
#: processes winning the cores; ``TWINLS_SEARCH_NICE=N`` turns it on.
SEARCH_NICE = int(os.environ.get("TWINLS_SEARCH_NICE", "0"))


def lower_priority() -> None:
    """Make the calling thread (the search lane) nicer by :data:`SEARCH_NICE`.

    Linux nices threads one by one (a thread id is a ``PRIO_PROCESS`` target), so the
    worker keeps its priority; elsewhere this would nice the whole twin, so it is left.
    A nicer thread loses only against busy ones: alone on a core it runs at full speed.
    """
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        if SEARCH_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + SEARCH_NICE)
    except OSError:
        pass


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

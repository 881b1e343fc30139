"""Twin: the run children parked with a live result, and asking them about it.

A run whose executor kept objects (an example's value, a failed test's
frames) ends with ``parked`` in its ``end``: the supervisor stays, relaying
``inspect`` requests to the executor until it has been idle ``parkTimeout``
seconds. The twin keeps the :class:`Lot` of them, bounded: at most
``parkMax`` per twin (the oldest goes first), none whose executor is bigger
than ``parkMemory`` MiB. One is dropped (its process group killed) when a file
it imported is edited (its text's CRC changes), when the same target runs
again (``run.unpark``), and when the twin exits (``child.kill_all``). A parked
child is a run child: the twin never imports what it holds.
"""

from __future__ import annotations

import select
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..run.child import Handle
from ..shared.frames import ChannelClosed, ChannelTimeout, FrameReader, FrameWriter
from ..shared.inspect_schema import HandleParts, Inspected, InspectRequest, ParkedChild, ParkedInfo
from .state import TwinState

PARK_MAX = 4
PARK_MEMORY = 2048  # MiB
PARK_TIMEOUT = 600.0  # seconds idle
INSPECT_TIMEOUT = 15.0  # seconds an answer may take (a user's __repr__ may hang)


def park_key(spec: dict[str, Any]) -> str:
    """What a run ran, so a new run of the same target replaces its parked child."""
    what = spec.get("qualname") or ",".join(spec.get("targets") or [])
    return f"{spec.get('kind')}:{spec.get('path')}:{what}"


def spec_settings(state: TwinState) -> dict[str, Any]:
    """What a run's spec says about parking: whether to, and for how long."""
    most = int(state.settings.get("parkMax", PARK_MAX))
    timeout = float(state.settings.get("parkTimeout", PARK_TIMEOUT))
    return {"park": most > 0, "park_timeout": timeout, "twin_pid": state.pid}


@dataclass(eq=False)
class Parked:
    handle: Handle
    key: str
    info: ParkedInfo
    since: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.reader = FrameReader(self.handle.sock)
        self.writer = FrameWriter(self.handle.sock)

    def gone(self) -> bool:
        """Has the supervisor exited (its socket readable with no question asked)?"""
        if self.handle.closed:
            return True
        if not self.lock.acquire(blocking=False):
            return False  # a question is being answered: alive
        try:
            return bool(select.select([self.handle.sock], [], [], 0)[0])
        finally:
            self.lock.release()


class Lot:
    """The parked run children of one twin."""

    def __init__(self, state: TwinState) -> None:
        self.state = state
        self.parked: dict[int, Parked] = {}  # supervisor pid -> parked child
        self.dropped: dict[int, str] = {}  # supervisor pid -> why (the last 100)
        self.lock = threading.Lock()
        state.overlay.listeners.append(self.changed)

    # -- keeping ---------------------------------------------------------------------

    def add(self, handle: Handle, key: str, info: ParkedInfo) -> bool:
        """Keep a run child that parked; False: not kept (the caller lets it go)."""
        settings = self.state.settings
        most = int(settings.get("parkMax", PARK_MAX))
        memory = int(settings.get("parkMemory", PARK_MEMORY)) * 1024
        if most <= 0:
            self._note(handle.pid, "parking is off (parkMax 0)")
            return False
        if info.get("rss", 0) > memory:
            self._note(handle.pid, f"its process used {info['rss'] // 1024} MiB > parkMemory")
            return False
        if self._stale(info):
            self._note(handle.pid, "a file it imported was edited while it ran")
            return False
        with self.lock:
            self.parked[handle.pid] = Parked(handle, key, info)
            extra = max(0, len(self.parked) - most)
            old = sorted(self.parked.values(), key=lambda p: p.since)[:extra]
        for p in old:
            self.drop(p, f"more than parkMax ({most}) parked children")
        return True

    def _stale(self, info: ParkedInfo) -> bool:
        overlay = self.state.overlay
        for path, crc in info.get("paths", {}).items():
            text = overlay.read_text(path)
            if text is None or zlib.crc32(text.encode("utf-8", "surrogatepass")) != crc:
                return True
        return False

    def drop(self, parked: Parked, why: str) -> None:
        with self.lock:
            if self.parked.get(parked.handle.pid) is parked:
                del self.parked[parked.handle.pid]
        self._note(parked.handle.pid, why)
        parked.handle.kill()
        parked.handle.close()

    def _note(self, pid: int, why: str) -> None:
        with self.lock:
            self.dropped[pid] = why
            while len(self.dropped) > 100:
                del self.dropped[next(iter(self.dropped))]

    def changed(self, path: str) -> None:
        """The overlay's listener: an edit to a file a parked child imported drops it."""
        with self.lock:
            hit = [p for p in self.parked.values() if path in p.info.get("paths", {})]
        for p in hit:
            text = self.state.overlay.read_text(path)
            crc = zlib.crc32(text.encode("utf-8", "surrogatepass")) if text is not None else None
            if crc != p.info["paths"][path]:
                self.drop(p, f"{path} was edited")

    def unpark(self, key: str) -> int:
        with self.lock:
            hit = [p for p in self.parked.values() if p.key == key]
        for p in hit:
            self.drop(p, "the same target ran again")
        return len(hit)

    def prune(self) -> None:
        with self.lock:
            parked = list(self.parked.values())
        for p in parked:
            if p.gone():
                self.drop(p, "its timeout (parkTimeout) passed, or it exited")

    def listing(self, slot: int) -> list[ParkedChild]:
        self.prune()
        now = time.monotonic()
        with self.lock:
            return [
                ParkedChild(
                    twin=slot,
                    pid=p.info["pid"],
                    supervisor=p.handle.pid,
                    key=p.key,
                    paths=sorted(p.info.get("paths", {})),
                    rss=p.info.get("rss", 0),
                    idle=now - p.since,
                )
                for p in self.parked.values()
            ]

    # -- asking ----------------------------------------------------------------------

    def inspect(self, handle: str, offset: int, limit: int) -> Inspected:
        parts = HandleParts.parse(handle)
        with self.lock:
            parked = self.parked.get(parts.park)
            why = self.dropped.get(parts.park)
        if parked is None or parts.twin != self.state.pid:
            reason = why or "its run child is no longer parked"
            return Inspected(handle=handle, gone=True, error=f"this result is gone: {reason}")
        request = InspectRequest(k="inspect", handle=handle, offset=offset, limit=limit)
        with parked.lock:
            parked.since = time.monotonic()
            try:
                parked.handle.sock.settimeout(INSPECT_TIMEOUT)
                parked.writer.write(dict(request))
                msg = parked.reader.read()
            except (ChannelClosed, ChannelTimeout, OSError) as exc:
                msg = None
                failure = exc
            finally:
                if not parked.handle.closed:
                    parked.handle.sock.settimeout(None)
        if msg is None:
            why = "it stopped answering" if isinstance(failure, ChannelTimeout) else "it exited"
            self.drop(parked, why)
            return Inspected(handle=handle, gone=True, error=f"this result is gone: {why}")
        answer: Inspected = msg["answer"]
        return answer


def lot(state: TwinState) -> Lot:
    return state.singleton("run.parked", lambda: Lot(state))

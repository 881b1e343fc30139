"""Server: the calling side of a sharded query; files dealt to the twins a chunk at a time.

Why chunks and not one call per twin: a twin has one worker, so a call that
runs for seconds would keep hovers and symbols waiting behind it. Each twin
gets a small chunk, hands back what it did not reach within its time budget,
and gets the next chunk as soon as it is free, answering other calls between.

Why home shards: a twin keeps the parse trees of the files it has searched,
and parsing is most of a cold search. So each file has a home twin (a stable
hash of its path), and the next search sends it there again. A twin whose own
queue is empty steals from the tail of the longest other queue (the smallest
files: cheapest to parse cold), so twins still end together. A twin that dies
mid-chunk has its chunk dealt to the others.
"""

from __future__ import annotations

import itertools
import threading
import zlib
from collections import deque
from typing import TYPE_CHECKING, Any

from .promise import Cancelled, Promise, TwinDied, TwinUnavailable

if TYPE_CHECKING:
    from .pool import TwinPool
    from .process import TwinProcess

#: Files per chunk: the first chunk is small, for a quick first result.
FIRST_CHUNK = 2
MAX_CHUNK = 32


class ShardedCall:
    """One promise over many chunked calls of ``target(ctx, items, *args) -> items done``."""

    def __init__(self, pool: TwinPool, target: str, items: list[Any], args: tuple) -> None:
        self.pool = pool
        self.target = target
        self.args = args
        self.items = items
        self.queues: dict[int, deque[Any]] = {}
        self.total = len(items)
        self.done = 0
        self.chunk: dict[int, int] = {}
        self.running: dict[int, tuple[TwinProcess, Promise | None, list[Any]]] = {}
        self._tickets = itertools.count()
        self.lock = threading.Lock()
        self.promise = Promise(0, None, self.cancel)
        self._stopped = False

    def start(self) -> Promise:
        twins = self.pool.live()
        if not twins:
            self.promise._reject(self.pool.unavailable())
            return self.promise
        if not self.items:
            self.promise._resolve({"done": 0, "total": 0})
            return self.promise
        slots = sorted(t.slot for t in twins)
        self.queues = {slot: deque() for slot in slots}
        for item in self.items:  # order kept within each queue: the caller's priority
            self.queues[slots[zlib.crc32(str(item).encode()) % len(slots)]].append(item)
        for twin in twins:
            self._deal(twin)
        return self.promise

    def _take(self, slot: int) -> list[Any]:
        """The next chunk for ``slot``: its own queue's head, else the tail of the longest."""
        size = self.chunk.get(slot, FIRST_CHUNK)
        own = self.queues.setdefault(slot, deque())
        if own:
            self.chunk[slot] = min(MAX_CHUNK, size * 2)
            return [own.popleft() for _ in range(min(size, len(own)))]
        longest = max(self.queues.values(), key=len)
        return [longest.pop()] if longest else []

    def _deal(self, twin: TwinProcess) -> None:
        with self.lock:
            if self._stopped:
                return
            chunk = self._take(twin.slot)
            finished = not chunk and not self.running
            if finished:
                self._stopped = True
            elif not chunk:
                return
            else:  # counted as running from the moment it leaves the queue
                ticket = next(self._tickets)
                self.running[ticket] = (twin, None, chunk)
        if finished:
            self.promise._resolve({"done": self.done, "total": self.total})
            return
        p = self.pool.call(self.target, chunk, *self.args, twin=twin)
        with self.lock:
            stopped = self._stopped
            if not stopped:
                self.running[ticket] = (twin, p, chunk)
        if stopped:  # cancelled while the call was being sent
            p.cancel()
            return
        p.on_partial(self.promise._add_partial)
        p._future.add_done_callback(lambda _f: self._settled(twin, p, chunk, ticket))

    def _settled(self, twin: TwinProcess, p: Promise, chunk: list[Any], ticket: int) -> None:
        try:
            value, error = p.result(0), None
        except BaseException as exc:
            value, error = None, exc
        if isinstance(error, Cancelled):
            return
        died = isinstance(error, (TwinDied, TwinUnavailable))
        others = [t for t in self.pool.live() if t is not twin] if died else []
        with self.lock:
            # One step under the lock: the chunk leaves ``running`` only once its
            # unfinished files are back in a queue, so no twin can see "nothing
            # queued, nothing running" in between and end the call early.
            self.running.pop(ticket, None)
            if self._stopped:
                return
            if died and others:  # its chunk and its queue go to a twin still alive
                orphans = [*chunk, *self.queues.pop(twin.slot, ())]
                self.queues.setdefault(others[0].slot, deque()).extend(orphans)
            elif error is None:
                n = len(chunk) if not isinstance(value, int) else max(0, min(value, len(chunk)))
                self.queues.setdefault(twin.slot, deque()).extendleft(reversed(chunk[n:]))
                self.done += n
            done = self.done
            busy = {id(r[0]) for r in self.running.values()}
        if died and not others:
            self._fail(self.pool.unavailable())
            return
        if error is not None and not died:
            self._fail(error)
            return
        self.promise._progress(done, self.total, f"{done}/{self.total} files")
        for t in self.pool.live() if not died else others:
            if t is twin or id(t) not in busy:  # idle twins may steal handed-back files
                self._deal(t)

    def _fail(self, exc: BaseException) -> None:
        self.cancel()
        self.promise._reject(exc)

    def cancel(self) -> None:
        """Stop dealing and cancel every chunk in flight (each twin stops between files)."""
        with self.lock:
            self._stopped = True
            running, self.running = list(self.running.values()), {}
        for _, p, _ in running:
            if p is not None:
                p.cancel()

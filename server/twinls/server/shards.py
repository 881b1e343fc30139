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

Why kept homes: a twin keeps each file's answer to a question (its uses of a name)
until the next change (``JediWorld.verdict``), so the twin that answered a file last
is its home for the same question while nothing changed (:class:`KeptAt`), and no
other twin steals it (cheap where it is, a cold resolution anywhere else: asked
again at a use, pyparsing's ``parse_string`` spent 3.4 s on stolen files).

Who may take a file is ``TwinPool.takes``: with workspace folders in different
interpreters (``server/groups.py``) a local twin takes only files of its own folder's
group (its lane), so each verdict sees that folder's site-packages; a twin on another
host takes only files of the folders it maps. Such files are never homed, stolen or
handed on to a twin that may not take them; a call whose files no live twin can take
fails as unavailable.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
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
#: A round trip this long halves a twin's share before its speed is measured ...
RTT_UNIT = 0.02
#: ... and each this long of round trip makes its chunks one step bigger (at most 8×).
RTT_STEP = 0.005
MAX_SCALE = 8


def weights(twins: list[TwinProcess]) -> dict[int, float]:
    """Each twin's share of the files, in (0, 1]: its measured files/s against the fastest's,
    else (not measured yet) less the longer its round trip (a twin on another host)."""
    fastest = max((t.files_per_s for t in twins), default=0.0)
    out: dict[int, float] = {}
    for t in twins:
        if t.files_per_s > 0 and fastest > 0:
            w = t.files_per_s / fastest
        else:
            w = 1.0 / (1.0 + t.rtt / RTT_UNIT)
        out[t.slot] = w
    top = max(out.values(), default=1.0)
    return {slot: max(0.05, w / top) for slot, w in out.items()}


def chunk_scale(rtt: float) -> int:
    """How many times bigger a twin's chunks are: a slow link gets fewer, larger ones."""
    return min(MAX_SCALE, 1 + int(rtt / RTT_STEP))


def home(item: Any, shares: dict[int, float]) -> int:
    """The item's home twin: weighted rendezvous hashing, stable while the shares are."""
    key = str(item).encode()

    def score(slot: int) -> float:
        u = (zlib.crc32(key, slot * 2654435761 & 0xFFFFFFFF) + 1) / (2**32 + 1)
        return shares[slot] / -math.log(u)

    return max(sorted(shares), key=score)


class KeptAt:
    """Which twin (slot and pid: a restart keeps nothing) last finished each item of a
    question, while the mirror's generation stands (a change drops the twins' answers)."""

    def __init__(self) -> None:
        self._at: dict[tuple[Any, Any], tuple[int, int]] = {}
        self._generation: Any = None
        self._lock = threading.Lock()

    def _now(self, generation: Any) -> dict[tuple[Any, Any], tuple[int, int]]:
        if generation != self._generation:
            self._at, self._generation = {}, generation
        return self._at

    def get(self, generation: Any, question: Any, item: Any) -> tuple[int, int] | None:
        with self._lock:
            return self._now(generation).get((question, item))

    def put(self, generation: Any, question: Any, items: list[Any], slot: int, pid: int) -> None:
        with self._lock:
            at = self._now(generation)
            for item in items:
                at[(question, item)] = (slot, pid)


def question_of(target: str, args: tuple) -> Any:
    """What a twin keeps an item's answer under besides the item: the query and its first
    argument when it is a name (``search.refs_in``'s, ``lang.rename_in``'s)."""
    return (target, args[0] if args and isinstance(args[0], str) else None)


class ShardedCall:
    """One promise over many chunked calls of ``target(ctx, items, *args) -> items done``."""

    def __init__(
        self,
        pool: TwinPool,
        target: str,
        items: list[Any],
        args: tuple,
        kept: KeptAt | None = None,
        generation: Any = None,
    ) -> None:
        self.pool = pool
        self.kept, self.generation = kept, generation
        self.question = question_of(target, args)
        #: item -> the slot that keeps its answer (a home no other twin steals from)
        self.kept_home: dict[Any, int] = {}
        self.target = target
        self.args = args
        self.items = items
        self.queues: dict[int, deque[Any]] = {}
        self.total = len(items)
        self.done = 0
        self.chunk: dict[int, int] = {}
        self.scale: dict[int, int] = {}
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
        shares = weights(twins)
        self.scale = {t.slot: chunk_scale(t.rtt) for t in twins}
        self.queues = {slot: deque() for slot in sorted(shares)}
        for item in self.items:  # order kept within each queue: the caller's priority
            slot = self._home(item, twins, shares)
            if slot is None:
                self.promise._reject(self.pool.unavailable())
                return self.promise
            self.queues[slot].append(item)
        for twin in twins:
            self._deal(twin)
        return self.promise

    def _home(self, item: Any, twins: list[TwinProcess], shares: dict[int, float]) -> int | None:
        """The item's home among the twins that can take it (None: none can): the twin
        that keeps its answer, else by hash."""
        fit = {t.slot: shares.get(t.slot, 0.05) for t in twins if self.pool.takes(t, item)}
        if self.kept is not None and fit:
            at = self.kept.get(self.generation, self.question, item)
            if (
                at is not None
                and at[0] in fit
                and any(t.slot == at[0] and t.pid == at[1] for t in twins)
            ):
                self.kept_home[item] = at[0]
                return at[0]
        return home(item, fit) if fit else None

    def _take(self, twin: TwinProcess) -> list[Any]:
        """The next chunk for a twin: its own queue's head, else the last item it can take
        from the tail of the longest other queue."""
        slot = twin.slot
        scale = self.scale.get(slot, 1)
        size = self.chunk.get(slot, FIRST_CHUNK * scale)
        own = self.queues.setdefault(slot, deque())
        if own:
            self.chunk[slot] = min(MAX_CHUNK * scale, size * 2)
            return [own.popleft() for _ in range(min(size, len(own)))]
        kept = self.kept_home
        for queue in sorted(self.queues.values(), key=len, reverse=True):
            for i in range(len(queue) - 1, -1, -1):
                if kept and kept.get(queue[i], slot) != slot:
                    continue  # its answer is kept where it is queued: cheap there
                if self.pool.takes(twin, queue[i]):
                    item = queue[i]
                    del queue[i]
                    return [item]
        return []

    def _deal(self, twin: TwinProcess) -> None:
        with self.lock:
            if self._stopped:
                return
            chunk = self._take(twin)
            at_rest = not chunk and not self.running
            # Files left that this twin may not take (another host's folder) and no chunk
            # running whose end would deal them: an idle twin that may take them must.
            stranded = at_rest and any(self.queues.values())
            finished = at_rest and not stranded
            if finished:
                self._stopped = True
            elif not chunk and not stranded:
                return
            elif chunk:  # counted as running from the moment it leaves the queue
                ticket = next(self._tickets)
                self.running[ticket] = (twin, None, chunk)
            left = [i for q in self.queues.values() for i in q] if stranded else []
        if stranded:
            idle = [t for t in self.pool.live() if t is not twin]
            if any(self.pool.takes(t, i) for t in idle for i in left):
                for t in idle:
                    self._deal(t)
            else:
                self._fail(self.pool.unavailable())
            return
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
        sent = time.monotonic()
        p._future.add_done_callback(lambda _f: self._settled(twin, p, chunk, ticket, sent))

    def _settled(
        self, twin: TwinProcess, p: Promise, chunk: list[Any], ticket: int, sent: float = 0.0
    ) -> None:
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
            if died and others:  # its chunk and its queue go to twins still alive
                orphans = [*chunk, *self.queues.pop(twin.slot, ())]
                shares = weights(others)
                for item in orphans:
                    slot = self._home(item, others, shares)
                    if slot is None:  # nobody left can take it
                        others = []
                        break
                    self.queues.setdefault(slot, deque()).append(item)
            elif error is None:
                n = len(chunk) if not isinstance(value, int) else max(0, min(value, len(chunk)))
                self.queues.setdefault(twin.slot, deque()).extendleft(reversed(chunk[n:]))
                self.done += n
                if self.kept is not None and n:
                    self.kept.put(self.generation, self.question, chunk[:n], twin.slot, twin.pid)
                twin.chunks += 1
                took = time.monotonic() - sent
                if n and sent and took > 0:  # files/s, round trip included: the link counts
                    rate = n / took
                    old = twin.files_per_s
                    twin.files_per_s = rate if old <= 0 else 0.7 * old + 0.3 * rate
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

"""Server: search answers kept across sessions in the server's cache (``server/cache.py``).

Why answers: a cold references search is parso and jedi over every candidate
file (tens of seconds on the standard library), and its answer is a function
of the texts, the interpreter and jedi (a jedi state per file). The server
sums those up itself (``shared/digest.py``): :class:`Hashes` over its mirror of
the overlay, walked from ``initialized`` while the twins come up and then kept
current by the mirror's listener, plus each twin's interpreter parts
(``search.interpreter``, asked once per twin start). Kept under that digest and
the question (and the position asked at), the second session on an unchanged
workspace answers without jedi and without waiting for any twin's walk. An
answer is kept only whole: the search ended without an error or a cancel, and
no edit arrived while it ran (the digest is of the texts it started from).
``cache: false`` turns it off: nothing is read or written.

The index is kept too (by content hash), and shared within a session: one
twin builds it and the others start from its entries (:meth:`Kept.warm`), so
two twins do not parse every file twice while a cold search needs the cores.
Kept entries are read and sent off the event loop, and a twin decodes them
when its build needs them, row by row, so requests are answered meanwhile.

The per-server state is :class:`Kept` (``ls.part(Kept)``); its cache is the
generic one (namespace, key -> bytes), which other features may use too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import msgpack

from ...shared.digest import Hashes, compose, path_stamps
from ...shared.schema import DEFAULTS, InterpreterParts, RefsTarget
from .. import stubs
from ..cache import Cache

log = logging.getLogger(__name__)

REFS = "refs"
IMPL = "impl"  # implementation answers, by the position asked at
INDEX = "index"
#: Bytes of kept index entries per ``search.warm`` call.
PIECE = 1 << 20


class Kept:
    """This server's cache, or None with ``cache: false``."""

    def __init__(self, ls: Any) -> None:
        opts = ls.options
        self.cache: Cache | None = None
        if opts.get("cache", True) is not False:
            mib = int(opts.get("cacheSize") or DEFAULTS["cacheSize"])
            self.cache = Cache(cap=mib << 20)
        # The index: built by one twin, shared with the others (issue 10).
        self._warmed: set[int] = set()  # pids sent ``search.warm``
        self._builder: int | None = None  # the pid building for everyone, until it exports
        self._shared = False  # a twin exported this session
        #: Its entries, for twins that come up later (a restart, a slow start) with the
        #: cache off; with it on they are read back from the cache.
        self._blob: bytes | None = None
        self._reading = False  # the kept index entries are being read (then warm again)
        #: The server's content hashes of the workspace (from ``initialized``; cache on).
        self.hashes: Hashes | None = None
        self._interpreters: dict[int, InterpreterParts] = {}  # by twin pid (one per start)

    def start(self, pool: Any) -> None:
        """At ``initialized``: hash the workspace in a thread while the twins come up.

        Not with remote twins: they read disks the server cannot see, so no answer is
        kept (the searches run as without a cache; index entries are still kept)."""
        if self.cache is None or self.hashes is not None or pool.hosts:
            return
        self.hashes = Hashes(pool.mirror)
        threading.Thread(target=self.hashes.files, name="twinls-hashes", daemon=True).start()

    # -- the twins' index entries (by content hash; one blob per set of roots) ------------

    @staticmethod
    def _index_key(pool: Any) -> str:
        return json.dumps(sorted(pool.roots))

    def warm(self, pool: Any) -> None:
        """``search.warm`` every live twin not warmed yet, the index built once, not per twin.

        With entries kept (from an earlier session, or from this session's first
        build) every twin starts from them: they are read in a thread, then sent.
        Else one twin builds (the builder) and the others are warmed with its
        entries when it exports them; a twin that needs its index before that
        builds it on demand, as always. The first twin warmed in a session exports
        its entries once built, for the cache.
        """
        if self._reading or not any(t.pid not in self._warmed for t in pool.live()):
            return
        if self.cache is None:
            self._warm(pool, self._blob)
            return
        self._reading = True
        asyncio.ensure_future(self._read_then_warm(pool))

    async def _read_then_warm(self, pool: Any) -> None:
        try:
            assert self.cache is not None
            blob = await asyncio.to_thread(self.cache.get, INDEX, self._index_key(pool))
        finally:
            self._reading = False
        self._warm(pool, blob)

    def _warm(self, pool: Any, blob: bytes | None) -> None:
        live = pool.live()
        fresh = [t for t in live if t.pid not in self._warmed]
        if not fresh:
            return
        if blob is not None or self._shared:
            exporter = None
            if not self._shared and self._builder is None and self.cache is not None:
                exporter = fresh[0]
            self._send_warm(pool, fresh, blob, exporter)
            return
        if self._builder is not None and any(t.pid == self._builder for t in live):
            return  # the others wait for the builder's entries
        builder = fresh[0]
        # By slots, not live twins: the second may still be starting (it waits for these).
        if pool.slot_count() > 1 or self.cache is not None:
            self._send_warm(pool, [builder], None, builder)
        else:
            self._send_warm(pool, [builder], None, None)
            self._shared = True  # one twin, nothing to keep: nobody to share with

    def _send_warm(self, pool: Any, twins: list[Any], blob: bytes | None, exporter: Any) -> None:
        """Warm ``twins`` with ``blob``, then ask ``exporter`` (if any) for its entries."""
        self._warmed.update(t.pid for t in twins)
        if exporter is not None:
            self._builder = exporter.pid
        if blob is None:  # nothing to carry: sent now, before the search that warms
            for twin in twins:
                pool.call(stubs.search_warm(None), twin=twin)
        asyncio.ensure_future(self._sent(pool, twins, blob, exporter))

    async def _sent(self, pool: Any, twins: list[Any], blob: bytes | None, exporter: Any) -> None:
        if blob is not None:  # megabytes to write: in pieces, from a thread
            for twin in twins:
                await asyncio.to_thread(self._send_pieces, pool, twin, blob)
        if exporter is not None:
            await self._shared_by(pool, exporter)

    @staticmethod
    def _send_pieces(pool: Any, twin: Any, blob: bytes) -> None:
        """One ``search.warm`` per :data:`PIECE` bytes: a call or an edit for this twin
        waits for one piece's write at most, never for the whole blob's."""
        for at in range(0, len(blob), PIECE):
            more = at + PIECE < len(blob)
            pool.call(stubs.search_warm(blob[at : at + PIECE], more), twin=twin)

    async def _shared_by(self, pool: Any, twin: Any) -> None:
        try:
            blob = await pool.call(stubs.index_export(), twin=twin)
        except Exception as exc:  # it died or was restarted: the next search picks another
            log.info("twin %s did not export its index: %r", twin.slot, exc)
            self._builder = None
            return
        if blob and self.cache is not None:
            await asyncio.to_thread(self.cache.put, INDEX, self._index_key(pool), blob)
        elif blob:
            self._blob = blob
        self._builder, self._shared = None, True
        self._warm(pool, blob)  # the twins that waited (later ones read the cache or build)

    async def digest(self, ls: Any, pool: Any) -> tuple[str, tuple] | None:
        """The digest of what a search's answer depends on, and a mark of the texts it is
        of (while :meth:`unchanged` says so, an answer filed under it is one for now).

        The texts' part is the server's own hashes (waited for only while the first
        walk runs); the interpreters' part each live twin's, asked once per start. None
        with the cache off or no twin answering.
        """
        hashes = self.hashes
        if hashes is None:
            return None
        interpreters = await self._interpreters_of(ls, pool)
        if not interpreters:
            return None
        while True:
            touches = hashes.touches
            files = hashes.current()
            if files is None:
                files = await asyncio.to_thread(hashes.files)
            if hashes.touches == touches and hashes.current() == files:
                return compose(files, pool.roots, interpreters), hashes.mark()

    def unchanged(self, mark: tuple) -> bool:
        """No text, root or exclusion changed since ``mark`` (:meth:`digest`'s)."""
        return self.hashes is not None and self.hashes.mark() == mark

    async def _interpreters_of(self, ls: Any, pool: Any) -> list[list[str]]:
        """Each live twin's interpreter parts, its ``sys.path`` entries' mtimes read now
        (a package installed or removed meanwhile changes them)."""
        return [
            [p["version"], p["executable"], f"jedi {p['jedi']}", *path_stamps(p["path"])]
            for p in await self.interpreter_parts(ls, pool)
        ]

    async def interpreter_parts(
        self, ls: Any, pool: Any, twins: list[Any] | None = None
    ) -> list[InterpreterParts]:
        """Each live twin's (or each of ``twins``') ``search.interpreter`` answer, asked
        once per twin start (also the live map's key: ``server/mapstore.py``)."""
        live = pool.live() if twins is None else twins
        asked = [
            (t, pool.call(stubs.interpreter(), twin=t))
            for t in live
            if t.pid not in self._interpreters
        ]
        for twin, promise in asked:  # asked all at once, awaited in turn
            try:
                self._interpreters[twin.pid] = await ls.await_promise(promise)
            except Exception as exc:  # died meanwhile: its restart is asked again
                log.info("twin %s did not give its interpreter: %r", twin.slot, exc)
        return [p for p in (self._interpreters.get(t.pid) for t in live) if p is not None]

    @staticmethod
    def refs_key(digest: str, target: RefsTarget, include_declaration: bool, encoding: str) -> str:
        """The answer for a target (wherever it was asked from)."""
        question = [target["name"], target["keys"], include_declaration, encoding]
        return f"{digest} {json.dumps(question, separators=(',', ':'))}"

    @staticmethod
    def refs_at_key(
        digest: str, where: tuple[str, int, int, str], include_declaration: bool
    ) -> str:
        """The answer asked at a position: looked up before jedi finds the target (cold,
        that costs seconds), sound because the target too is a function of the texts."""
        question = ["at", *where, include_declaration]
        return f"{digest} {json.dumps(question, separators=(',', ':'))}"

    @staticmethod
    def impl_at_key(digest: str, where: tuple[str, int, int, str]) -> str:
        """An implementation answer asked at a position (a function of the texts too)."""
        return f"{digest} {json.dumps(list(where), separators=(',', ':'))}"

    def get_rows(self, key: str, namespace: str = REFS) -> list[list[Any]] | None:
        """The rows kept for ``key``; None if none (or unreadable: then removed)."""
        if self.cache is None:
            return None
        data = self.cache.get(namespace, key)
        if data is None:
            return None
        try:
            rows = msgpack.unpackb(data)
        except Exception:
            rows = None
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            self.cache.drop(namespace, key)
            return None
        return rows

    def put_rows(self, key: str, rows: list[list[Any]], namespace: str = REFS) -> None:
        """Keep ``rows`` (as streamed: each row once, sorted, in the entry)."""
        if self.cache is not None:
            once = sorted(dict.fromkeys(map(tuple, rows)))
            self.cache.put(namespace, key, msgpack.packb([list(r) for r in once]))

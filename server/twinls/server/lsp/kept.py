"""Server: search answers kept across sessions in the server's cache (``server/cache.py``).

Why answers: a cold references search is parso and jedi over every candidate
file (tens of seconds on the standard library), and its answer is a function
of the texts, the interpreter and jedi (a jedi state per file), which the twin
sums up in a digest (``twin/queries/digest.py``). Kept under that digest and
the question (and the position asked at), the second session on an unchanged
workspace answers without jedi. An answer is kept only whole: the search ended without an error
or a cancel, and no edit arrived while it ran (the digest is of the texts it
started from). ``cache: false`` turns it off: nothing is read or written.

The index is kept too (by content hash), and shared within a session: one
twin builds it and the others start from its entries (:meth:`Kept.warm`), so
two twins do not parse every file twice while a cold search needs the cores.

The per-server state is :class:`Kept` (``ls.part(Kept)``); its cache is the
generic one (namespace, key -> bytes), which other features may use too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import msgpack

from ...shared.schema import DEFAULTS, RefsTarget
from .. import stubs
from ..cache import Cache

log = logging.getLogger(__name__)

REFS = "refs"
INDEX = "index"
STATS = "stats"


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
        self._shared = False  # a twin exported this session (later twins fend for themselves)
        self._blob: bytes | None = None  # its entries, until every waiting twin has them
        self._stats_sent = False  # the kept table of content hashes went to a twin

    # -- the twins' index entries (by content hash; one blob per set of roots) ------------

    @staticmethod
    def _index_key(pool: Any) -> str:
        return json.dumps(sorted(pool.roots))

    def warm(self, pool: Any) -> None:
        """``search.warm`` every live twin not warmed yet, the index built once, not per twin.

        With entries kept (from an earlier session, or from this session's first
        build) every twin starts from them. Else one twin builds (the builder) and
        the others are warmed with its entries when it exports them; a twin that
        needs its index before that builds it on demand, as always. The first
        twin warmed in a session exports its entries once built, for the cache.
        """
        live = pool.live()
        fresh = [t for t in live if t.pid not in self._warmed]
        if not fresh:
            return
        blob = self._blob
        if blob is None and self.cache is not None:
            blob = self.cache.get(INDEX, self._index_key(pool))
        if blob is not None or self._shared:
            for twin in fresh:
                self._send_warm(pool, twin, blob)
            if not self._shared and self._builder is None and self.cache is not None:
                self._export(pool, fresh[0])
            return
        if self._builder is not None and any(t.pid == self._builder for t in live):
            return  # the others wait for the builder's entries
        builder = fresh[0]
        self._send_warm(pool, builder, None)
        if len(live) > 1 or self.cache is not None:
            self._export(pool, builder)
        else:
            self._shared = True  # one twin, nothing to keep: nobody to share with

    def _send_warm(self, pool: Any, twin: Any, blob: bytes | None) -> None:
        self._warmed.add(twin.pid)
        pool.call(stubs.search_warm(blob), twin=twin)

    def _export(self, pool: Any, twin: Any) -> None:
        self._builder = twin.pid
        asyncio.ensure_future(self._shared_by(pool, twin))

    async def _shared_by(self, pool: Any, twin: Any) -> None:
        try:
            blob = await pool.call(stubs.index_export(), twin=twin)
        except Exception as exc:  # it died or was restarted: the next search picks another
            log.info("twin %s did not export its index: %r", twin.slot, exc)
            self._builder = None
            return
        if blob and self.cache is not None:
            await asyncio.to_thread(self.cache.put, INDEX, self._index_key(pool), blob)
        self._builder, self._shared = None, True
        self._blob = blob
        try:
            self.warm(pool)  # the twins that waited
        finally:
            self._blob = None  # not held for the session: later twins read the cache or build

    async def digest(self, ls: Any, pool: Any) -> str:
        """The twins' digest of the workspace; the first of a session starts from the
        kept table of content hashes by stat (so unchanged files are not read), and a
        table with new files read is kept."""
        stats = None
        if not self._stats_sent and self.cache is not None:
            self._stats_sent = True
            stats = await asyncio.to_thread(self.cache.get, STATS, self._index_key(pool))
        found = await ls.await_promise(pool.call(stubs.workspace_digest(stats)))
        if found["stats"] and self.cache is not None:
            self.cache.put(STATS, self._index_key(pool), found["stats"])
        return found["digest"]

    @staticmethod
    def refs_key(target: RefsTarget, include_declaration: bool, encoding: str) -> str:
        """The answer for a target (wherever it was asked from)."""
        question = [target["name"], target["keys"], include_declaration, encoding]
        return f"{target['digest']} {json.dumps(question, separators=(',', ':'))}"

    @staticmethod
    def refs_at_key(
        digest: str, where: tuple[str, int, int, str], include_declaration: bool
    ) -> str:
        """The answer asked at a position: looked up before jedi finds the target (cold,
        that costs seconds), sound because the target too is a function of the texts."""
        question = ["at", *where, include_declaration]
        return f"{digest} {json.dumps(question, separators=(',', ':'))}"

    def get_rows(self, key: str) -> list[list[Any]] | None:
        """The rows kept for ``key``; None if none (or unreadable: then removed)."""
        if self.cache is None:
            return None
        data = self.cache.get(REFS, key)
        if data is None:
            return None
        try:
            rows = msgpack.unpackb(data)
        except Exception:
            rows = None
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            self.cache.drop(REFS, key)
            return None
        return rows

    def put_rows(self, key: str, rows: list[list[Any]]) -> None:
        if self.cache is not None:
            self.cache.put(REFS, key, msgpack.packb(sorted(rows)))

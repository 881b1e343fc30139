"""Server: search answers kept across sessions in the server's cache (``server/cache.py``).

Why answers: a cold references search is parso and jedi over every candidate
file (tens of seconds on the standard library), and its answer is a function
of the texts, the interpreter and jedi (a jedi state per file), which the twin
sums up in a digest (``twin/queries/digest.py``). Kept under that digest and
the question, the second session on an unchanged workspace answers cold as
fast as warm. An answer is kept only whole: the search ended without an error
or a cancel, and no edit arrived while it ran (the digest is of the texts it
started from). ``cache: false`` turns it off: nothing is read or written.

The per-server state is :class:`Kept` (``ls.part(Kept)``); its cache is the
generic one (namespace, key -> bytes), which other features may use too.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack

from ...shared.schema import DEFAULTS, RefsTarget
from .. import stubs
from ..cache import Cache

REFS = "refs"
INDEX = "index"


class Kept:
    """This server's cache, or None with ``cache: false``."""

    def __init__(self, ls: Any) -> None:
        opts = ls.options
        self.cache: Cache | None = None
        if opts.get("cache", True) is not False:
            mib = int(opts.get("cacheSize") or DEFAULTS["cacheSize"])
            self.cache = Cache(cap=mib << 20)
        self._index_asked = False

    # -- the twins' index entries (by content hash; one blob per set of roots) ------------

    @staticmethod
    def _index_key(pool: Any) -> str:
        return json.dumps(sorted(pool.roots))

    def index_entries(self, pool: Any) -> bytes | None:
        """What a twin's index starts from (``search.warm``); None with nothing kept."""
        if self.cache is None:
            return None
        return self.cache.get(INDEX, self._index_key(pool))

    def keep_index(self, pool: Any, twin: Any) -> None:
        """Once per session: ask ``twin`` for its entries once built, and keep them."""
        if self.cache is None or self._index_asked:
            return
        self._index_asked = True
        cache, key = self.cache, self._index_key(pool)

        def keep(blob: bytes | None) -> None:
            if blob:
                cache.put(INDEX, key, blob)

        pool.call(stubs.index_export(), twin=twin).then(keep)

    @staticmethod
    def refs_key(target: RefsTarget, include_declaration: bool, encoding: str) -> str:
        question = [target["name"], target["keys"], include_declaration, encoding]
        return f"{target['digest']} {json.dumps(question, separators=(',', ':'))}"

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

    def status(self) -> dict[str, Any]:
        """``twinls.status``'s ``cache``: where it is and what it did this session."""
        c = self.cache
        if c is None:
            return {"enabled": False}
        return {
            "enabled": True,
            "dir": str(c.root),
            "hits": c.hits,
            "misses": c.misses,
            "writes": c.writes,
            "dropped": c.dropped,
        }

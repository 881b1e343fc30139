"""Twin: parso's private API, in one place (its disk cache off, its memory cache bounded).

The twins write nothing to disk, and parso keeps pickled trees under
``~/.cache/parso`` through three private functions of ``parso.cache``; they are
replaced by no-ops here. A moved hook raises here, at the twin's start: nothing
falls back to writing the cache.

parso also keeps every tree it parsed in memory (``parso.cache.parser_cache``:
grammar hash -> path -> item with ``node`` and ``last_used``), and drops one
only once 600 are kept and it was not used for 10 minutes: during a search
that is never, so a twin held the tree of every candidate file it resolved
(most of a twin's memory after a standard-library search: issue 10).
:func:`trim_trees` drops the least recently used beyond a cap.

``tests/test_parso_compat.py`` is the canary (it fails by name when parso moves
one), and ``pyproject.toml`` bounds parso below 0.9.
"""

from __future__ import annotations

import os
from collections.abc import Container

#: ``parso.cache`` functions that read, write or lock the disk cache.
DISK_CACHE = ("_save_to_file_system", "_load_from_file_system", "_remove_cache_and_update_lock")


def disable_disk_cache() -> None:
    import parso.cache

    for name in DISK_CACHE:
        if not callable(getattr(parso.cache, name, None)):
            raise RuntimeError(f"parso.cache.{name} moved: twinls cannot keep parso off the disk")
        setattr(parso.cache, name, lambda *a, **k: None)


def _trees() -> dict[str, dict[object, object]]:
    import parso.cache

    cache = getattr(parso.cache, "parser_cache", None)
    if not isinstance(cache, dict):
        raise RuntimeError("parso.cache.parser_cache moved: twinls cannot bound parso's trees")
    return cache


def tree_count() -> int:
    """Trees parso keeps in memory now (every grammar's)."""
    return sum(len(by_path) for by_path in _trees().values())


def trim_trees(keep: int, pinned: Container[str] = ()) -> int:
    """Drop parso's kept trees but the ``keep`` used most recently and the ``pinned`` paths.

    Returns how many it dropped. Only parso's cache lets go: a tree a jedi state
    still holds stays alive with it, and the next parse of a dropped path parses
    it again (the same text gives the same tree), so what a query answers is the
    same; only its time can differ. Call it where no jedi state is half way
    through a parse (jedi reads a tree's lines back from this cache right after
    parsing it): between files of a search, inside the gate.
    """
    if tree_count() <= keep:
        return 0
    cache = _trees()
    unpinned = [
        (item.last_used, grammar, path)  # type: ignore[attr-defined]
        for grammar, by_path in cache.items()
        for path, item in by_path.items()
        if path is None or os.fspath(path) not in pinned  # type: ignore[arg-type]
    ]
    unpinned.sort(key=lambda row: row[0])
    dropped = unpinned[: max(0, len(unpinned) - keep)]
    for _, grammar, path in dropped:
        del cache[grammar][path]
    return len(dropped)

"""Twin: parso's private API, in one place (its disk cache, switched off).

The twins write nothing to disk, and parso keeps pickled trees under
``~/.cache/parso`` through three private functions of ``parso.cache``; they are
replaced by no-ops here. ``tests/test_parso_compat.py`` is the canary (it fails by
name when parso moves one), and ``pyproject.toml`` bounds parso below 0.9. A moved
hook raises here, at the twin's start: nothing falls back to writing the cache.
"""

from __future__ import annotations

#: ``parso.cache`` functions that read, write or lock the disk cache.
DISK_CACHE = ("_save_to_file_system", "_load_from_file_system", "_remove_cache_and_update_lock")


def disable_disk_cache() -> None:
    import parso.cache

    for name in DISK_CACHE:
        if not callable(getattr(parso.cache, name, None)):
            raise RuntimeError(f"parso.cache.{name} moved: twinls cannot keep parso off the disk")
        setattr(parso.cache, name, lambda *a, **k: None)

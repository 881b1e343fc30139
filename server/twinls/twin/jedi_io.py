"""Twin: make jedi and parso see the overlay and leave the disk alone.

parso keeps pickled parse trees under ``~/.cache/parso`` and jedi reads other
modules with ``FileIO``; in the twin both must go through the overlay and
nothing may be written. These are the narrowest patch points parso and jedi
have (module globals that their own functions look up at call time).
"""

from __future__ import annotations

import os
import time

from ..shared.overlay import Overlay

_installed: dict[str, object] = {}


def disable_disk_caches() -> None:
    """No parso cache files read or written, no cache lock file touched."""
    from . import parso_compat

    parso_compat.disable_disk_cache()


def install(overlay: Overlay) -> None:
    """Route parso/jedi file reads and folder listings through ``overlay``."""
    import parso.file_io
    from jedi import file_io as jedi_file_io

    from . import importer

    importer.install(overlay)
    _installed["overlay"] = overlay
    if "read" in _installed:
        return
    orig_read = parso.file_io.FileIO.read
    orig_mtime = parso.file_io.FileIO.get_last_modified
    changed_at: dict[str, tuple[int, float]] = {}  # path -> (overlay stamp, its "mtime")

    def read(self):  # type: ignore[no-untyped-def]
        ov: Overlay = _installed["overlay"]  # type: ignore[assignment]
        p = os.fspath(self.path)
        if ov.is_dirty(p) or ov.is_hidden(p):
            data = ov.read_bytes(p)
            if data is None:
                raise FileNotFoundError(p)
            return data
        return orig_read(self)

    def get_last_modified(self):  # type: ignore[no-untyped-def]
        ov: Overlay = _installed["overlay"]  # type: ignore[assignment]
        p = os.fspath(self.path)
        doc = ov.docs.get(p)
        if doc is not None:
            # parso reuses a cached tree while this does not grow: grow it per edit.
            seen = changed_at.get(p)
            if seen is None or seen[0] != doc.stamp:
                seen = (doc.stamp, max(time.time(), seen[1] + 1e-3 if seen else 0.0))
                changed_at[p] = seen
            return seen[1]
        if ov.is_hidden(p):
            return None
        return orig_mtime(self)

    def listdir(self):  # type: ignore[no-untyped-def]
        return _installed["overlay"].listdir(self.path)  # type: ignore[attr-defined]

    parso.file_io.FileIO.read = read  # type: ignore[method-assign]
    parso.file_io.FileIO.get_last_modified = get_last_modified  # type: ignore[method-assign]
    jedi_file_io.FolderIO.list = listdir  # type: ignore[method-assign]
    _installed["read"] = read

"""Twin: a digest of everything a search's answer depends on (texts, interpreter, jedi).

Why: the server keeps search answers across sessions (``server/cache.py``) under
this digest, and a kept answer is only sound if nothing it was computed from
changed. A file's references verdict is a function of the texts alone (a jedi
state per file, ``jedi_world.py``): the workspace's Python files as the overlay
has them (unsaved buffers, hidden deletions and unsaved new files included),
by content hash, and what jedi reads outside the workspace: the interpreter
(version, executable, ``sys.path`` and each entry's mtime, which an install or
removal of a package changes) and jedi itself (its version: typeshed ships in
it). What it does not see: an installed package's file edited in place without
touching its folder (documented in docs/architecture.md).

Computed once per overlay generation (an edit, a watched-file change or a new
``exclude`` makes a new one): reading every file costs about as much as the
index's first scan, a fraction of a second on the standard library.
"""

from __future__ import annotations

import hashlib
import os
import sys

import jedi

from ... import __version__
from ..context import CallContext
from . import index as index_mod

#: Bumped when what a search answers changes for the same texts (a fix in the queries).
ANSWERS_VERSION = 1


def interpreter() -> list[str]:
    """The interpreter as jedi sees it from here: version, executable, sys.path and mtimes."""
    parts = [sys.version, sys.executable, f"jedi {jedi.__version__}", f"twinls {__version__}"]
    for entry in sys.path:
        try:
            parts.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}:-")
    return parts


def workspace(ctx: CallContext) -> str:
    """The digest of the overlay as it is now (kept until the next generation)."""
    state, overlay = ctx.state, ctx.overlay
    stamp = (overlay.generation, tuple(overlay.excluded))
    kept = state.singleton("digest", dict)
    if kept.get("stamp") == stamp:
        return kept["digest"]
    idx = index_mod.get(state)
    h = hashlib.sha256()
    for part in [f"answers {ANSWERS_VERSION}", *overlay.roots, *interpreter()]:
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for path in overlay.python_files():
        ctx.check()
        if idx.in_virtualenv(path):
            continue
        data = overlay.read_bytes(path)
        if data is None:
            continue
        h.update(path.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(data).digest())
    digest = h.hexdigest()
    if (overlay.generation, tuple(overlay.excluded)) == stamp:
        kept.update(stamp=stamp, digest=digest)
    return digest

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
import stat
import sys

import jedi
import msgpack

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


def workspace(ctx: CallContext, stats: bytes | None = None) -> str:
    """The digest of the overlay as it is now (kept until the next generation).

    ``stats``: the server's kept table of files' content hashes by stat (:func:`table`),
    so an unchanged file is not read again: only files whose (mtime, ctime, size,
    inode) changed are read and hashed, as git's index does.
    """
    state, overlay = ctx.state, ctx.overlay
    known = _known(state)
    if stats and not known["shas"]:
        try:
            rows = msgpack.unpackb(stats)
            if isinstance(rows, dict):
                known["shas"] = {p: tuple(r) for p, r in rows.items()}
        except Exception:  # another version's table: read every file instead
            pass
    stamp = (overlay.generation, tuple(overlay.excluded))
    if known.get("stamp") == stamp:
        return known["digest"]
    idx = index_mod.get(state)
    h = hashlib.sha256()
    for part in [f"answers {ANSWERS_VERSION}", *overlay.roots, *interpreter()]:
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    shas: dict[str, tuple] = known["shas"]
    for path in overlay.python_files():
        ctx.check()
        if idx.in_virtualenv(path):
            continue
        sha = _sha(overlay, shas, known, path)
        if sha is None:
            continue
        h.update(path.encode("utf-8", "surrogateescape") + b"\0")
        h.update(bytes.fromhex(sha))
    digest = h.hexdigest()
    if (overlay.generation, tuple(overlay.excluded)) == stamp:
        known.update(stamp=stamp, digest=digest)
    return digest


def table(ctx: CallContext) -> bytes | None:
    """The content hashes by stat this twin knows, if it read files the server's table
    did not know (for the server to keep); None if nothing new."""
    known = _known(ctx.state)
    if not known["read"]:
        return None
    known["read"] = 0
    return msgpack.packb({p: list(r) for p, r in known["shas"].items()})


def _known(state) -> dict:  # type: ignore[no-untyped-def]
    return state.singleton("digest", lambda: {"shas": {}, "read": 0})


def _sha(overlay, shas: dict[str, tuple], known: dict, path: str) -> str | None:  # type: ignore[no-untyped-def]
    """The SHA-256 of a file's bytes as the overlay has them; a disk file unchanged by
    stat since it was last hashed is not read again."""
    if path not in overlay.docs:
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        regular = stat.S_ISREG(st.st_mode) and st.st_size <= overlay.max_file_size
        row = shas.get(path)
        if regular and row is not None and tuple(row[:4]) == key:
            return row[4]
        data = overlay.read_bytes(path)
        if data is None:
            return None
        sha = hashlib.sha256(data).hexdigest()
        if regular and len(data) == st.st_size:  # else it changed while read: not kept
            shas[path] = (*key, sha)
            known["read"] += 1
        return sha
    data = overlay.read_bytes(path)
    return None if data is None else hashlib.sha256(data).hexdigest()

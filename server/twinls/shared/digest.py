"""Shared: the digest of everything a search's answer depends on, computed by the server.

Why: the server keeps references answers across sessions (``server/lsp/kept.py``)
under this digest, and a kept answer is only sound if nothing it was computed
from changed. A file's references verdict is a function of the texts alone (a
jedi state per file, ``twin/queries/jedi_world.py``): the workspace's Python
files as the overlay has them (unsaved buffers, hidden deletions and unsaved
new files included), by content hash, and what jedi reads outside the
workspace: the interpreter (version, executable, ``sys.path`` and each entry's
mtime, which an install or removal of a package changes) and jedi itself (its
version: typeshed ships in it). Only that last part needs the twin's
interpreter (``twin/queries/digest.py``); the texts are the server's mirror,
the same overlay the twins replay, so the server hashes them itself
(:class:`Hashes`): the first walk starts at ``initialized`` while the twins
come up, and after it only the paths the overlay's listener was told about
(an open, a change, a close, a watched-file event, a deletion) are read
again. A kept answer therefore waits for no twin's walk over the workspace.

Not seen: a file changed on disk with no event for it while the server runs
(the twins would read the new text), and an installed package's file edited
in place without its folder's mtime changing (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Sequence

from .. import __version__
from .overlay import Overlay, Venvs

#: Bumped when what a search answers changes for the same texts (a fix in the queries).
ANSWERS_VERSION = 2


def path_stamps(entries: Iterable[str]) -> list[str]:
    """``entry:mtime_ns`` per ``sys.path`` entry (``-`` if absent): a package installed
    or removed changes its folder's mtime."""
    out = []
    for entry in entries:
        try:
            out.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
        except OSError:
            out.append(f"{entry}:-")
    return out


def compose(files: str, roots: Iterable[str], interpreters: Iterable[Sequence[str]]) -> str:
    """The digest a kept answer is filed under: the files' digest (:meth:`Hashes.files`),
    the workspace folders, and each distinct interpreter's parts (in any order)."""
    h = hashlib.sha256()
    parts = [f"answers {ANSWERS_VERSION}", f"twinls {__version__}", *sorted(roots)]
    for interp in sorted({tuple(i) for i in interpreters}):
        parts.append("interpreter")
        parts.extend(interp)
    parts.append(files)
    for part in parts:
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


class Hashes:
    """Content hashes of the Python files an overlay lists, kept current by its listener.

    The walk lists what the twins' index walks (``Overlay.python_files``, virtualenvs
    left out) and hashes each file's bytes as the overlay has them: an open document's
    unsaved text wins over the disk. After that, only touched paths are read again (a
    folder: everything under it). A change of roots, ``exclude`` or ``maxFileSize``
    walks again. Thread-safe: the listener runs on the server's event loop, a walk in a
    thread.
    """

    def __init__(self, overlay: Overlay) -> None:
        self.overlay = overlay
        self._venvs = Venvs(overlay)
        self._shas: dict[str, bytes] = {}
        self._stamp: tuple | None = None  # (roots, exclude, maxFileSize) of the last walk
        self._files: str | None = None  # the digest of ``_shas``, until one changes
        self._touched: set[str] = set()
        self._touch_lock = threading.Lock()
        self._lock = threading.Lock()  # one walk or refresh at a time
        #: Touches seen so far: a digest is of the current texts if this did not move
        #: while it was computed.
        self.touches = 0
        #: Files read and hashed (the first walk's, then the touched ones).
        self.read = 0
        overlay.listeners.append(self.touch)

    def touch(self, path: str) -> None:
        """Something about ``path`` changed (the overlay's listener): read it again."""
        with self._touch_lock:
            self._touched.add(path)
            self.touches += 1

    def _settings(self) -> tuple:
        ov = self.overlay
        return (tuple(ov.roots), tuple(ov.excluded), ov.max_file_size)

    def mark(self) -> tuple:
        """Moves with every touch and settings change: equal marks, equal texts."""
        return (self.touches, self._settings())

    def current(self) -> str | None:
        """The files' digest if nothing needs reading (never blocks), else None."""
        if self._files is None or self._touched or self._stamp != self._settings():
            return None
        return self._files

    def files(self) -> str:
        """The digest of every listed file's path and content hash, current to every
        touch made before the call (blocks: the first walk reads every file)."""
        with self._lock:
            settings = self._settings()
            if settings != self._stamp:
                with self._touch_lock:
                    self._touched.clear()  # the walk reads everything anyway
                self._walk()
                self._stamp, self._files = settings, None
            while True:
                with self._touch_lock:
                    touched, self._touched = self._touched, set()
                if not touched:
                    break
                for path in sorted(touched):
                    self._rehash(path)
                self._files = None
            if self._files is None:
                h = hashlib.sha256()
                for path in sorted(self._shas):
                    h.update(path.encode("utf-8", "surrogateescape") + b"\0")
                    h.update(self._shas[path])
                self._files = h.hexdigest()
            return self._files

    def shas(self) -> dict[str, str]:
        """Path -> SHA-256 (hex) of the files as last hashed (for tests and status)."""
        with self._lock:
            return {p: sha.hex() for p, sha in self._shas.items()}

    def _listed(self, path: str) -> bool:
        return self.overlay.lists(path) and not self._venvs.holds(path)

    def _walk(self) -> None:
        shas: dict[str, bytes] = {}
        for path in self.overlay.python_files():
            if not self._venvs.holds(path):
                self._hash(path, shas)
        self._shas = shas

    def _rehash(self, path: str) -> None:
        prefix = path.rstrip(os.sep) + os.sep
        for p in [p for p in self._shas if p == path or p.startswith(prefix)]:
            del self._shas[p]
        # Under the overlay's lock: ``files_at`` iterates the documents, which the event
        # loop's edits change (the walk's own reads of them are single calls).
        with self.overlay.lock:
            for p in self.overlay.files_at(path, self._listed):
                self._hash(p, self._shas)

    def _hash(self, path: str, into: dict[str, bytes]) -> None:
        data = self.overlay.read_bytes(path)  # unreadable, too big, not a regular file: left out
        self.read += 1
        if data is not None:
            into[path] = hashlib.sha256(data).digest()

"""Twin: the symbol index over the overlay, one :class:`FileEntry` per Python file.

Every search starts here: find-implementors and workspace/symbol read it
directly, references take their candidate files from its identifier sets, and
implementation walks its class table, so no search opens a file it does not
need. It is built on first need (in a background thread, so the twin keeps
answering meanwhile) and kept current by the overlay's listener: an edit marks
one path, and the next use re-reads only that path.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator

import msgpack

from ...shared.overlay import Overlay, Venvs
from .extract import ENTRY_VERSION, Def, FileEntry, extract, from_row, tail, to_row, word

log = logging.getLogger(__name__)

Check = Callable[[], None]


#: Seconds a background build may stand aside, in all, while the twin serves calls:
#: the first search runs at full speed (it does not need the index), and the index
#: is still built under a steady stream of calls.
YIELD_BUDGET = 5.0
#: Names whose scan (before the index is built) is kept, per overlay generation.
SCANS_KEPT = 64


class Index:
    def __init__(self, overlay: Overlay, busy: Callable[[], bool] = lambda: False) -> None:
        self.overlay = overlay
        self.busy = busy  # is the twin's worker serving a call?
        self._yield_left = YIELD_BUDGET
        self._waiting = 0  # callers blocked in ensure()
        #: Replaced, never mutated, so a reader's snapshot stays whole.
        self.entries: dict[str, FileEntry] = {}
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._lock = threading.RLock()
        self._built = False
        self._excluded: tuple[str, ...] = ()
        self._stamps: dict[str, tuple] = {}
        self._by_tail: tuple[dict[str, FileEntry], dict[str, list[tuple[str, Def]]]] | None = None
        self._venvs = Venvs(overlay)
        self._scans: dict[str, dict[str, int]] = {}  # name -> files_with's scan (no index yet)
        self._scans_stamp: tuple = ()
        # Issue 10: entries the server kept from an earlier session, by content hash.
        self._kept: dict[str, list] = {}
        self._kept_shas: set[str] = set()  # of rows taken, once the build dropped them
        self._kept_blob: bytes | None = None  # as the server sent it, until first needed
        self._pieces: list[bytes] = []  # of the kept blob, until its last piece comes
        self._shas: dict[str, str] = {}  # path -> content hash of its entry
        self._fresh = 0  # entries extracted here, not taken from ``_kept``
        self._taken = 0  # entries taken from ``_kept``
        overlay.listeners.append(self._touched)

    # -- keeping current ----------------------------------------------------------------

    def _touched(self, path: str) -> None:
        with self._dirty_lock:
            self._dirty.add(path)

    def start_background(self) -> None:
        """Build now without blocking the caller (the twin's worker keeps serving)."""
        if not self._built:
            threading.Thread(target=self._background, name="twin-index", daemon=True).start()

    def _background(self) -> None:
        self.ensure(pause=self._stand_aside)

    def _stand_aside(self) -> None:
        """Let the worker's call run alone for a moment (within :data:`YIELD_BUDGET`)."""
        while self._yield_left > 0 and not self._waiting and self.busy():
            started = time.monotonic()
            time.sleep(0.005)
            self._yield_left -= time.monotonic() - started

    def ensure(
        self, check: Check | None = None, pause: Callable[[], None] | None = None
    ) -> dict[str, FileEntry]:
        """The entries, built if need be and with every touched path re-read."""
        waits = pause is None  # a caller that needs the index now: no standing aside
        if waits:
            with self._dirty_lock:
                self._waiting += 1
        try:
            with self._lock:
                if not self._built or tuple(self.overlay.excluded) != self._excluded:
                    self._walk(check, pause)
                self._refresh()
                return self.entries
        finally:
            if waits:
                with self._dirty_lock:
                    self._waiting -= 1

    def _walk(self, check: Check | None, pause: Callable[[], None] | None = None) -> None:
        with self._dirty_lock:
            self._dirty.clear()  # the walk reads everything anyway
        excluded = tuple(self.overlay.excluded)
        old = self.entries
        new: dict[str, FileEntry] = {}
        stamps = self._stamps
        fresh_stamps: dict[str, tuple] = {}
        for path in self.overlay.python_files():
            if check is not None:
                check()
            if self._venvs.holds(path):
                continue
            if pause is not None:
                pause()
            stamp = self.overlay.stamp(path)
            if path in old and stamps.get(path) == stamp:
                new[path] = old[path]
            else:
                entry = self._read_quietly(path, old.get(path))
                if entry is None:
                    continue
                new[path] = entry
            fresh_stamps[path] = stamp
        self._stamps = fresh_stamps
        self.entries = new
        self._excluded = excluded
        self._built = True
        # The rows were decoded to make these entries: keep their hashes only (export
        # asks which it has), not a second copy of every entry for the session.
        self._kept_shas |= self._kept.keys()
        self._kept = {}

    def _refresh(self) -> None:
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        entries = dict(self.entries)
        for path in dirty:
            prefix = path.rstrip(os.sep) + os.sep
            for p in [p for p in entries if p == path or p.startswith(prefix)]:
                del entries[p]
                self._stamps.pop(p, None)
            for p in self.overlay.files_at(path, self.indexable):
                stamp = self.overlay.stamp(p)
                entry = self._read(p, self.entries.get(p))
                if entry is not None:
                    entries[p] = entry
                    self._stamps[p] = stamp
        self.entries = entries

    def _read_quietly(self, path: str, previous: FileEntry | None) -> FileEntry | None:
        """``_read`` with the cycle collector paused: entries are long-lived and acyclic, so
        collecting while they pile up only costs time (the whole walk paused made it 5 %
        faster, but it paused the process: a search's dropped parso trees, cyclic, were
        not freed while the walk ran, issue 10's memory)."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._read(path, previous)
        finally:
            if was_enabled:
                gc.enable()

    def _read(self, path: str, previous: FileEntry | None) -> FileEntry | None:
        ov = self.overlay
        if path in ov.docs:
            with ov.lock:  # not half way through an edit the worker is applying
                text = ov.read_text(path)
        else:
            text = ov.read_text(path)
        if text is None or ov.too_big(path, text):
            return None
        sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self._shas[path] = sha
        if self._kept_blob is not None:
            self._decode_kept()
        row = self._kept.get(sha)
        if row is not None:
            try:
                entry = from_row(row)
                self._taken += 1
                return entry
            except (TypeError, ValueError):
                self._kept.pop(sha, None)
        self._fresh += 1
        return extract(text, previous)

    # -- kept across sessions (the server's cache, issue 10) ------------------------------

    def preload(self, blob: bytes | None, more: bool = False) -> None:
        """Entries the server kept (:meth:`export` of an earlier session), decoded when the
        build first needs them: ``search.warm`` runs on the worker, and a hover sent behind
        it must not wait for a decode of every entry. ``more``: a piece, the rest follows
        (the pieces are joined when the last one comes)."""
        if blob:
            self._pieces.append(blob)
        if not more and self._pieces:
            self._kept_blob, self._pieces = b"".join(self._pieces), []

    def _decode_kept(self) -> None:
        """Decode the kept entries row by row (under the build's lock): between rows the
        worker gets the interpreter, so calls are answered meanwhile; bad ones ignored."""
        blob, self._kept_blob = self._kept_blob, None
        if not blob:
            return
        rows: dict[str, list] = {}
        try:
            unpacker = msgpack.Unpacker(max_buffer_size=len(blob))
            unpacker.feed(blob)
            head: dict[str, object] = {}
            for _ in range(unpacker.read_map_header()):
                field = unpacker.unpack()
                if field != "rows":
                    head[field] = unpacker.unpack()
                    continue
                if head.get("v") != ENTRY_VERSION or head.get("py") != list(sys.version_info[:2]):
                    raise ValueError(f"entries of {head}")
                for _ in range(unpacker.read_map_header()):
                    sha = unpacker.unpack()
                    rows[sha] = unpacker.unpack()
        except Exception as exc:  # a blob of another version or shape: build as if none
            log.info("the server's kept index entries are unusable: %r", exc)
            return
        self._kept = rows

    def export(self) -> bytes | None:
        """Every entry that parsed, by content hash (for the server to keep); None if the
        kept ones already hold them all.

        Only entries that parse: a broken file's entry keeps the last good definitions
        of *this* session, which another session would not have.
        """
        with self._lock:  # the background build holds it (waiting here does not hurry it)
            entries = self.ensure()
            if self._kept_blob is not None:
                self._decode_kept()
        rows = {self._shas[p]: to_row(e) for p, e in entries.items() if e.ok and p in self._shas}
        if not self._fresh and rows.keys() <= self._kept.keys() | self._kept_shas:
            return None
        py = list(sys.version_info[:2])
        return msgpack.packb({"v": ENTRY_VERSION, "py": py, "rows": rows})

    def indexable(self, path: str) -> bool:
        """Would a walk of the roots list ``path``? (skip folders, exclusions, suffix)"""
        return self.overlay.lists(path) and not self._venvs.holds(path)

    def in_virtualenv(self, path: str) -> bool:
        """Under a folder holding ``pyvenv.cfg`` (a virtualenv, whatever its name)?"""
        return self._venvs.holds(path)

    # -- reading ------------------------------------------------------------------------

    def files_with(self, name: str, check: Check | None = None) -> dict[str, int]:
        """Files whose text holds ``name`` as a whole identifier (a superset of its uses).

        Maps each to its size. Until the index is built, the files are read and
        searched instead (well under a second where the build takes seconds), so
        the first search of a session does not wait for the whole index; what
        such a scan found is kept until the overlay or ``exclude`` changes, so a
        repeat does not read every file again while the build is still going
        (on a loaded machine it takes minutes on the standard library).
        """
        if self._built:
            return {p: e.size for p, e in self.ensure(check).items() if e.has(name)}
        stamp = (self.overlay.generation, self._excluded)
        if self._scans_stamp != stamp:
            self._scans, self._scans_stamp = {}, stamp
        if name in self._scans:
            return dict(self._scans[name])
        whole = word(name)
        found: dict[str, int] = {}
        for path in self.overlay.python_files():
            if check is not None:
                check()
            if self._venvs.holds(path):
                continue
            text = self.overlay.read_text(path)
            if text is not None and name in text and whole.search(text):
                found[path] = len(text)
        if (self.overlay.generation, self._excluded) == stamp and len(self._scans) < SCANS_KEPT:
            self._scans[name] = found
        return dict(found)

    def definitions(self, check: Check | None = None) -> Iterator[tuple[str, Def]]:
        for path, entry in self.ensure(check).items():
            for d in entry.defs:
                yield path, d

    def subclass_candidates(self, name: str) -> list[tuple[str, Def]]:
        """Classes with a base whose last dotted component is ``name`` (to be checked)."""
        entries = self.ensure()
        cached = self._by_tail
        if cached is None or cached[0] is not entries:
            table: dict[str, list[tuple[str, Def]]] = defaultdict(list)
            for path, entry in entries.items():
                for d in entry.defs:
                    for base in d.bases:
                        table[tail(base)].append((path, d))
            cached = self._by_tail = (entries, table)
        return cached[1].get(name, [])

    def entry(self, path: str) -> FileEntry | None:
        return self.ensure().get(path)


def stats(state) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """``twinls.status``'s ``twins[].index``: entries read this session, and how many of
    them came from the server's cache (``kept``); empty before the first search."""
    idx = state.existing("index")
    if idx is None:
        return {}
    return {"files": len(idx.entries), "kept": idx._taken, "extracted": idx._fresh}


def get(state) -> Index:  # type: ignore[no-untyped-def]
    """The twin's one index (``state`` is the TwinState)."""

    def busy() -> bool:  # a call in the worker (a detached test run waits elsewhere)
        return any(not c.detached for c in list(state.calls.values()))

    return state.singleton("index", lambda: Index(state.overlay, busy))

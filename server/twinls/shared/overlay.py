"""Shared: the overlay, the editor's view of the workspace, read through to disk.

Like rust-analyzer's VFS and the remote image's changes file: an untouched file
is read from disk when asked for, an edited one from memory; unsaved new files
are listed beside the disk's and files deleted in the editor are hidden. Memory
grows with what was edited, never with the size of the workspace, and nothing
here ever writes to disk.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .textbuf import Edit, EditOutOfRange, TextBuffer, text_crc

log = logging.getLogger(__name__)

#: Default ``maxFileSize``: files bigger than this are not read from disk, nor indexed
#: when open (VS Code's and pyright's large-file line is 50 MB; the index costs ~60x a
#: file's size at its peak, so lower).
MAX_FILE_SIZE = 4 * 1024 * 1024

#: Folders no search or index should walk into.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "build",
        "dist",
        ".eggs",
        "site-packages",
    }
)


class Divergence(Exception):
    """The twin's copy no longer matches the server's; it needs the full text."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(slots=True)
class Doc:
    buffer: TextBuffer
    version: int
    stamp: int  # bumps per edit; part of the index's cache key


@dataclass
class Overlay:
    """Memory over disk, keyed by absolute path."""

    roots: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    docs: dict[str, Doc] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    generation: int = 0
    _stamps: int = 0
    #: Called with a path after anything about it changed (the index listens).
    listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    #: Disk files bigger than this are skipped (logged once, listed in ``skipped``).
    max_file_size: int = MAX_FILE_SIZE
    #: Paths not read from disk and why ("not a regular file", "12 MB > limit").
    skipped: dict[str, str] = field(default_factory=dict)

    # -- edits (the twin applies these in seq order) -------------------------------

    def _changed(self, path: str) -> int:
        """Bump the stamps and tell listeners; call after the change is in place."""
        self._stamps += 1
        self.generation += 1
        for listener in self.listeners:
            listener(path)
        return self._stamps

    def _restamped(self) -> int:
        """A new stamp for a document whose bytes read the same as before: no generation.

        Why: every cache kept per generation (a search's verdicts, the lane, kept hovers)
        went at each file the editor opened or closed; opening the file asked at dropped
        every file's references verdict (issue 10). Nothing that reads the overlay can
        tell the difference, so nothing is told (no listener)."""
        self._stamps += 1
        return self._stamps

    def _reads_as(self, path: str, text: str) -> bool:
        """Whether ``path`` reads as the bytes of ``text`` now (a lone surrogate: never)."""
        try:
            return self.read_bytes(path) == text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return False

    def open(self, path: str, text: str, version: int) -> None:
        with self.lock:
            same = self._reads_as(path, text)
            self.docs[path] = Doc(TextBuffer(text), version, 0)
            self.deleted.discard(path)
            self.docs[path].stamp = self._restamped() if same else self._changed(path)

    def change(self, path: str, version: int, edits: Iterable[Edit], crc: int | None) -> None:
        """Apply code-point edits strictly; any mismatch is a :class:`Divergence`."""
        with self.lock:
            doc = self.docs.get(path)
            if doc is None:
                raise Divergence(path, "edit for a document the twin does not have")
            try:
                for edit in edits:
                    doc.buffer.apply(edit, strict=True)
            except EditOutOfRange as exc:
                raise Divergence(path, str(exc)) from exc
            finally:
                doc.version = version
                doc.stamp = self._changed(path)
            if crc is not None and text_crc(doc.buffer.text) != crc:
                raise Divergence(path, "text differs from the server's after the edit")

    def verify(self, path: str, crc: int) -> None:
        """Check this copy against the server's CRC; a mismatch is a :class:`Divergence`."""
        doc = self.docs.get(path)
        if doc is not None and text_crc(doc.buffer.text) != crc:
            raise Divergence(path, "text differs from the server's")

    def close(self, path: str) -> None:
        with self.lock:
            doc = self.docs.pop(path, None)
            if doc is not None and not self._reads_as(path, doc.buffer.text):
                self._changed(path)  # else the disk holds what the editor had: no change

    def delete(self, path: str) -> None:
        """Hide a file (and everything under it) deleted in the editor."""
        with self.lock:
            prefix = path.rstrip(os.sep) + os.sep
            for p in [p for p in self.docs if p == path or p.startswith(prefix)]:
                del self.docs[p]
            self.deleted.add(path)
            self._changed(path)

    def disk_changed(self, path: str) -> None:
        """A file changed or appeared on disk: it is no longer hidden."""
        with self.lock:
            self.deleted.discard(path)
            self._changed(path)

    # -- reads (everything in the twin goes through these) -----------------------

    def is_hidden(self, path: str) -> bool:
        if not self.deleted:
            return False
        p = path
        while True:
            if p in self.deleted:
                return path not in self.docs
            parent = os.path.dirname(p)
            if parent == p:
                return False
            p = parent

    def read_text(self, path: str) -> str | None:
        """The editor's text of a file: memory first, then disk; None if absent."""
        doc = self.docs.get(path)
        if doc is not None:
            with self.lock:  # never half way through an edit (the search lane reads meanwhile)
                return doc.buffer.text
        if self.is_hidden(path):
            return None
        data = self.read_disk(path)
        return None if data is None else decode_source(data)

    def read_bytes(self, path: str) -> bytes | None:
        doc = self.docs.get(path)
        if doc is not None:
            with self.lock:
                return doc.buffer.text.encode("utf-8", "surrogateescape")
        if self.is_hidden(path):
            return None
        return self.read_disk(path)

    def read_disk(self, path: str) -> bytes | None:
        """A regular file's bytes, or None: nothing here blocks or reads without bound.

        A symlink to ``/dev/zero`` or a FIFO named ``x.py`` (one line in a cloned
        repository) is not a source file: the target is opened non-blocking and
        checked with ``fstat`` before a byte is read, and a file over
        ``max_file_size`` is skipped.
        """
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self._skip(path, "not a regular file")
                return None
            if st.st_size > self.max_file_size:
                self._skip(
                    path, f"{st.st_size} bytes, over the maxFileSize of {self.max_file_size}"
                )
                return None
            chunks = []
            left = st.st_size + 1  # one more: a file that grows is cut at the limit
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            data = b"".join(chunks)
            if len(data) > self.max_file_size:
                self._skip(path, f"grew over the maxFileSize of {self.max_file_size}")
                return None
            self.skipped.pop(path, None)
            return data
        except OSError:
            return None
        finally:
            os.close(fd)

    def too_big(self, path: str, text: str) -> bool:
        """An open document over ``max_file_size`` (the index skips it, and says so)."""
        if len(text) <= self.max_file_size:
            return False
        self._skip(path, f"{len(text)} characters, over the maxFileSize of {self.max_file_size}")
        return True

    def _skip(self, path: str, why: str) -> None:
        if self.skipped.get(path) != why:
            log.warning("not reading %s: %s", path, why)
            self.skipped[path] = why

    def is_file(self, path: str) -> bool:
        """A document, or a regular file on disk (a FIFO or a device is no source)."""
        if path in self.docs:
            return True
        return not self.is_hidden(path) and os.path.isfile(path)

    def is_dir(self, path: str) -> bool:
        if self.is_hidden(path):
            return False
        if os.path.isdir(path):
            return True
        prefix = path.rstrip(os.sep) + os.sep
        return any(p.startswith(prefix) for p in self.docs)

    def exists(self, path: str) -> bool:
        return self.is_file(path) or self.is_dir(path)

    def stamp(self, path: str) -> tuple:
        """Changes whenever the text of ``path`` may have changed."""
        doc = self.docs.get(path)
        if doc is not None:
            return ("mem", doc.stamp)
        try:
            st = os.stat(path)
        except OSError:
            return ("gone",)
        return ("disk", st.st_mtime_ns, st.st_size)

    def is_dirty(self, path: str) -> bool:
        return path in self.docs

    def listdir(self, path: str) -> list[str]:
        """Names in a folder: the disk's, less the hidden, plus unsaved new files."""
        names: set[str] = set()
        if not self.is_hidden(path):
            try:
                names.update(os.listdir(path))
            except OSError:
                pass
        prefix = path.rstrip(os.sep) + os.sep
        for p in self.docs:
            if p.startswith(prefix):
                names.add(p[len(prefix) :].split(os.sep, 1)[0])
        return sorted(n for n in names if not self.is_hidden(os.path.join(path, n)))

    def is_excluded(self, path: str) -> bool:
        name = os.path.basename(path)
        return any(fnmatch.fnmatch(path, g) or fnmatch.fnmatch(name, g) for g in self.excluded)

    def python_files(self, roots: Iterable[str] | None = None) -> Iterator[str]:
        """Every visible ``.py`` file under the roots, open buffers included."""
        seen: set[str] = set()
        for root in roots if roots is not None else self.roots:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(
                    d
                    for d in dirnames
                    if d not in SKIP_DIRS
                    and not d.endswith(".egg-info")
                    and not self.is_hidden(os.path.join(dirpath, d))
                    and not self.is_excluded(os.path.join(dirpath, d))
                )
                for name in sorted(filenames):
                    if name.endswith((".py", ".pyi")):
                        p = os.path.join(dirpath, name)
                        if p not in seen and not self.is_hidden(p) and not self.is_excluded(p):
                            seen.add(p)
                            yield p
            prefix = root.rstrip(os.sep) + os.sep
            for p in sorted(self.docs):
                if p.endswith((".py", ".pyi")) and p.startswith(prefix) and p not in seen:
                    rel = p[len(prefix) :].split(os.sep)[:-1]
                    if not any(d in SKIP_DIRS for d in rel) and not self.is_excluded(p):
                        seen.add(p)
                        yield p

    def lists(self, path: str) -> bool:
        """Would :meth:`python_files` list ``path``? (its rules for one path: suffix, skipped
        folders, exclusions, hidden)"""
        if not path.endswith((".py", ".pyi")):
            return False
        for root in self.roots:
            prefix = root.rstrip(os.sep) + os.sep
            if not path.startswith(prefix):
                continue
            folder = root
            for part in path[len(prefix) :].split(os.sep)[:-1]:
                folder = os.path.join(folder, part)
                if part in SKIP_DIRS or part.endswith(".egg-info") or self.is_excluded(folder):
                    return False
            return not self.is_excluded(path) and not self.is_hidden(path)
        return False

    def files_at(self, path: str, listed: Callable[[str], bool]) -> list[str]:
        """The files ``listed`` keeps at or under a touched ``path`` (a file or a folder):
        what a listener that keeps one thing per file re-reads after a change."""
        if self.is_dir(path):
            return [p for p in self.python_files([path]) if listed(p)]
        return [path] if listed(path) and self.is_file(path) else []

    def texts(self) -> dict[str, str]:
        """Open documents' texts (for status hashes and snapshots)."""
        with self.lock:
            return {p: d.buffer.text for p, d in self.docs.items()}


class Venvs:
    """Which folders are virtualenvs (hold ``pyvenv.cfg``, whatever their name), memoized:
    their files are the interpreter's, not the workspace's (a workspace folder that is
    itself a venv is still searched)."""

    def __init__(self, overlay: Overlay) -> None:
        self.overlay = overlay
        self._dirs: dict[str, bool] = {}

    def holds(self, path: str) -> bool:
        """Is ``path`` under a virtualenv (below the workspace folder)?"""
        folder = os.path.dirname(path)
        seen: list[str] = []
        found = False
        while folder not in self._dirs:
            seen.append(folder)
            if folder in self.overlay.roots:
                break  # a workspace folder is searched even if it is itself a venv
            if os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
                found = True
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        else:
            found = self._dirs[folder]
        for f in seen:
            self._dirs[f] = found
        return found


def decode_source(data: bytes) -> str:
    """Bytes of a source file as text: PEP 263 coding if declared, else UTF-8.

    A file that is not valid in its encoding still yields text (replacement
    characters), so one bad file never breaks a search over the workspace.
    """
    import tokenize
    from io import BytesIO

    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return data.decode("utf-8", "replace")

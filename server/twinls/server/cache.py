"""Server: the persistent cache the server owns (namespace, key -> bytes), in the user's cache dir.

Why the server and never a twin: twins write nothing to disk (their answers
must be a function of the editor's text, and `tests/test_no_disk_writes.py`
holds them to it); the server is the main image and may keep what pays across
sessions. The twins never see this module: what they should reuse reaches them
as query arguments, what they computed comes back as query answers.

Layout: ``<XDG_CACHE_HOME or ~/.cache>/twinls/v<VERSION>/<namespace>/<hh>/<sha>``,
``sha`` the SHA-256 of the key, so any key (a content hash and interpreter, a
workspace digest and a question) is a safe file name. An entry is
``MAGIC + sha256(payload) + payload``: a torn or foreign file fails the check,
is ignored and removed. A write goes to a temporary file in the cache dir and
``os.replace``s the entry, so a reader (another server, concurrently) sees the
old entry or the new one whole, never a mix. Past :attr:`Cache.cap` bytes the
least recently used entries go (a read touches its entry's mtime).

Bumping :data:`VERSION` orphans every old entry (its folder is removed at open).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: The cache's format; a new one leaves the old entries behind (and removes them).
VERSION = 1
MAGIC = b"twinls-cache\x01"
_HEAD = len(MAGIC) + 32
#: Default size cap in MiB (``cacheSize``).
DEFAULT_CAP_MIB = 256


def default_dir() -> Path:
    """``$XDG_CACHE_HOME/twinls``, else ``~/.cache/twinls``."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "twinls"


class Cache:
    """A size-capped, versioned store of bytes under :func:`default_dir` (or ``root``)."""

    def __init__(self, root: Path | None = None, cap: int = DEFAULT_CAP_MIB << 20) -> None:
        self.base = Path(root) if root is not None else default_dir()
        self.root = self.base / f"v{VERSION}"
        self.cap = cap
        self._lock = threading.Lock()
        self._size: int | None = None  # bytes under root, counted on first write
        self.hits = self.misses = self.writes = self.dropped = 0

    def _path(self, namespace: str, key: str) -> Path:
        if not namespace.isidentifier():
            raise ValueError(f"cache namespace must be an identifier, got {namespace!r}")
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.root / namespace / digest[:2] / digest

    def get(self, namespace: str, key: str) -> bytes | None:
        """The bytes put under ``key``, or None (absent, torn, or unreadable: then removed)."""
        path = self._path(namespace, key)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            self.misses += 1
            return None
        payload, check = raw[_HEAD:], raw[len(MAGIC) : _HEAD]
        if raw[: len(MAGIC)] != MAGIC or hashlib.sha256(payload).digest() != check:
            log.warning("cache entry %s is torn or foreign; removed", path)
            self.dropped += 1
            self.misses += 1
            _unlink(path)
            return None
        try:
            os.utime(path)  # recently used: the last to be evicted
        except OSError:
            pass
        self.hits += 1
        return payload

    def drop(self, namespace: str, key: str) -> None:
        """Forget ``key`` (its bytes did not decode as their reader expects)."""
        self.dropped += 1
        _unlink(self._path(namespace, key))

    def put(self, namespace: str, key: str, data: bytes) -> bool:
        """Store ``data`` (whole or not at all); False if the disk refused (logged)."""
        if len(data) + _HEAD > self.cap:
            return False
        path = self._path(namespace, key)
        try:
            self._open()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(MAGIC + hashlib.sha256(data).digest() + data)
                os.replace(tmp, path)
            except BaseException:
                _unlink(Path(tmp))
                raise
        except OSError as exc:
            log.warning("cannot write the cache entry %s: %s", path, exc)
            return False
        self.writes += 1
        with self._lock:
            if self._size is not None:
                self._size += len(data) + _HEAD
            over = self._size is None or self._size > self.cap
        if over:
            self._evict()
        return True

    def _open(self) -> None:
        """First write: make the root, remove other versions' folders."""
        if self.root.is_dir():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        for old in self.base.glob("v*"):
            if old.is_dir() and old.name != self.root.name and old.name[1:].isdigit():
                shutil.rmtree(old, ignore_errors=True)

    def _evict(self) -> None:
        """Least recently used entries out until the total is under :attr:`cap`."""
        entries: list[tuple[int, int, Path]] = []
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                p = Path(dirpath) / name
                try:
                    st = p.stat()
                except OSError:
                    continue
                entries.append((st.st_mtime_ns, st.st_size, p))
        total = sum(size for _, size, _ in entries)
        entries.sort()
        for _, size, p in entries:
            if total <= self.cap:
                break
            _unlink(p)
            total -= size
        with self._lock:
            self._size = total

    def size(self) -> int:
        """Bytes the entries take now (walks the folder)."""
        return sum(
            (Path(d) / f).stat().st_size for d, _, files in os.walk(self.root) for f in files
        )


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass

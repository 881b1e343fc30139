"""Server: the persistent cache (``server/cache.py``): whole entries or none, capped, versioned."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from twinls.server import cache as cache_mod
from twinls.server.cache import Cache


def entry_files(c: Cache) -> list[Path]:
    return sorted(p for p in c.root.rglob("*") if p.is_file())


def test_a_put_reads_back_and_a_missing_key_is_none(tmp_path):
    c = Cache(tmp_path)
    assert c.get("refs", "k") is None
    assert c.put("refs", "k", b"answer")
    assert c.get("refs", "k") == b"answer"
    assert Cache(tmp_path).get("refs", "k") == b"answer"  # another session
    assert c.get("index", "k") is None  # namespaces apart
    assert not [p for p in tmp_path.rglob(".tmp-*")]  # no temporary file left


@pytest.mark.parametrize(
    "tear",
    [
        lambda raw: raw[: len(raw) // 2],  # a write cut short
        lambda raw: b"",  # an empty file
        lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]),  # one bit flipped
        lambda raw: b"not a cache entry at all",  # a foreign file
    ],
)
def test_a_torn_entry_is_ignored_and_removed(tmp_path, tear):
    c = Cache(tmp_path)
    c.put("refs", "k", b"answer" * 100)
    (path,) = entry_files(c)
    path.write_bytes(tear(path.read_bytes()))
    assert c.get("refs", "k") is None
    assert not path.exists()
    assert c.put("refs", "k", b"again") and c.get("refs", "k") == b"again"


def test_the_cap_evicts_the_least_recently_used(tmp_path):
    c = Cache(tmp_path, cap=3 * (1000 + 100))
    for i, name in enumerate(["a", "b", "c"]):
        c.put("refs", name, bytes(1000))
        # Distinct ages, whatever the clock's resolution:
        os.utime(c._path("refs", name), ns=(i * 10**9, i * 10**9))
    assert c.get("refs", "a") is not None  # read: now the most recently used
    c.put("refs", "d", bytes(1000))
    assert c.get("refs", "b") is None  # the oldest went
    assert all(c.get("refs", k) is not None for k in "acd")
    assert c.size() <= c.cap
    assert not Cache(tmp_path, cap=10).put("refs", "big", bytes(100))  # larger than the cap


def test_a_new_version_removes_the_old_entries(tmp_path, monkeypatch):
    Cache(tmp_path).put("refs", "k", b"old")
    monkeypatch.setattr(cache_mod, "VERSION", cache_mod.VERSION + 1)
    c = Cache(tmp_path)
    assert c.get("refs", "k") is None
    c.put("refs", "other", b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"v{cache_mod.VERSION}"]


def test_the_directory_follows_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_mod.default_dir() == tmp_path / "xdg" / "twinls"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_mod.default_dir() == tmp_path / "home" / ".cache" / "twinls"


def _writer(root: str, n: int) -> None:
    c = Cache(Path(root))
    for i in range(200):
        c.put("refs", "shared", bytes([n]) * (1000 + i))


def test_concurrent_writers_leave_one_whole_entry(tmp_path):
    """Two servers writing one key at once: a reader sees one writer's bytes, whole."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), n)) for n in (1, 2)]
    for p in procs:
        p.start()
    c = Cache(tmp_path)
    seen = 0
    while any(p.is_alive() for p in procs):
        data = c.get("refs", "shared")
        if data is not None:
            assert len(set(data)) == 1 and 1000 <= len(data) < 1200
            seen += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    data = c.get("refs", "shared")
    assert data is not None and len(set(data)) == 1
    assert c.dropped == 0  # never a torn entry
    assert not list(tmp_path.rglob(".tmp-*"))

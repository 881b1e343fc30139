"""Canary for parso's private API (twin/parso_compat.py): its disk cache, switched off."""

from __future__ import annotations

import parso
import parso.cache
import pytest

from twinls.twin import parso_compat


@pytest.mark.parametrize("name", parso_compat.DISK_CACHE)
def test_the_disk_cache_functions_are_where_we_expect_them(name):
    assert callable(getattr(parso.cache, name)), f"parso.cache.{name} moved"


def test_a_moved_hook_is_an_error_not_a_silent_cache(monkeypatch):
    monkeypatch.delattr(parso.cache, parso_compat.DISK_CACHE[0])
    with pytest.raises(RuntimeError, match="moved"):
        parso_compat.disable_disk_cache()


def test_with_the_cache_off_parsing_writes_nothing(tmp_path, monkeypatch):
    for name in parso_compat.DISK_CACHE:
        monkeypatch.setattr(parso.cache, name, getattr(parso.cache, name))
    parso_compat.disable_disk_cache()
    grammar = parso.load_grammar()
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    grammar.parse(path=str(path), cache=True, diff_cache=True, cache_path=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def _parse(tmp_path, name: str) -> None:
    path = tmp_path / name
    if not path.exists():
        path.write_text(f"{name[:-3]} = 1\n")
    parso.load_grammar().parse(path=str(path), cache=True)


def test_parsos_memory_cache_is_where_we_expect_it(tmp_path):
    """``parser_cache``: grammar hash -> path -> item with ``node`` and ``last_used``, and a
    cache hit moves ``last_used`` (what makes the trim least recently used)."""
    parso_compat.disable_disk_cache()
    parso.cache.parser_cache.clear()
    _parse(tmp_path, "a.py")
    (by_path,) = parso.cache.parser_cache.values()
    (item,) = by_path.values()
    assert item.node.type == "file_input"
    item.last_used = 0.0
    _parse(tmp_path, "a.py")
    assert item.last_used > 0.0
    assert parso_compat.tree_count() == 1


def test_trimming_keeps_the_most_recently_used_and_the_pinned(tmp_path):
    parso_compat.disable_disk_cache()
    parso.cache.parser_cache.clear()
    for name in ("a.py", "b.py", "c.py", "d.py"):
        _parse(tmp_path, name)
    for i, item in enumerate(next(iter(parso.cache.parser_cache.values())).values()):
        item.last_used = float(i)  # a.py the oldest, d.py the newest
    _parse(tmp_path, "a.py")  # used again: the most recent
    pinned = {str(tmp_path / "b.py")}
    assert parso_compat.trim_trees(1, pinned) == 2
    kept = {str(p) for by_path in parso.cache.parser_cache.values() for p in by_path}
    assert kept == {str(tmp_path / "a.py"), str(tmp_path / "b.py")}  # c.py, d.py dropped
    assert parso_compat.trim_trees(1, pinned) == 0


def test_a_moved_memory_cache_is_an_error(monkeypatch):
    monkeypatch.delattr(parso.cache, "parser_cache")
    with pytest.raises(RuntimeError, match="moved"):
        parso_compat.tree_count()

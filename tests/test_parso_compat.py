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

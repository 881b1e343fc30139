"""Twin: the index's entries kept by the server (``Index.preload``/``export``): taken by
content hash, decoded row by row when the build first needs them, another version's
ignored (built as if none)."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest

from twinls.shared.overlay import Overlay
from twinls.twin.queries.index import Index

FILES = {"a.py": "def f():\n    pass\n", "pkg/b.py": "class B:\n    def m(self):\n        f()\n"}


def built(root: Path, blob: bytes | None = None) -> Index:
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    idx = Index(Overlay(roots=[str(root)]))
    idx.preload(blob)
    idx.ensure()
    return idx


def counts(idx: Index) -> tuple[int, int]:
    return idx._taken, idx._fresh  # what twinls.status says as ``kept``, ``extracted``


def test_kept_entries_are_taken_by_content_hash(tmp_path):
    first = built(tmp_path / "one")
    blob = first.export()
    assert blob and counts(first) == (0, 2)
    second = built(tmp_path / "two", blob)  # other paths, the same texts
    assert counts(second) == (2, 0)
    assert {p.rsplit("/", 1)[1]: e.defs for p, e in second.entries.items()} == {
        p.rsplit("/", 1)[1]: e.defs for p, e in first.entries.items()
    }
    assert second.export() is None  # nothing new to keep
    assert second._kept == {}  # the decoded rows are not held beside the entries they made


@pytest.mark.parametrize(
    "spoil",
    [
        lambda kept: {**kept, "v": -1},  # another entry version
        lambda kept: {**kept, "py": [2, 7]},  # another Python
        lambda kept: {**kept, "rows": "not a map"},
    ],
)
def test_another_versions_entries_are_ignored(tmp_path, spoil):
    blob = built(tmp_path / "one").export()
    assert blob is not None
    spoilt = msgpack.packb(spoil(msgpack.unpackb(blob)))
    assert counts(built(tmp_path / "two", spoilt)) == (0, 2)
    assert counts(built(tmp_path / "three", blob[: len(blob) // 2])) == (0, 2)  # torn


def test_entries_sent_in_pieces_are_taken_once_the_last_piece_came(tmp_path):
    blob = built(tmp_path / "one").export()
    assert blob is not None
    for rel, text in FILES.items():
        (tmp_path / "two" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "two" / rel).write_text(text)
    idx = Index(Overlay(roots=[str(tmp_path / "two")]))
    cut = len(blob) // 3
    idx.preload(blob[:cut], more=True)
    idx.preload(blob[cut : 2 * cut], more=True)
    idx.preload(blob[2 * cut :])
    idx.ensure()
    assert counts(idx) == (2, 0)

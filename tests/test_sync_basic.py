"""The twin mirrors the editor: open, incremental edits, close."""

from __future__ import annotations

from lsprotocol import types

from lsp_harness import lsp_session
from twinls.textbuf import text_sha256


def rng(sl: int, sc: int, el: int, ec: int) -> types.Range:
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


async def test_incremental_edits_reach_the_twin(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    async with lsp_session(tmp_path) as client:
        client.open("a.py", "x = 1\n")
        client.change(
            "a.py", types.TextDocumentContentChangePartial(range=rng(0, 4, 0, 5), text="42")
        )
        client.change(
            "a.py",
            types.TextDocumentContentChangePartial(range=rng(1, 0, 1, 0), text="y = 'é😀'\n"),
        )
        st = await client.status()
        path = str((tmp_path / "a.py").resolve())
        expected = text_sha256("x = 42\ny = 'é😀'\n")
        assert st["server"]["hashes"][path] == expected
        assert st["twins"][0]["hashes"][path] == expected
        assert (tmp_path / "a.py").read_text() == "x = 1\n"

"""The twin mirrors the editor: open, incremental edits, close."""

from __future__ import annotations

from lsprotocol import types

from lsp_harness import lsp_session
from twinls.shared.textbuf import text_sha256


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


async def test_twin_is_warm_and_holds_only_what_was_edited(tmp_path):
    for i in range(30):
        (tmp_path / f"m{i}.py").write_text(f"X = {i}\n")
    async with lsp_session(tmp_path) as client:
        assert "workspace/didChangeWatchedFiles" in client.registrations
        client.open("m1.py")
        twin = (await client.status())["twins"][0]
        assert {"jedi", "parso", "pytest"} <= set(twin["warm"])
        assert twin["overlay_files"] == 1
        assert twin["pid"] != client._server.pid


async def test_files_deleted_in_the_editor_are_hidden_until_they_come_back(tmp_path):
    (tmp_path / "gone.py").write_text("A = 1\n")
    path = str((tmp_path / "gone.py").resolve())
    async with lsp_session(tmp_path) as client:
        client.workspace_did_delete_files(
            types.DeleteFilesParams(files=[types.FileDelete(uri=client.uri("gone.py"))])
        )
        assert (await client.status())["twins"][0]["deleted"] == [path]
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(uri=client.uri("gone.py"), type=types.FileChangeType.Created)
                ]
            )
        )
        assert (await client.status())["twins"][0]["deleted"] == []
        client.open("new_unsaved.py", "B = 2\n")  # exists only in the editor
        twin = (await client.status())["twins"][0]
        assert str((tmp_path / "new_unsaved.py").resolve()) in twin["hashes"]
        assert not (tmp_path / "new_unsaved.py").exists()


async def test_several_changes_in_one_notification_apply_in_order(tmp_path):
    async with lsp_session(tmp_path) as client:
        client.open("m.py", "ab\n")
        client.change(
            "m.py",
            types.TextDocumentContentChangePartial(range=rng(0, 0, 0, 0), text="x\n"),
            # Read against the text the first change left: line 1 is now "ab".
            types.TextDocumentContentChangePartial(range=rng(1, 1, 1, 2), text="Z"),
        )
        st = await client.status()
        path = str((tmp_path / "m.py").resolve())
        assert st["server"]["hashes"][path] == text_sha256("x\naZ\n")
        assert st["twins"][0]["hashes"][path] == text_sha256("x\naZ\n")

"""Hostile workspaces and any text: a device, a FIFO, a huge file, a lone surrogate,
a file name that is not UTF-8. The editor's requests are answered and no twin dies."""

from __future__ import annotations

import os
from pathlib import Path

from lsprotocol import types

from lsp_harness import lsp_session
from twinls.shared.textbuf import text_sha256

APP = "def helper():\n    return 1\n"
TEST_APP = "from app import helper\n\n\ndef test_helper():\n    assert helper() == 1\n"


def pos(line: int, col: int) -> types.Position:
    return types.Position(line, col)


async def references(client, rel: str, line: int, col: int) -> set[tuple[str, int]]:
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri(rel)),
            position=pos(line, col),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    return {
        (
            Path(loc.uri).name if "://" not in loc.uri else loc.uri.rsplit("/", 1)[1],
            loc.range.start.line,
        )
        for loc in found or []
    }


async def test_dev_zero_fifo_and_huge_files_are_skipped_and_said_so(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "test_app.py").write_text(TEST_APP)
    (tmp_path / "zero.py").symlink_to("/dev/zero")  # one line in a cloned repository
    os.mkfifo(tmp_path / "x.py")  # open() on it blocks until a writer comes
    (tmp_path / "big.py").write_text("def helper_in_big():\n    pass\n" + "x = 1\n" * 4000)
    async with lsp_session(tmp_path, {"maxFileSize": 4096}) as client:
        twin = (await client.status())["twins"][0]["pid"]
        client.open("test_app.py")
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(uri=client.uri("test_app.py")))
        )
        assert {lens.command.title for lens in lenses} == {"▶ Run file", "▶ Run test"}
        assert await references(client, "test_app.py", 4, 12) == {
            ("app.py", 0),
            ("test_app.py", 0),
            ("test_app.py", 4),
        }
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="helper"))
        assert {s.name for s in symbols} == {"helper", "test_helper"}  # not big.py's
        implementors = await client.command("twinls.findImplementors", "helper")
        assert [loc["uri"].rsplit("/", 1)[1] for loc in implementors] == ["app.py"]
        result = await client.command("twinls.runFile", {"uri": client.uri("test_app.py")})
        assert result["outcome"] == "passed"
        st = await client.status()
        assert st["twins"][0]["pid"] == twin  # no twin was lost on the way
        skipped = {Path(p).name: why for p, why in st["twins"][0]["skipped"].items()}
        assert skipped["zero.py"] == "not a regular file"
        assert skipped["x.py"] == "not a regular file"
        assert "over the maxFileSize of 4096" in skipped["big.py"]


async def test_a_lone_surrogate_in_a_document_travels_and_no_twin_dies(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    text = "s = '\ud800'\n\n\ndef uses():\n    return helper()\n"
    async with lsp_session(tmp_path) as client:
        twin = (await client.status())["twins"][0]["pid"]
        client.open("odd.py", text)  # legal JSON: "\ud800"
        client.change(
            "odd.py",
            types.TextDocumentContentChangePartial(
                range=types.Range(pos(0, 0), pos(0, 0)), text="t = '\udfff'\n"
            ),
        )
        path = str((tmp_path / "odd.py").resolve())
        expected = text_sha256("t = '\udfff'\n" + text)
        st = await client.status()
        assert st["server"]["hashes"][path] == expected
        assert st["twins"][0]["hashes"][path] == expected
        assert st["twins"][0]["pid"] == twin
        assert st["pool"]["resyncs"] == 0
        found = await client.command("twinls.findImplementors", "helper")
        assert [loc["uri"].rsplit("/", 1)[1] for loc in found] == ["app.py"]
        # A restarted twin gets the same text in its snapshot (the slot is not left dead).
        await client.command("twinls.restart")
        for _ in range(600):
            st = await client.status()
            if st["twins"] and st["twins"][0]["pid"] != twin:
                break
        assert st["twins"][0]["pid"] != twin
        assert st["twins"][0]["hashes"][path] == expected
        assert not [m for m in client.messages if m.type == types.MessageType.Error]


async def test_a_file_name_that_is_not_utf8_does_not_break_searches(tmp_path):
    name = os.fsdecode(b"caf\xe9.py")  # latin-1 on disk, surrogate-escaped here
    (tmp_path / name).write_text("def brewed():\n    return 2\n")
    (tmp_path / "menu.py").write_text("def brewed():\n    return 3\n")
    async with lsp_session(tmp_path) as client:
        found = await client.command("twinls.findImplementors", "brewed")
        uris = sorted(loc["uri"].rsplit("/", 1)[1] for loc in found)
        assert uris == ["caf%E9.py", "menu.py"]  # the URI carries the name's own bytes
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="brewed"))
        assert sorted(s.location.uri.rsplit("/", 1)[1] for s in symbols) == uris
        # The editor opens that URI: the server finds the same file.
        uri = next(loc["uri"] for loc in found if "%E9" in loc["uri"])
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text="x = 1\n")
            )
        )
        st = await client.status()
        assert os.fsencode(next(iter(st["server"]["hashes"]))) == os.fsencode(
            str(tmp_path.resolve() / name)
        )


async def test_out_of_range_options_are_clamped_and_said_so(tmp_path):
    opts = {"pool": 64, "heartbeat": 0, "hangAfter": -1, "runTimeout": "soon"}
    async with lsp_session(tmp_path, opts) as client:
        st = await client.status()
        assert 1 <= st["pool"]["size"] <= max(1, min(8, os.cpu_count() or 1))
        warning = await client.wait_for(
            lambda: [m.message for m in client.messages if "pool 64" in m.message],
            what="a message naming the bad options",
        )
        assert "heartbeat 0" in warning[0] and "runTimeout must be a number" in warning[0]
        for _ in range(600):  # every twin comes up (with a sane heartbeat)
            st = await client.status()
            if st["pool"]["live"] == st["pool"]["size"]:
                break
        assert st["pool"]["live"] == st["pool"]["size"]


async def test_run_commands_take_only_files_under_the_roots(tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}_outside"
    outside.mkdir()
    (outside / "test_elsewhere.py").write_text("def test_x():\n    pass\n")
    root = tmp_path / "ws"
    root.mkdir()
    async with lsp_session(root) as client:
        for uri in ((outside / "test_elsewhere.py").as_uri(), "untitled:Untitled-1"):
            for command in ("twinls.runFile", "twinls.runTest", "twinls.runExample"):
                try:
                    await client.command(command, {"uri": uri, "qualname": "test_x"})
                except Exception as exc:
                    assert "not a file under the workspace" in str(exc), exc
                else:
                    raise AssertionError(f"{command} ran {uri}")
        st = await client.status()
        assert st["pool"]["live"] == 1


async def test_open_close_leaves_no_pending_future(tmp_path):
    async with lsp_session(tmp_path) as client:
        for i in range(300):
            client.open("a.py", f"x = {i}\n")
            client.close("a.py")
        st = await client.status()
        assert st["server"]["pending"] <= 2  # the status request itself (a command is two)

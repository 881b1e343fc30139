"""Rename over a real LSP connection: every use, unsaved buffers too; unsafe ones refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lsp_harness import TwinClient, lsp_session
from test_lang import DISK as LANG_DISK
from test_search import doc, position, write

#: test_lang's workspace; ``app.py`` also calls a builtin and has a local named ``helper``.
DISK = {
    "lib.py": LANG_DISK["lib.py"],
    "app.py": LANG_DISK["app.py"].replace("helper(2), os", 'helper(2), len("x"), os')
    + """

def helper_two():
    helper = 1  # a local of the same name: not the function
    return helper
""",
}
#: Exists only in the editor (never saved), with non-BMP text before a use.
EXTRA = 'from lib import helper\n\nlabel = "😀"; value = helper(3)\n'
#: A use jedi cannot tell apart: ``obj`` could be anything.
DYNAMIC = "def call(obj):\n    return obj.run(1)\n"


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 columns) to ``text``, last first."""
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        s, t = e.range.start, e.range.end
        assert s.line == t.line
        line = lines[s.line].encode("utf-16-le")
        lines[s.line] = (
            line[: 2 * s.character].decode("utf-16-le")
            + e.new_text
            + line[2 * t.character :].decode("utf-16-le")
        )
    return "\n".join(lines)


async def rename(client: TwinClient, rel: str, text: str, needle: str, new: str, nth: int = 0):
    return await client.text_document_rename_async(
        types.RenameParams(
            text_document=doc(client, rel), position=position(text, needle, nth), new_name=new
        )
    )


async def prepare(client: TwinClient, rel: str, text: str, needle: str, nth: int = 0):
    return await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(
            text_document=doc(client, rel), position=position(text, needle, nth)
        )
    )


async def test_rename_changes_every_use_across_files_and_unsaved_buffers(tmp_path: Path):
    write(tmp_path, DISK)
    async with lsp_session(tmp_path) as client:
        lib = DISK["lib.py"] + "\n\ndef more():\n    return helper(4)\n"  # unsaved lines
        client.open("lib.py", lib)
        client.open("extra.py", EXTRA)
        client.change("extra.py", types.TextDocumentContentChangeWholeDocument(text=EXTRA))
        texts = {"lib.py": lib, "app.py": DISK["app.py"], "extra.py": EXTRA}

        ready = await prepare(client, "app.py", DISK["app.py"], "helper(2")
        assert ready.placeholder == "helper"
        assert ready.range.start == position(DISK["app.py"], "helper(2")

        for old, new in (("helper", "assist"), ("assist", "aid")):  # again, renamed texts
            edit = await rename(client, "app.py", texts["app.py"], f"{old}(2", new)
            by_file = {c.text_document.uri.rsplit("/", 1)[1]: c for c in edit.document_changes}
            assert set(by_file) == {"lib.py", "app.py", "extra.py"}
            for rel, change in by_file.items():  # open documents' versions; None: the disk's
                assert change.text_document.version == client.versions.get(client.uri(rel))
            assert new != "assist" or by_file["app.py"].text_document.version is None
            for rel, change in by_file.items():
                texts[rel] = apply(texts[rel], change.edits)
                if rel != "app.py":
                    client.replace_all(rel, texts[rel])
            # app.py is not open: open it with the renamed text (an editor applies it so).
            if new == "assist":
                client.open("app.py", texts["app.py"])
            else:
                client.replace_all("app.py", texts["app.py"])
            assert texts["lib.py"].count(new) == 3 and old not in texts["lib.py"]
            assert texts["extra.py"] == EXTRA.replace("helper", new)
            # The local of the same name in helper_two is left alone.
            assert texts["app.py"].count(new) == 2 and "def helper_two" in texts["app.py"]
            assert texts["app.py"].count("helper = 1") == 1


def refused(exc: BaseException) -> str:
    assert isinstance(exc, JsonRpcException), exc
    return str(exc)


async def test_rename_is_refused_where_unsafe(tmp_path: Path):
    write(tmp_path, {**DISK, "dyn.py": DYNAMIC})
    async with lsp_session(tmp_path) as client:
        app = DISK["app.py"]
        cases = [
            ("app.py", app, "len", "builtin"),
            ("app.py", app, "join", "outside the workspace"),
            ("dyn.py", DYNAMIC, "run", "Cannot tell what 'run' refers to"),
            ("app.py", app, "import", "no name at the cursor"),
        ]
        for rel, text, needle, why in cases:
            for ask in (prepare(client, rel, text, needle), rename(client, rel, text, needle, "z")):
                with pytest.raises(JsonRpcException) as info:
                    await ask
                assert why in refused(info.value), (needle, str(info.value))
        # Base.run is used as obj.run in dyn.py on a value jedi cannot infer: refused,
        # and the message says where.
        with pytest.raises(JsonRpcException) as info:
            await rename(client, "lib.py", DISK["lib.py"], "run", "go")
        assert "dynamic attribute access" in str(info.value) and "dyn.py:2" in str(info.value)
        # Not a Python name.
        with pytest.raises(JsonRpcException) as info:
            await rename(client, "app.py", app, "helper(2", "not valid")
        assert "not a valid Python name" in str(info.value)
        # The server still answers after all the refusals.
        ok = await rename(client, "app.py", app, "main", "entry")
        assert [len(c.edits) for c in ok.document_changes] == [1]

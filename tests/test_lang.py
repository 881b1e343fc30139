"""The language features over a real LSP connection, against unsaved buffers.

Definition, declaration, typeDefinition, completion (+ resolve), signatureHelp,
documentHighlight: a real twin with real jedi answers, and the names they find
exist only in another file's unsaved buffer (the disk has an older text).
Positions are UTF-16 and one line holds non-BMP text before the name.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_harness import TwinClient, lsp_session
from test_search import doc, position, write

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()

DISK = {
    "lib.py": '''\
class Base:
    """A base."""

    def run(self, x):
        return helper(x)


def helper(x):
    return x
''',
    "app.py": """\
import os
from lib import Base, helper


def main():
    b = Base()
    b.run(1)
    return helper(2), os.path.join("a", "b")
""",
}

#: lib.py as the editor has it: a function the disk does not have yet.
LIB = (
    DISK["lib.py"]
    + '''

def fresh_name(alpha, beta=2):
    """Only in the editor's buffer."""
    return alpha + beta
'''
)
#: app.py as the editor has it: uses that name (non-BMP text before it on one line).
APP = (
    DISK["app.py"]
    + """

import lib
from lib import fresh_name

label = "😀😀"; value = fresh_name(1, beta=3)
lib.fre
"""
)


def at(text: str, needle: str, nth: int = 0, shift: int = 0) -> types.Position:
    p = position(text, needle, nth)
    return types.Position(p.line, p.character + shift)


def spot(loc: types.Location) -> tuple[str, int, int]:
    return (os.path.basename(loc.uri), loc.range.start.line, loc.range.start.character)


async def opened(client: TwinClient) -> None:
    client.open("lib.py", LIB)
    client.open("app.py", APP)


def tdp(client: TwinClient, rel: str, pos: types.Position) -> dict:
    return {"text_document": doc(client, rel), "position": pos}


async def test_definition_declaration_and_type_definition_see_unsaved_buffers(tmp_path: Path):
    write(tmp_path, DISK)
    async with lsp_session(tmp_path) as client:
        await opened(client)
        use = at(APP, "fresh_name(1", shift=2)
        found = await client.text_document_definition_async(
            types.DefinitionParams(**tdp(client, "app.py", use))
        )
        assert [spot(loc) for loc in found] == [("lib.py", *_lc(LIB, "fresh_name"))]
        # Declaration stops at the binding here: the import line.
        found = await client.text_document_declaration_async(
            types.DeclarationParams(**tdp(client, "app.py", use))
        )
        assert [spot(loc) for loc in found] == [("app.py", *_lc(APP, "fresh_name"))]
        # Into the interpreter's files: os.path.join is in the stdlib.
        found = await client.text_document_definition_async(
            types.DefinitionParams(**tdp(client, "app.py", at(APP, "join")))
        )
        assert found
        for loc in found:  # jedi picks posixpath or ntpath (typeshed's os.path branches)
            path = Path(loc.uri.removeprefix("file://"))
            assert path.is_relative_to(STDLIB), loc.uri
            line = path.read_text().splitlines()[loc.range.start.line]
            assert line[loc.range.start.character :].startswith("join"), line
        # typeDefinition of a value: its class.
        found = await client.text_document_type_definition_async(
            types.TypeDefinitionParams(**tdp(client, "app.py", at(APP, "b.run")))
        )
        assert [spot(loc) for loc in found] == [("lib.py", *_lc(LIB, "Base"))]
        # An edit moves the answer (again, and again: each repeat checked).
        for n in range(2):
            moved = "\n" * (n + 1) + LIB
            client.replace_all("lib.py", moved)
            found = await client.text_document_definition_async(
                types.DefinitionParams(**tdp(client, "app.py", use))
            )
            assert [spot(loc) for loc in found] == [("lib.py", *_lc(moved, "fresh_name"))]
        # Off a name: empty.
        found = await client.text_document_definition_async(
            types.DefinitionParams(**tdp(client, "app.py", types.Position(3, 0)))
        )
        assert not found


def _lc(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    p = position(text, needle, nth)
    return (p.line, p.character)


async def test_completion_resolve_signature_help_and_highlight(tmp_path: Path):
    write(tmp_path, DISK)
    async with lsp_session(tmp_path) as client:
        await opened(client)
        end = at(APP, "lib.fre", shift=len("lib.fre"))
        result = await client.text_document_completion_async(
            types.CompletionParams(**tdp(client, "app.py", end))
        )
        items = result.items if isinstance(result, types.CompletionList) else result
        labels = [i.label for i in items]
        assert labels == ["fresh_name"]  # only in lib.py's unsaved buffer
        item = items[0]
        assert item.kind == types.CompletionItemKind.Function
        assert item.text_edit.range.start.character == end.character - len("fre")
        resolved = await client.completion_item_resolve_async(item)
        assert resolved.detail == "def fresh_name(alpha, beta=2)"
        # This client announces no markdown: the docstring comes as plain text.
        assert resolved.documentation == "Only in the editor's buffer."
        # A plain name: the module's own and the builtins are offered.
        client.change(
            "app.py",
            types.TextDocumentContentChangePartial(range=types.Range(end, end), text="\nhel"),
        )
        result = await client.text_document_completion_async(
            types.CompletionParams(**tdp(client, "app.py", types.Position(end.line + 1, 3)))
        )
        items = result.items if isinstance(result, types.CompletionList) else result
        assert "helper" in [i.label for i in items]

        # Signature help inside the call, on the second argument (after the emoji line).
        inside = at(APP, "beta=3")
        sig = await client.text_document_signature_help_async(
            types.SignatureHelpParams(**tdp(client, "app.py", inside))
        )
        assert sig is not None and sig.signatures[0].label == "fresh_name(alpha, beta=2)"
        assert sig.active_parameter == 1
        assert [p.label for p in sig.signatures[0].parameters] == ["alpha", "beta=2"]

        # Highlight: every use of fresh_name in app.py, the import as a write.
        found = await client.text_document_document_highlight_async(
            types.DocumentHighlightParams(**tdp(client, "app.py", at(APP, "fresh_name(1")))
        )
        got = sorted((h.range.start.line, h.range.start.character, h.kind) for h in found)
        assert got == [
            (*_lc(APP, "fresh_name"), types.DocumentHighlightKind.Write),
            (*_lc(APP, "fresh_name(1"), types.DocumentHighlightKind.Read),
        ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-32"])
async def test_other_negotiated_encodings(tmp_path: Path, encoding: str):
    """Columns in UTF-8 bytes or code points, both ways, on the line with emoji."""
    write(tmp_path, DISK)
    async with lsp_session(tmp_path, encodings=[encoding]) as client:
        await opened(client)
        line0 = _lc(APP, "fresh_name(1")[0]
        text = APP.splitlines()[line0]

        def col(s: str) -> int:
            head = text[: text.index(s)]
            return len(head.encode()) if encoding == "utf-8" else len(head)

        pos = types.Position(line0, col("fresh_name(1") + 2)
        found = await client.text_document_document_highlight_async(
            types.DocumentHighlightParams(**tdp(client, "app.py", pos))
        )
        spans = {(h.range.start.character, h.range.end.character) for h in found}
        start = col("fresh_name(1")
        assert (start, start + len("fresh_name")) in spans
        beta = types.Position(line0, col("beta"))
        sig = await client.text_document_signature_help_async(
            types.SignatureHelpParams(**tdp(client, "app.py", beta))
        )
        assert sig.active_parameter == 1

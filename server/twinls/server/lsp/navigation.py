"""Server: definition, declaration, typeDefinition, documentHighlight, signatureHelp.

Thin handlers: each asks a twin (``lang.*`` queries, answered against the
overlay in the client's negotiated encoding) and turns the plain answer into
LSP. A cancelled request cancels the twin's call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lsprotocol import types

from ...shared.schema import HighlightRow, Loc, Span
from .. import stubs
from . import app
from .server import TwinLanguageServer


def where(ls: TwinLanguageServer, params: Any) -> tuple[str, int, int, str]:
    """(path, line, character, encoding) of a text-document-position request."""
    pos = params.position
    return ls.path_of(params.text_document.uri), pos.line, pos.character, ls.encoding


def range_of(row: Sequence[Any]) -> types.Range:
    """A :class:`Span` or :class:`Loc` row (or one off the wire, a list) -> an LSP range."""
    sl, sc, el, ec = Span(*row[-4:])
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


def location_of(ls: TwinLanguageServer, raw: Sequence[Any]) -> types.Location:
    loc = Loc(*raw)
    return types.Location(uri=ls.uri_of(loc.path), range=range_of(loc))


async def locations(
    ls: TwinLanguageServer, stub: Callable[..., stubs.Query[list[Any]]], params: Any
) -> list[types.Location]:
    return [location_of(ls, r) for r in await ls.ask(stub(*where(ls, params)))]


@app.feature(types.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: TwinLanguageServer, params: types.DefinitionParams):
    return await locations(ls, stubs.definition, params)


@app.feature(types.TEXT_DOCUMENT_DECLARATION)
async def declaration(ls: TwinLanguageServer, params: types.DeclarationParams):
    return await locations(ls, stubs.declaration, params)


@app.feature(types.TEXT_DOCUMENT_TYPE_DEFINITION)
async def type_definition(ls: TwinLanguageServer, params: types.TypeDefinitionParams):
    return await locations(ls, stubs.type_definition, params)


@app.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
async def highlight(ls: TwinLanguageServer, params: types.DocumentHighlightParams):
    rows = await ls.ask(stubs.highlight(*where(ls, params)))
    kinds = types.DocumentHighlightKind
    found = [HighlightRow(*r) for r in rows]
    return [
        types.DocumentHighlight(range=range_of(r.span), kind=kinds.Write if r.write else kinds.Read)
        for r in found
    ]


@app.feature(
    types.TEXT_DOCUMENT_SIGNATURE_HELP,
    types.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[")"]),
)
async def signature_help(ls: TwinLanguageServer, params: types.SignatureHelpParams):
    rows = await ls.ask(stubs.signature_help(*where(ls, params)))
    if not rows:
        return None
    signatures = [
        types.SignatureInformation(
            label=r["label"],
            documentation=r["doc"] or None,  # plain text: every client shows it
            parameters=[types.ParameterInformation(label=p) for p in r["params"]],
            active_parameter=r["active"] if r["active"] >= 0 else None,
        )
        for r in rows
    ]
    active = rows[0]["active"]
    return types.SignatureHelp(
        signatures=signatures,
        active_signature=0,
        active_parameter=active if active >= 0 else None,
    )

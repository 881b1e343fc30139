"""Server: textDocument/completion and completionItem/resolve.

The list is cheap (label, kind, the typed prefix it replaces); an item's
signature and docstring come on resolve, from the twin again (``data`` says
where the list was asked, so any twin can answer it).
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from .. import stubs
from . import app
from .navigation import range_of, where
from .server import TwinLanguageServer

_KINDS = {
    "module": types.CompletionItemKind.Module,
    "class": types.CompletionItemKind.Class,
    "instance": types.CompletionItemKind.Variable,
    "function": types.CompletionItemKind.Function,
    "param": types.CompletionItemKind.Variable,
    "path": types.CompletionItemKind.File,
    "keyword": types.CompletionItemKind.Keyword,
    "property": types.CompletionItemKind.Property,
    "statement": types.CompletionItemKind.Variable,
}


@app.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=["."], resolve_provider=True),
)
async def completion(ls: TwinLanguageServer, params: types.CompletionParams):
    path, line, character, encoding = where(ls, params)
    rows = await ls.ask(stubs.completion(path, line, character, encoding))
    data = {"path": path, "line": line, "character": character}
    items = [
        types.CompletionItem(
            label=r["label"],
            kind=_KINDS.get(r["kind"], types.CompletionItemKind.Text),
            detail=r["detail"] or None,
            sort_text=r["sort"],
            filter_text=r["label"],
            text_edit=types.TextEdit(range=range_of(r["range"]), new_text=r["insert"]),
            data={**data, "label": r["label"]},
        )
        for r in rows
    ]
    return types.CompletionList(is_incomplete=False, items=items)


@app.feature(types.COMPLETION_ITEM_RESOLVE)
async def resolve(ls: TwinLanguageServer, item: types.CompletionItem):
    data: Any = item.data
    if not isinstance(data, dict) or not {"path", "line", "character"} <= set(data):
        return item
    found = await ls.ask(
        stubs.completion_resolve(
            data["path"],
            data["line"],
            data["character"],
            ls.encoding,
            data.get("label", item.label),
        )
    )
    if found:
        item.detail = found["detail"]
        caps = ls.client_capabilities.text_document
        completion = caps.completion if caps else None
        formats = (
            completion.completion_item.documentation_format
            if completion and completion.completion_item
            else None
        )
        if formats and types.MarkupKind.Markdown in formats:
            item.documentation = types.MarkupContent(
                kind=types.MarkupKind.Markdown, value=found["markdown"]
            )
        elif found["doc"]:
            item.documentation = found["doc"]  # plain text
    return item

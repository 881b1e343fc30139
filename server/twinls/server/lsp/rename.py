"""Server: textDocument/prepareRename and textDocument/rename.

The twin checks the name can be renamed safely and plans the search
(``lang.prepare_rename``); the uses come from the references engine, sharded
over the pool (``lang.rename_in``), unsaved buffers included. The edit is one
``TextDocumentEdit`` per file, versioned for open documents. A refusal is an
LSP error whose message the editor shows.
"""

from __future__ import annotations

import asyncio
import keyword
import threading
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .. import stubs
from . import app
from .navigation import location_of, range_of, where
from .search import Bar
from .server import TwinLanguageServer


class RenameRefused(JsonRpcException):
    """A rename that cannot be made safely; the message says why (LSP RequestFailed)."""

    code = -32803


async def plan(ls: TwinLanguageServer, params: Any) -> dict[str, Any]:
    found = await ls.ask(stubs.prepare_rename(*where(ls, params)))
    if found["refused"]:
        raise RenameRefused(found["refused"])
    return found


@app.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
async def prepare_rename(ls: TwinLanguageServer, params: types.PrepareRenameParams):
    found = await plan(ls, params)
    return types.PrepareRenamePlaceholder(range=range_of(found["range"]), placeholder=found["name"])


@app.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
async def rename(ls: TwinLanguageServer, params: types.RenameParams):
    new = params.new_name
    if not new.isidentifier() or keyword.iskeyword(new):
        raise RenameRefused(f"'{new}' is not a valid Python name.")
    found = await plan(ls, params)
    pool = await ls.twin_pool()
    uses: set[tuple[Any, ...]] = set()
    unsure: list[list[Any]] = []
    lock = threading.Lock()

    def gather(batch: list[list[Any]]) -> None:  # on the channel's reader threads
        with lock:
            for kind, loc in batch:
                if kind == "use":
                    uses.add(tuple(loc))
                else:
                    unsure.append(loc)

    promise = pool.call_sharded(
        stubs.rename_in(found["files"], found["name"], found["keys"], ls.encoding)
    )
    promise.on_partial(gather)
    bar = Bar(ls, params.work_done_token, f"Rename {found['name']}", asyncio.current_task())
    promise.on_progress(bar.report)
    try:
        await ls.await_promise(promise)
    finally:
        bar.end()
    if unsure:
        first = min(unsure)
        raise RenameRefused(
            f"Not renamed: {len(unsure)} use(s) of '.{found['name']}' on values jedi cannot "
            f"infer (dynamic attribute access), first at {first[0]}:{first[1] + 1}; "
            "rename those by hand, or add type hints so they can be told apart."
        )
    return _edit(ls, sorted(uses), new)


def _edit(ls: TwinLanguageServer, uses: list[tuple[Any, ...]], new: str) -> types.WorkspaceEdit:
    """One versioned ``TextDocumentEdit`` per file (open documents carry their version)."""
    by_uri: dict[str, list[types.TextEdit]] = {}
    for raw in uses:
        loc = location_of(ls, list(raw))
        by_uri.setdefault(loc.uri, []).append(types.TextEdit(range=loc.range, new_text=new))
    pool = ls.pool
    changes = []
    for uri, edits in sorted(by_uri.items()):
        doc = pool.mirror.docs.get(ls.path_of(uri)) if pool is not None else None
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=doc.version if doc is not None else None
                ),
                edits=edits,
            )
        )
    return types.WorkspaceEdit(document_changes=changes)

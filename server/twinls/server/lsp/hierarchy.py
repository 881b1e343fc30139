"""Server: call hierarchy and type hierarchy.

Items carry ``data`` = where their name is (path, line and the client's
column), so any twin can answer the follow-up requests. Incoming
calls are a references search (``search.refs_plan`` at the function's name,
then ``lang.incoming_in`` sharded over the pool) and stream one batch per file
on the request's ``partialResultToken``; subtypes are the implementation search
(transitive, streamed). Outgoing calls and supertypes are one short call.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from lsprotocol import types

from ...shared.schema import Found, Loc
from .. import stubs
from . import app
from .navigation import range_of, where
from .progress import PartialResults
from .search import Bar
from .server import TwinLanguageServer

_KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "module": types.SymbolKind.Module,
}


def _data(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": raw["path"],
        "line": Loc(*raw["selection"]).line,
        "character": Loc(*raw["selection"]).start,
        "kind": raw["kind"],
    }


def call_item(ls: TwinLanguageServer, raw: dict[str, Any]) -> types.CallHierarchyItem:
    return types.CallHierarchyItem(
        name=raw["name"],
        kind=_KINDS.get(raw["kind"], types.SymbolKind.Function),
        detail=raw["detail"] or None,
        uri=ls.uri_of(raw["path"]),
        range=range_of(raw["range"]),
        selection_range=range_of(raw["selection"]),
        data=_data(raw),
    )


def type_item(ls: TwinLanguageServer, raw: dict[str, Any]) -> types.TypeHierarchyItem:
    return types.TypeHierarchyItem(
        name=raw["name"],
        kind=_KINDS.get(raw["kind"], types.SymbolKind.Class),
        detail=raw["detail"] or None,
        uri=ls.uri_of(raw["path"]),
        range=range_of(raw["range"]),
        selection_range=range_of(raw["selection"]),
        data=_data(raw),
    )


def _item_at(ls: TwinLanguageServer, item: Any) -> tuple[str, int, int, str] | None:
    """Where a hierarchy item's name is, as a position query takes it (None: not ours)."""
    data = item.data
    if isinstance(data, dict) and {"path", "line", "character"} <= set(data):
        return data["path"], data["line"], data["character"], ls.encoding
    return None


async def gather(
    ls: TwinLanguageServer,
    promise: Any,
    convert: Any,
    title: str,
    params: Any,
) -> list[Any]:
    """Await a promise of row batches; stream them converted (``params``'s partial
    result token), or gather them; its work-done token shows the progress."""
    partial = PartialResults(ls, params.partial_result_token)
    rows: list[Any] = []
    lock = threading.Lock()

    def on_batch(batch: list[Any]) -> None:  # on the channel's reader threads
        items = [convert(r) for r in batch]
        if partial.enabled:
            partial.send(items)
        else:
            with lock:
                rows.extend(items)

    promise.on_partial(on_batch)
    bar = Bar(ls, params.work_done_token, title, asyncio.current_task())
    promise.on_progress(bar.report)
    try:
        await ls.await_promise(promise)
    finally:
        bar.end()
    return [] if partial.enabled else rows


# -- call hierarchy ---------------------------------------------------------------


@app.feature(types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
async def prepare_calls(ls: TwinLanguageServer, params: types.CallHierarchyPrepareParams):
    rows = await ls.ask(stubs.call_item(*where(ls, params)))
    return [call_item(ls, r) for r in rows] or None


@app.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
async def incoming(ls: TwinLanguageServer, params: types.CallHierarchyIncomingCallsParams):
    at = _item_at(ls, params.item)
    if at is None:
        return []
    pool = await ls.twin_pool()
    plan = await ls.await_promise(pool.call(stubs.refs_plan(*at)))
    if not plan:
        return []
    promise = pool.call_sharded(
        stubs.incoming_in(plan["files"], plan["name"], plan["keys"], ls.encoding)
    )

    def convert(row: dict[str, Any]) -> types.CallHierarchyIncomingCall:
        return types.CallHierarchyIncomingCall(
            from_=call_item(ls, row["caller"]),
            from_ranges=[range_of(r) for r in row["ranges"]],
        )

    found = await gather(ls, promise, convert, f"Calls of {plan['name']}", params)
    return sorted(found, key=lambda c: (c.from_.uri, c.from_.range.start.line))


@app.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
async def outgoing(ls: TwinLanguageServer, params: types.CallHierarchyOutgoingCallsParams):
    at = _item_at(ls, params.item)
    if at is None:
        return []
    rows = await ls.ask(stubs.outgoing(*at))
    return [
        types.CallHierarchyOutgoingCall(
            to=call_item(ls, r["callee"]), from_ranges=[range_of(x) for x in r["ranges"]]
        )
        for r in rows
    ]


# -- type hierarchy ---------------------------------------------------------------


@app.feature(types.TEXT_DOCUMENT_PREPARE_TYPE_HIERARCHY)
async def prepare_types(ls: TwinLanguageServer, params: types.TypeHierarchyPrepareParams):
    rows = await ls.ask(stubs.type_item(*where(ls, params)))
    return [type_item(ls, r) for r in rows] or None


@app.feature(types.TYPE_HIERARCHY_SUPERTYPES)
async def supertypes(ls: TwinLanguageServer, params: types.TypeHierarchySupertypesParams):
    at = _item_at(ls, params.item)
    if at is None:
        return []
    rows = await ls.ask(stubs.supertypes(*at))
    return [type_item(ls, r) for r in rows]


@app.feature(types.TYPE_HIERARCHY_SUBTYPES)
async def subtypes(ls: TwinLanguageServer, params: types.TypeHierarchySubtypesParams):
    at = _item_at(ls, params.item)
    if at is None:
        return []
    pool = await ls.twin_pool()
    promise = pool.call(stubs.implementation(*at))

    def convert(raw: list[Any]) -> types.TypeHierarchyItem:
        path, sl, sc, el, ec, qualname = Found(*raw)
        name = qualname.rsplit(".", 1)[-1]
        module = path.rsplit("/", 1)[-1].removesuffix(".py")
        sel = [path, sl, sc, el, ec]
        return type_item(
            ls,
            {
                "name": name,
                "kind": "class",
                "detail": f"{module}.{qualname}",
                "path": path,
                "range": sel,
                "selection": sel,
                "line": sl,
            },
        )

    return await gather(ls, promise, convert, f"Subtypes of {params.item.name}", params)

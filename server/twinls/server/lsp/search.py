"""Server: search requests over the twins (references, implementation, implementors, ...).

Every answer is computed in a twin; this side only turns the twin's location
batches into LSP: ``$/progress`` partial results when the client gave a
``partialResultToken`` (the final response is then empty, LSP 3.17), a
work-done bar on the client's ``workDoneToken`` or, for a search that runs a
while, on a token the server creates (as pyright does), and the whole result
at the end otherwise. Cancelling the request, or its bar, cancels the twins'
work between files; a new references request supersedes a running one.
A references request also asks ``search.refs_first`` at once, beside its plan:
the uses certain from syntax, so the first result does not wait for jedi's
target nor the candidate scan (issue 10); its batches and the search's go
through one :class:`Stream`, which sends each location once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ...shared.schema import Loc, SymbolRow
from .. import stubs
from ..promise import Promise
from . import app
from .answers import Answers
from .kept import IMPL, Kept
from .navigation import range_of
from .progress import PartialResults, WorkDone
from .server import TwinLanguageServer

log = logging.getLogger(__name__)

FIND_IMPLEMENTORS = "twinls.findImplementors"

#: A search still running after this long gets a server-created progress bar.
BAR_AFTER = 0.5
#: After the first partial result (sent at once), batches are coalesced this long.
FLUSH_EVERY = 0.03

_KINDS = {
    "class": types.SymbolKind.Class,
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
}

#: A location row as it arrives: a :class:`Loc`, or a :class:`Found` (a Loc and a qualname).
Raw = list[Any]


class Bar:
    """The work-done bar of one search: the client's token, or one made if it runs long."""

    def __init__(
        self,
        ls: TwinLanguageServer,
        token: types.ProgressToken | None,
        title: str,
        task: asyncio.Task | None,
    ) -> None:
        self.ls = ls
        self.title = title
        self.task = task
        self.wd: WorkDone | None = None
        self.last: tuple[int, int] | None = None
        self._ended = False
        delay = 0.0 if token is not None else BAR_AFTER  # a made bar only for a long search
        self._later: asyncio.Task | None = asyncio.ensure_future(self._begin(token, delay))

    async def _begin(self, token: types.ProgressToken | None, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        wd = await WorkDone.begin(self.ls, token, self.title, create=token is None)
        if self._ended:
            wd.end()
            return
        self.wd = wd
        loop, task = asyncio.get_running_loop(), self.task
        if task is not None:
            wd.on_cancel(lambda: loop.call_soon_threadsafe(task.cancel))
        if self.last is not None:
            self.report(*self.last)

    def report(self, done: int, total: int, message: str | None = None) -> None:
        """Thread-safe (called from the channel's reader threads)."""
        self.last = (done, total)
        if self.wd is not None:
            self.wd.report(done, total, f"{done}/{total} files")

    def end(self) -> None:
        self._ended = True
        if self.wd is not None:
            self.wd.end()
        elif self._later is not None and not self._later.done():
            self._later.cancel()


class Batcher:
    """Coalesces the twins' per-file batches into few ``$/progress`` messages.

    A search finds results in hundreds of files; one LSP message per file costs
    more to serialize (here) and to read (in the editor) than the search itself.
    The first batch goes out at once; later ones every :data:`FLUSH_EVERY`.
    """

    def __init__(self, ls: TwinLanguageServer, partial: PartialResults) -> None:
        self.ls = ls
        self.partial = partial
        self.loop = asyncio.get_running_loop()
        self.lock = threading.Lock()
        self.pending: list[Raw] = []
        self.scheduled = False
        self.first = True

    def add(self, raws: list[Raw]) -> None:
        """Thread-safe (the channel's reader threads call it)."""
        with self.lock:
            self.pending.extend(raws)
            if self.scheduled:
                return
            self.scheduled = True
            delay = 0.0 if self.first else FLUSH_EVERY
        self.loop.call_soon_threadsafe(self.loop.call_later, delay, self.flush)

    def flush(self) -> None:
        with self.lock:
            items, self.pending = self.pending, []
            self.scheduled = False
            self.first = False
        if items:
            self.partial.send([_location(self.ls, r) for r in items])


def _loc(raw: Raw) -> Loc:
    """The location part of a row (a :class:`Found` carries its qualname after it)."""
    return Loc(*raw[:5])


def _location(ls: TwinLanguageServer, raw: Raw) -> types.Location:
    loc = _loc(raw)
    return types.Location(
        uri=ls.uri_of(loc.path),
        range=types.Range(
            types.Position(loc.line, loc.start), types.Position(loc.end_line, loc.end)
        ),
    )


class Stream:
    """The locations of one search, de-duplicated: streamed as they come, or gathered.

    Batches may come from several calls (the early batch of ``search.refs_first``,
    then the search's own); a location is sent or kept once. After :meth:`answer`
    a late batch is dropped: its locations are in the answer already (the early
    batch is a subset of it), and LSP allows no partial result after the response.
    """

    def __init__(self, ls: TwinLanguageServer, partial_token: types.ProgressToken | None) -> None:
        self.ls = ls
        self.partial = PartialResults(ls, partial_token)
        self.batcher = Batcher(ls, self.partial)
        self.seen: set[Loc] = set()
        self.gathered: list[Raw] = []
        self.lock = threading.Lock()
        self.closed = False

    def add(self, batch: list[Raw]) -> None:
        """Thread-safe (the channel's reader threads call it)."""
        with self.lock:
            if self.closed:
                return
            fresh = [r for r in batch if _loc(r) not in self.seen]
            self.seen.update(_loc(r) for r in fresh)
            if not self.partial.enabled:
                self.gathered.extend(fresh)
            elif fresh:  # under the lock: never queued after :meth:`answer`'s flush
                self.batcher.add(fresh)

    def answer(self) -> list[types.Location]:
        """The response: ``[]`` once everything went as partial results, else it all, sorted."""
        with self.lock:
            self.closed = True
        if self.partial.enabled:
            self.batcher.flush()  # queued before the response, so it reaches the client first
            return []
        return [_location(self.ls, r) for r in sorted(self.gathered, key=_loc)]


async def stream_locations(
    ls: TwinLanguageServer,
    promise: Promise,
    title: str,
    partial_token: types.ProgressToken | None,
    work_done_token: types.ProgressToken | None,
    bar: bool = True,
    progress: Bar | None = None,
    stream: Stream | None = None,
) -> list[types.Location]:
    """Await a promise of location batches; stream or gather them, de-duplicated.

    ``progress``: a bar the caller began already (it covers the caller's own steps too).
    ``stream``: one the caller began already (it fed it batches of its own).
    """
    stream = stream or Stream(ls, partial_token)
    promise.on_partial(stream.add)
    if progress is None and bar:
        progress = Bar(ls, work_done_token, title, asyncio.current_task())
    if progress is not None:
        promise.on_progress(progress.report)
    try:
        await ls.await_promise(promise)
    finally:
        if progress is not None:
            progress.end()
    return stream.answer()


class Running:
    """This server's running search per kind (a newer one supersedes it)."""

    def __init__(self, ls: TwinLanguageServer) -> None:
        self.tasks: dict[str, asyncio.Task] = {}
        #: Told of each search as it starts (live tests yield to it: ``live.py``).
        self.listeners: list[Callable[[asyncio.Task], None]] = []


async def pool_for_search(ls: TwinLanguageServer):
    """The pool, every twin told to build its index (once per twin process, ``Kept.warm``)."""
    pool = await ls.twin_pool()
    ls.part(Kept).warm(pool)  # issue 10: the index built once and shared, or kept
    return pool


def supersede(ls: TwinLanguageServer, kind: str) -> None:
    """A newer search of the same kind cancels the one still running."""
    running = ls.part(Running).tasks
    previous = running.get(kind)
    if previous is not None and not previous.done():
        previous.cancel()
    task = asyncio.current_task()
    if task is not None:
        running[kind] = task
        for listener in ls.part(Running).listeners:
            listener(task)


def where(
    ls: TwinLanguageServer, params: types.TextDocumentPositionParams
) -> tuple[str, int, int, str]:
    pos = params.position
    return ls.path_of(params.text_document.uri), pos.line, pos.character, ls.encoding


@app.feature(types.TEXT_DOCUMENT_REFERENCES, types.ReferenceOptions(work_done_progress=True))
async def references(ls: TwinLanguageServer, params: types.ReferenceParams):
    supersede(ls, "references")
    # The bar covers the plan too: a cold plan (parse, infer the target) takes a while.
    progress = Bar(ls, params.work_done_token, "References", asyncio.current_task())
    include = bool(params.context.include_declaration) if params.context else True
    kept = ls.part(Kept)
    stream = Stream(ls, params.partial_result_token)
    first: Promise | None = None
    try:
        pool = await pool_for_search(ls)
        # Issue 10: what syntax alone makes certain, sent while jedi finds the target.
        first = pool.call(stubs.refs_first(*where(ls, params), include))
        first.on_partial(stream.add)
        keys: list[str] = []  # under which the answer is kept
        mark: tuple = ()
        found = await kept.digest(ls, pool) if kept.cache is not None else None
        if found is None:
            plan = await ls.await_promise(pool.call(stubs.refs_plan(*where(ls, params))))
        else:  # issue 10: an answer kept from before (this session or an earlier one)
            digest, mark = found
            at = where(ls, params)
            at_key = kept.refs_at_key(digest, at, include)
            rows = kept.get_rows(at_key)
            if rows is None:
                target = await ls.await_promise(pool.call(stubs.refs_target(*at)))
                if not target:
                    return await no_target(ls, first, stream)
                progress.title = f"References to {target['name']}"
                key = kept.refs_key(digest, target, include, ls.encoding)
                if kept.unchanged(mark):  # else the target may be of newer texts: not kept
                    rows = kept.get_rows(key)
                    keys = [key, at_key]
                if rows is not None:
                    kept.put_rows(at_key, rows)
            log.info("references: %s kept answer at %s", "a" if rows is not None else "no", at)
            if rows is not None:
                return await stream_locations(
                    ls,
                    Promise.replayed([rows] if rows else [], len(rows)),
                    progress.title,
                    params.partial_result_token,
                    params.work_done_token,
                    progress=progress,
                    stream=stream,
                )
            files = await ls.await_promise(
                pool.call(stubs.refs_files(at[0], target["name"], target["keys"], target["local"]))
            )
            plan = {**target, "files": files}
        if not plan:
            return await no_target(ls, first, stream)
        progress.title = f"References to {plan['name']}"
        promise = pool.call_sharded(
            stubs.refs_in(
                plan["files"],
                plan["name"],
                plan["keys"],
                ls.encoding,
                include,
                None,  # the twin's chunk budget
                plan.get("search"),  # one jedi state per search, in every twin
            )
        )
        rows_seen: list[Raw] = []
        if keys:
            promise.on_partial(rows_seen.extend)
        answer = await stream_locations(
            ls,
            promise,
            progress.title,
            params.partial_result_token,
            params.work_done_token,
            progress=progress,
            stream=stream,
        )
        if keys and kept.unchanged(mark):  # whole, and of the texts the digest is of
            for k in keys:
                kept.put_rows(k, rows_seen)
        return answer
    finally:
        progress.end()
        if first is not None:
            first.cancel()  # done long since, but for a search cut short


async def no_target(ls: TwinLanguageServer, first: Promise, stream: Stream) -> list[types.Location]:
    """The answer when jedi finds no target: what the early batch made certain (the
    lane decided the cursor's use where jedi tripped over it), else nothing; awaited
    whole, so the answer does not depend on when it came."""
    try:
        await ls.await_promise(first)
    except Exception as exc:  # the early batch is a bonus: its failure is no answer's
        log.info("references: no early batch: %r", exc)
    return stream.answer()


@app.feature(
    types.TEXT_DOCUMENT_IMPLEMENTATION, types.ImplementationOptions(work_done_progress=True)
)
async def implementation(ls: TwinLanguageServer, params: types.ImplementationParams):
    pool = await pool_for_search(ls)
    at = where(ls, params)
    kept = ls.part(Kept)
    # Kept as references are (issue 10: warm, an answer of the same texts is not searched
    # again), under the digest and the position asked at; whole answers only.
    found = await kept.digest(ls, pool) if kept.cache is not None else None
    key = kept.impl_at_key(found[0], at) if found is not None else None
    rows = kept.get_rows(key, IMPL) if key is not None else None
    if rows is not None:
        promise = Promise.replayed([rows] if rows else [], len(rows))
    else:
        promise = pool.call(stubs.implementation(*at))
    seen: list[Raw] = []
    promise.on_partial(seen.extend)
    answer = await stream_locations(
        ls, promise, "Implementations", params.partial_result_token, params.work_done_token
    )
    if rows is None and key is not None and found is not None and kept.unchanged(found[1]):
        kept.put_rows(key, seen, IMPL)
    return answer


@app.command(FIND_IMPLEMENTORS)
async def find_implementors(ls: TwinLanguageServer, *args: Any) -> list[types.Location]:
    """``[name]`` or ``[name, {"partialResultToken": t}]`` -> every def called ``name``."""
    if not args or not isinstance(args[0], str) or not args[0].strip():
        raise JsonRpcInvalidParams(f"{FIND_IMPLEMENTORS} wants [name], got {list(args)!r}")
    options = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    pool = await pool_for_search(ls)
    promise = pool.call(stubs.implementors(args[0].strip(), ls.encoding))
    return await stream_locations(
        ls,
        promise,
        f"Implementors of {args[0]}",
        options.get("partialResultToken"),
        options.get("workDoneToken"),
    )


@app.feature(types.WORKSPACE_SYMBOL, types.WorkspaceSymbolOptions(work_done_progress=False))
async def workspace_symbol(ls: TwinLanguageServer, params: types.WorkspaceSymbolParams):
    pool = await pool_for_search(ls)
    rows = await ls.await_promise(pool.call(stubs.workspace_symbols(params.query, ls.encoding)))
    symbols = [
        types.SymbolInformation(
            name=row.name,
            kind=_KINDS.get(row.kind, types.SymbolKind.Variable),
            location=_location(ls, row.loc),
            container_name=row.container or None,
        )
        for row in map(SymbolRow._make, rows)
    ]
    if params.partial_result_token is not None and symbols:
        PartialResults(ls, params.partial_result_token).send(symbols)
        return []
    return symbols


@app.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def document_symbol(ls: TwinLanguageServer, params: types.DocumentSymbolParams):
    pool = await pool_for_search(ls)
    path = ls.path_of(params.text_document.uri)
    tree = await ls.part(Answers).ask(pool, stubs.document_symbols(path, ls.encoding))
    caps = ls.client_capabilities.text_document
    nested = bool(
        caps and caps.document_symbol and caps.document_symbol.hierarchical_document_symbol_support
    )
    if nested:
        return [_document_symbol(node) for node in tree]
    flat: list[types.SymbolInformation] = []
    _flatten(params.text_document.uri, tree, None, flat)
    return flat


@app.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: TwinLanguageServer, params: types.HoverParams):
    pool = await pool_for_search(ls)
    found = await ls.part(Answers).ask(pool, stubs.hover(*where(ls, params)))
    if not found:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found["markdown"]),
        range=range_of(found["range"]),
    )


def _document_symbol(node: dict[str, Any]) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=node["name"],
        kind=_KINDS.get(node["kind"], types.SymbolKind.Variable),
        range=range_of(node["range"]),
        selection_range=range_of(node["selection"]),
        children=[_document_symbol(c) for c in node["children"]],
    )


def _flatten(
    uri: str,
    nodes: list[dict[str, Any]],
    container: str | None,
    out: list[types.SymbolInformation],
) -> None:
    for node in nodes:
        out.append(
            types.SymbolInformation(
                name=node["name"],
                kind=_KINDS.get(node["kind"], types.SymbolKind.Variable),
                location=types.Location(uri=uri, range=range_of(node["range"])),
                container_name=container,
            )
        )
        _flatten(uri, node["children"], node["name"], out)

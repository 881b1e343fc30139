"""Twin: answers read straight off the index; implementors, workspace and document symbols.

No jedi here: these are the cheap questions, answered from ``ast`` facts the
index already holds, so they stay fast on any workspace size.
"""

from __future__ import annotations

import os
from typing import Any

from ...shared.schema import Found, Loc, Span, SymbolRow
from ..context import CallContext
from . import index as index_mod
from .extract import Def, FileEntry, extract
from .jedi_world import Lines
from .registry import query

#: Implementors are streamed in batches of this many locations.
BATCH = 200


def _span(lines: Lines, path: str, entry: FileEntry | None, d: Def) -> Loc:
    text = _ascii_line(entry)
    return lines.location(path, d.line, d.col, d.col + len(d.name), text)


def _ascii_line(entry: FileEntry | None) -> str | None:
    """A stand-in line for :meth:`Lines.location` when the whole file is ASCII (no lookup)."""
    return "" if entry is not None and entry.ascii else None


@query("search.implementors", bulk=True)
def implementors(ctx: CallContext, name: str, encoding: str) -> int:
    """Stream every function or method called ``name`` (Smalltalk's ``gtImplementors``).

    Each item is a :class:`Found`; returns the count.
    """
    entries = index_mod.get(ctx.state).ensure(ctx.check)
    lines = Lines(ctx.overlay, encoding)
    batch: list[Found] = []
    count = 0
    for path in sorted(entries):
        entry = entries[path]
        if not entry.has(name):
            continue
        for d in entry.defs:
            if d.name == name and d.kind != "class":
                batch.append(Found(*_span(lines, path, entry, d), d.qualname))
        if len(batch) >= BATCH:
            ctx.check()
            ctx.partial(batch)
            count += len(batch)
            batch = []
    ctx.partial(batch)
    return count + len(batch)


def _score(name: str, query: str) -> int | None:
    """Lower is better; None: no match (query letters must appear in order, any case)."""
    if not query:
        return 3
    low, q = name.lower(), query.lower()
    if low == q:
        return 0
    if low.startswith(q):
        return 1
    if q in low:
        return 2
    it = iter(low)
    return 3 if all(ch in it for ch in q) else None


@query("search.workspace_symbols")
def workspace_symbols(
    ctx: CallContext, text: str, encoding: str, limit: int = 500
) -> list[SymbolRow]:
    """Best matches first."""
    entries = index_mod.get(ctx.state).ensure(ctx.check)
    scored: list[tuple[int, int, str, str, Def]] = []
    for path, entry in entries.items():
        for d in entry.defs:
            score = _score(d.name, text)
            if score is not None:
                scored.append((score, len(d.name), d.name, path, d))
    scored.sort(key=lambda s: s[:4])
    lines = Lines(ctx.overlay, encoding)
    out = []
    for _, _, _, path, d in scored[:limit]:
        container = d.container or _module_name(ctx.overlay.roots, path)
        out.append(SymbolRow(d.name, d.kind, container, *_span(lines, path, entries[path], d)))
    return out


def _module_name(roots: list[str], path: str) -> str:
    for root in roots:
        prefix = root.rstrip(os.sep) + os.sep
        if path.startswith(prefix):
            rel = os.path.splitext(path[len(prefix) :])[0].split(os.sep)
            if rel[-1] == "__init__":
                rel.pop()
            return ".".join(rel)
    return os.path.splitext(os.path.basename(path))[0]


@query("search.document_symbols")
def document_symbols(ctx: CallContext, path: str, encoding: str) -> list[dict[str, Any]]:
    """The outline of one file, nested: classes hold their methods."""
    source = ctx.overlay.read_text(path)
    if source is None:
        return []
    # One parse of one file: never wait for the whole index; its entry is the last good one.
    entry = extract(source, index_mod.get(ctx.state).entries.get(path))
    lines = Lines(ctx.overlay, encoding)
    text = _ascii_line(entry)
    roots: list[dict[str, Any]] = []
    by_qualname: dict[str, dict[str, Any]] = {}
    for d in entry.defs:
        start = lines.location(path, d.start_line, d.start_col, d.start_col, text)
        end = lines.location(path, d.end_line, d.end_col, d.end_col, text)
        node = {
            "name": d.name,
            "kind": d.kind,
            "range": Span(start.line, start.start, end.line, end.start),
            "selection": Span(*_span(lines, path, entry, d)[1:]),
            "children": [],
        }
        by_qualname[d.qualname] = node
        parent = by_qualname.get(d.container)
        (parent["children"] if parent is not None else roots).append(node)
    return roots

"""Twin: textDocument/completion and completionItem/resolve through jedi.

Completion lists come from a fresh ``jedi.Script`` over the overlay, so names
that exist only in another file's unsaved buffer are offered. The list is kept
cheap (names, kinds, the replaced range); ``completionItem/resolve`` asks the
twin again for one item's signature and docstring. The last list is kept per
twin, keyed by the overlay's generation; a resolve that reaches another twin,
or comes after an edit, completes again at the same position to find it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ...shared.schema import CompletionDoc, CompletionRow
from ..context import CallContext
from . import jedi_world
from .jedi_world import Lines
from .registry import query

log = logging.getLogger(__name__)


@dataclass
class _Last:
    """The twin's last completion list: its key and jedi's objects by label."""

    key: tuple[Any, ...] | None = None
    by_label: dict[str, Any] = field(default_factory=dict)


def _complete(ctx: CallContext, path: str, line: int, col: int) -> list[Any]:
    script = jedi_world.get(ctx.state).script(path)
    if script is None:
        return []
    try:
        found = script.complete(line + 1, col)
    except Exception as exc:  # a position jedi refuses, or code it trips over: no items
        log.debug("no completion at %s:%s:%s: %r", path, line, col, exc)
        return []
    last: _Last = ctx.state.singleton("completion.last", _Last)
    last.key = (path, line, col, ctx.overlay.generation)
    last.by_label = {c.name: c for c in found}
    return found


@query("lang.completion")
def completion(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[CompletionRow]:
    """jedi's completions at the cursor, in its order."""
    lines = Lines(ctx.overlay, encoding)
    col = lines.codepoint_col(path, line, character)
    rows: list[CompletionRow] = []
    for i, c in enumerate(_complete(ctx, path, line, col)):
        typed = max(0, len(c.name) - len(c.complete)) if c.complete is not None else 0
        rows.append(
            CompletionRow(
                label=c.name,
                kind=c.type,
                detail=c.module_name or "",
                sort=f"{i:05d}",
                insert=c.name,
                range=lines.location(path, line, col - typed, col),
            )
        )
    return rows


@query("lang.completion_resolve")
def completion_resolve(
    ctx: CallContext, path: str, line: int, character: int, encoding: str, label: str
) -> CompletionDoc | None:
    """One item's signature and docstring (None if the name is no longer offered)."""
    col = Lines(ctx.overlay, encoding).codepoint_col(path, line, character)
    last: _Last = ctx.state.singleton("completion.last", _Last)
    if last.key != (path, line, col, ctx.overlay.generation) or label not in last.by_label:
        _complete(ctx, path, line, col)
    c = last.by_label.get(label)
    if c is None:
        return None
    try:
        signatures = c.get_signatures() if c.type in ("function", "class") else []
        if signatures:
            keyword = "class " if c.type == "class" else "def "
            detail = keyword + signatures[0].to_string()
        else:
            detail = c.description
        doc = c.docstring(raw=True).strip()
    except Exception as exc:  # code jedi trips over: the item stays as it was
        log.debug("no resolve for %s at %s:%s: %r", label, path, line, exc)
        return None
    markdown = f"```python\n{detail}\n```" + (f"\n\n{doc}" if doc else "")
    return CompletionDoc(detail=detail, markdown=markdown, doc=doc)

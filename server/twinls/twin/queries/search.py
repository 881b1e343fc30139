"""Twin: the search queries (index, references, implementation, symbols), registered.

Importing this module is what registers them (the twin's module list names it).
"""

from __future__ import annotations

from ..context import CallContext
from . import hover, implementation, references, symbols
from . import index as index_mod
from .registry import query

__all__ = ["hover", "implementation", "references", "symbols", "warm"]


@query("search.warm")
def warm(ctx: CallContext) -> bool:
    """Start building the index in the background, so the first search finds it ready."""
    index_mod.get(ctx.state).start_background()
    return True


@query("search.index_status")
def index_status(ctx: CallContext) -> dict[str, int]:
    """How much the index holds (files, definitions, files that do not parse)."""
    entries = index_mod.get(ctx.state).ensure(ctx.check)
    return {
        "files": len(entries),
        "definitions": sum(len(e.defs) for e in entries.values()),
        "broken": sum(not e.ok for e in entries.values()),
    }

"""Hover in the twin: jedi's signature and docstring of the name at the cursor.

A cheap request that must stay answered while a long search runs (the search
hands the twin back between chunks), and a way to see jedi read unsaved text.
"""

from __future__ import annotations

from typing import Any

from ..twin.context import CallContext
from . import jedi_world
from .jedi_world import Lines
from .registry import query


@query("search.hover")
def hover(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> dict[str, Any] | None:
    """``{"markdown", "range": [line, start, line, end]}`` or None off a name."""
    world = jedi_world.get(ctx.state)
    script = world.script(path)
    if script is None:
        return None
    lines = Lines(ctx.overlay, encoding)
    text = lines.line(path, line)
    col = lines.codepoint_col(path, line, character)
    try:
        names = script.help(line + 1, col)
    except ValueError:  # a position jedi refuses (past the end of the text)
        return None
    if not names:
        return None
    name = names[0]
    header = None
    if name.type in ("function", "class"):
        signatures = name.get_signatures()
        if signatures:
            header = f"{'class ' if name.type == 'class' else 'def '}{signatures[0].to_string()}"
    if header is None:
        header = f"{name.type} {name.full_name or name.name}"
    doc = name.docstring(raw=True).strip()
    markdown = f"```python\n{header}\n```" + (f"\n\n{doc}" if doc else "")
    start = col
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = col
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    loc = lines.location(path, line, start, end, text)
    return {"markdown": markdown, "range": loc[1:]}

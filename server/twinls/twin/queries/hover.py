"""Twin: hover, jedi's signature and docstring of the name at the cursor.

A cheap request that must stay answered while a long search runs (the search
hands the twin back between chunks), and a way to see jedi read unsaved text.
"""

from __future__ import annotations

import logging

from ...shared.schema import HoverResult, Span
from ..context import CallContext
from . import jedi_world
from .jedi_world import Lines
from .registry import query

log = logging.getLogger(__name__)


@query("search.hover")
def hover(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> HoverResult | None:
    """The name's markdown and :class:`Span`, or None off a name."""
    world = jedi_world.get(ctx.state)
    script = world.script(path)
    if script is None:
        return None
    lines = Lines(ctx.overlay, encoding)
    text = lines.line(path, line)
    col = lines.codepoint_col(path, line, character)
    try:
        names = script.help(line + 1, col)
        if not names:
            return None
        name = names[0]
        header = None
        if name.type in ("function", "class"):
            signatures = name.get_signatures()
            if signatures:
                keyword = "class " if name.type == "class" else "def "
                header = keyword + signatures[0].to_string()
        if header is None:
            header = f"{name.type} {name.full_name or name.name}"
        doc = name.docstring(raw=True).strip()
    except Exception as exc:  # a position jedi refuses, or code it trips over: no hover
        log.debug("no hover at %s:%s:%s: %r", path, line, col, exc)
        return None
    markdown = f"```python\n{header}\n```" + (f"\n\n{doc}" if doc else "")
    start = col
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = col
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    loc = lines.location(path, line, start, end, text)
    return HoverResult(markdown=markdown, range=Span(*loc[1:]))

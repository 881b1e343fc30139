"""Twin: hover, jedi's signature and docstring of the name at the cursor.

A cheap request that must stay answered while a long search runs (the search
hands the twin back between chunks), and a way to see jedi read unsaved text.
"""

from __future__ import annotations

import ast
import logging

from ...shared.schema import HoverResult, Span
from ..context import CallContext
from . import jedi_world
from .extract import parse
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


@query("search.hover_warm", bulk=True)
def hover_warm(ctx: CallContext, paths: list[str]) -> int:
    """Follow each open document's imports, and read their docstrings, ahead of a hover.

    Why: a hover is a fresh ``jedi.Script`` (hover above), but what jedi parsed and
    loaded for it (the imported modules, typeshed's stubs) stays in this process. Cold,
    the first hover of a module costs 0.6-1.1 s of jedi CPU; after this, 0.1 s
    (docs/benchmarks.md, issue 10). The server sends it to the interactive twin for
    each open document (``server/lsp/lane_warm.py``); a bulk call, so a hover waits for
    one import name at most. Returns the names followed.
    """
    world = jedi_world.get(ctx.state)
    followed = 0
    for path in paths:
        text = ctx.overlay.read_text(path)
        script = world.script(path) if text is not None else None
        if text is None or script is None:
            continue
        try:
            spans = [
                (n.lineno, n.end_lineno or n.lineno)
                for n in ast.walk(parse(text))
                if isinstance(n, (ast.Import, ast.ImportFrom))
            ]
            names = script.get_names(all_scopes=False, definitions=True, references=False)
        except Exception as exc:  # a text neither parses: nothing to warm
            log.debug("no hover warm-up of %s: %r", path, exc)
            continue
        for name in names:
            if not any(a <= name.line <= b for a, b in spans):
                continue
            ctx.check()  # between names: a hover waiting gets in
            try:
                for found in name.goto(follow_imports=True):
                    found.docstring(raw=True)
            except Exception as exc:
                log.debug("hover warm-up: %s in %s: %r", name.name, path, exc)
            followed += 1
    world.hover_warmed += followed
    return followed

"""Twin: textDocument/documentHighlight, the uses of the name at the cursor in its file.

jedi's file-scoped references over the overlay text: the same name bound
elsewhere (another function's local of the same spelling) is not highlighted.
"""

from __future__ import annotations

import logging
import os

from ...shared.schema import HighlightRow
from ..context import CallContext
from . import jedi_world
from .jedi_world import Lines
from .registry import query

log = logging.getLogger(__name__)


@query("lang.highlight")
def highlight(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[HighlightRow]:
    """Every occurrence of the name in this file, in order."""
    script = jedi_world.get(ctx.state).script(path)
    if script is None:
        return []
    lines = Lines(ctx.overlay, encoding)
    col = lines.codepoint_col(path, line, character)
    try:
        names = script.get_references(line + 1, col, scope="file")
    except Exception as exc:  # code jedi trips over: nothing highlighted
        log.debug("no highlight at %s:%s:%s: %r", path, line, col, exc)
        return []
    out = []
    for n in names:
        here = str(n.module_path) == path if n.module_path else not os.path.isabs(path)
        if n.line is None or not here:
            continue
        loc = lines.location(path, n.line - 1, n.column, n.column + len(n.name))
        out.append(HighlightRow(*loc[1:], bool(n.is_definition())))
    return sorted(out)

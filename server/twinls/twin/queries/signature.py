"""Twin: textDocument/signatureHelp through jedi (the call around the cursor)."""

from __future__ import annotations

import logging

from ...shared.schema import SignatureRow
from ..context import CallContext
from . import jedi_world
from .jedi_world import Lines
from .registry import query

log = logging.getLogger(__name__)


@query("lang.signature_help")
def signature_help(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[SignatureRow]:
    """The signatures of the callable being called at the cursor, and its active argument."""
    script = jedi_world.get(ctx.state).script(path)
    if script is None:
        return []
    col = Lines(ctx.overlay, encoding).codepoint_col(path, line, character)
    try:
        signatures = script.get_signatures(line + 1, col)
        rows: list[SignatureRow] = []
        for sig in signatures:
            label = sig.to_string()
            rows.append(
                SignatureRow(
                    label=label,
                    doc=sig.docstring(raw=True).strip(),
                    params=[p.to_string() for p in sig.params],
                    active=sig.index if sig.index is not None else -1,
                )
            )
        return rows
    except Exception as exc:  # code jedi trips over: no signature help
        log.debug("no signatures at %s:%s:%s: %r", path, line, col, exc)
        return []

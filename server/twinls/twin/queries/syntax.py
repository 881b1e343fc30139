"""Twin: syntax errors of a document, as parso's error recovery finds them.

parso keeps parsing after an error, so every error in the file is reported,
not just the first one ``compile`` would raise; each is one diagnostic.
"""

from __future__ import annotations

import parso

from ...shared.schema import SyntaxProblem
from ..context import CallContext
from .jedi_world import Lines
from .places import span
from .registry import query

#: More than this many errors in one file is noise (a file half-way through a paste).
MAX_ERRORS = 100


@query("lang.syntax_errors")
def syntax_errors(ctx: CallContext, path: str, encoding: str) -> list[SyntaxProblem] | None:
    """The file's syntax errors as the overlay has it; None if it cannot be read."""
    text = ctx.overlay.read_text(path)
    if text is None:
        return None
    grammar = parso.load_grammar()
    module = grammar.parse(text, error_recovery=True, cache=False)
    lines = Lines(ctx.overlay, encoding)
    out: list[SyntaxProblem] = []
    for error in grammar.iter_errors(module):
        ctx.check()
        start, end = error.start_pos, error.end_pos
        if end <= start:
            end = (start[0], start[1] + 1)
        out.append(SyntaxProblem(range=span(lines, path, start, end), message=error.message))
        if len(out) >= MAX_ERRORS:
            break
    return out

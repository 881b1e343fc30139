"""Twin: textDocument/definition, declaration and typeDefinition through jedi.

A fresh ``jedi.Script`` over the overlay's text (like hover): other files are
read through the overlay too, so a definition that exists only in another
file's unsaved buffer is found. ``definition`` follows imports (into the
project's and the interpreter's files, sources rather than stubs where both
exist), ``declaration`` stops at the name's binding in this module (the
``import`` line), ``typeDefinition`` is jedi's ``infer`` (the class of a value).
"""

from __future__ import annotations

import logging

from ...shared.schema import Loc
from ..context import CallContext
from . import jedi_world
from .jedi_world import Lines
from .places import name_range
from .registry import query

log = logging.getLogger(__name__)


def _answer(
    ctx: CallContext, path: str, line: int, character: int, encoding: str, how: str
) -> list[Loc]:
    script = jedi_world.get(ctx.state).script(path)
    if script is None:
        return []
    lines = Lines(ctx.overlay, encoding)
    col = lines.codepoint_col(path, line, character)
    try:
        if how == "definition":
            names = script.goto(line + 1, col, follow_imports=True, follow_builtin_imports=True)
        elif how == "declaration":
            names = script.goto(line + 1, col, follow_imports=False)
        else:
            names = script.infer(line + 1, col)
    except Exception as exc:  # a position jedi refuses, or code it trips over: no answer
        log.debug("no %s at %s:%s:%s: %r", how, path, line, col, exc)
        return []
    ctx.check()
    found: list[Loc] = []
    for name in names:
        loc = name_range(lines, name)
        if loc is not None and loc not in found:
            found.append(loc)
    return found


@query("lang.definition")
def definition(ctx: CallContext, path: str, line: int, character: int, encoding: str) -> list[Loc]:
    """Where the name at the cursor is defined, imports followed."""
    return _answer(ctx, path, line, character, encoding, "definition")


@query("lang.declaration")
def declaration(ctx: CallContext, path: str, line: int, character: int, encoding: str) -> list[Loc]:
    """Where the name is bound in scope here (an import line stays an import line)."""
    return _answer(ctx, path, line, character, encoding, "declaration")


@query("lang.type_definition")
def type_definition(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[Loc]:
    """The class (or function, module) of what the name holds."""
    return _answer(ctx, path, line, character, encoding, "type")

"""Twin: jedi names and parso nodes as the ranges and hierarchy items that travel back.

The language queries (definition, hierarchy, rename, ...) all turn a jedi
``Name`` or a parso definition node into ``[path, line, start, line, end]`` in
the client's encoding; one place does it, through :class:`Lines`, so every
answer converts columns the same way searches do.
"""

from __future__ import annotations

import os
from typing import Any

from ...shared.schema import HierarchyItem, Loc
from . import jedi_world
from .jedi_world import JediWorld, Lines, client_col, name_at


class _WorldState:
    """The world's shared inference state, seen as a session (``module``,
    ``name_at_cursor``, ``reset_limits``)."""

    def __init__(self, world: JediWorld) -> None:
        self.world = world

    def module(self, path: str) -> Any | None:
        return self.world.module(path)

    def name_at_cursor(self, path: str, line: int, character: int, lines: Lines) -> Any:
        return self.world.name_at_cursor(path, line, character, lines)

    def reset_limits(self) -> None:
        self.world.inference().reset_recursion_limitations()


def jedi_state(world: JediWorld) -> Any:
    """What one language query infers in: a fresh session where the world makes them
    (issue 10's per-search states), else the world's shared state."""
    make = getattr(world, "session", None)
    return make() if make is not None else _WorldState(world)


def name_range(lines: Lines, name: Any) -> Loc | None:
    """Where a ``jedi.api.classes.Name`` is spelled; None for compiled names (no file)."""
    path = name.module_path
    if path is None or name.line is None:
        if path is None:
            return None
        return lines.location(str(path), 0, 0, 0)  # a module: its first line
    line0, col = name.line - 1, name.column
    return lines.location(str(path), line0, col, col + len(name.name))


def span(lines: Lines, path: str, start: tuple[int, int], end: tuple[int, int]) -> Loc:
    """A parso ``(line 1-based, code-point col)`` span in the client's encoding."""
    (sl, sc), (el, ec) = start, end
    enc = lines.encoding
    return Loc(
        path,
        sl - 1,
        client_col(lines.line(path, sl - 1), sc, enc),
        el - 1,
        client_col(lines.line(path, el - 1), ec, enc),
    )


def definition_of(tree_name: Any) -> Any | None:
    """The funcdef/classdef a name leaf names, else None."""
    node = tree_name.get_definition() if tree_name is not None else None
    if node is not None and node.type in ("funcdef", "classdef") and node.name is tree_name:
        return node
    return None


def definition_at(
    ctx: Any, path: str, line: int, character: int, encoding: str
) -> tuple[Any, Any, Lines, Any | None]:
    """The jedi state, the module, the lines, and the definition named at the client's
    position (a funcdef or classdef; None when the position names none)."""
    lines = Lines(ctx.overlay, encoding)
    state = jedi_state(jedi_world.get(ctx.state))
    module = state.module(path)
    col = lines.codepoint_col(path, line, character)
    node = definition_of(name_at(module, line, col)) if module is not None else None
    return state, module, lines, node


def container_of(node: Any) -> Any | None:
    """The funcdef/classdef around ``node`` (through decorators), None at module level."""
    parent = node.parent
    while parent is not None and parent.type not in ("funcdef", "classdef", "file_input"):
        parent = parent.parent
    return None if parent is None or parent.type == "file_input" else parent


def qualname(node: Any) -> str:
    parts = [node.name.value]
    outer = container_of(node)
    while outer is not None:
        parts.append(outer.name.value)
        outer = container_of(outer)
    return ".".join(reversed(parts))


def item_of(lines: Lines, path: str, node: Any) -> HierarchyItem:
    """A hierarchy item for a funcdef/classdef node (or the module, for ``file_input``)."""
    if node.type == "file_input":
        name = os.path.basename(path)
        module_name = name[:-3] if name.endswith(".py") else name
        first = lines.location(path, 0, 0, 0)
        return HierarchyItem(
            name=module_name,
            kind="module",
            detail="",
            path=path,
            range=span(lines, path, (1, 0), node.end_pos),
            selection=first,
            line=0,
            col=0,
        )
    outer = container_of(node)
    if node.type == "classdef":
        kind = "class"
    else:
        kind = "method" if outer is not None and outer.type == "classdef" else "function"
    start = node.parent.start_pos if node.parent.type == "decorated" else node.start_pos
    name_leaf = node.name
    line, col = name_leaf.start_pos
    module = os.path.basename(path).removesuffix(".py")
    return HierarchyItem(
        name=name_leaf.value,
        kind=kind,
        detail=f"{module}.{qualname(outer)}" if outer is not None else module,
        path=path,
        range=span(lines, path, start, _end(node)),
        selection=span(lines, path, name_leaf.start_pos, name_leaf.end_pos),
        line=line - 1,
        col=col,
    )


def _end(node: Any) -> tuple[int, int]:
    """A definition's end without its trailing newline (parso's end is the next line)."""
    leaf = node.get_last_leaf()
    while leaf is not None and leaf.type in ("newline", "endmarker", "dedent"):
        leaf = leaf.get_previous_leaf()
    return leaf.end_pos if leaf is not None else node.end_pos

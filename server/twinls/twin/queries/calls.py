"""Twin: call hierarchy (prepare, incoming calls, outgoing calls).

Incoming calls are the references engine's uses of the function (plan from
``search.refs_plan``, every candidate file's occurrences resolved by jedi
against the overlay, :func:`references.in_file`), kept where the use is called
(or used as a decorator) and grouped by the function, class or module around
it. The LSP side shards ``lang.incoming_in`` over the pool like a references
search and streams one batch per file. Outgoing calls are the calls in the
function's own body (nested definitions are their own nodes), each resolved by
jedi to what it calls.
"""

from __future__ import annotations

import logging
from typing import Any

from ...shared.schema import HierarchyItem, IncomingRow, OutgoingRow
from ..context import CallContext
from . import jedi_world
from .jedi_world import Key, Lines, name_at
from .places import definition_at, definition_of, item_of, jedi_state
from .references import CHUNK_BUDGET, chunk_setup, each_file, in_file, resolve
from .registry import query

log = logging.getLogger(__name__)

_SCOPES = ("funcdef", "classdef", "file_input")


def items_at(
    ctx: CallContext, path: str, line: int, character: int, encoding: str, kinds: tuple[str, ...]
) -> list[HierarchyItem]:
    """The definitions (funcdef/classdef of ``kinds``) the name at the cursor goes to."""
    world = jedi_world.get(ctx.state)
    lines = Lines(ctx.overlay, encoding)
    col = lines.codepoint_col(path, line, character)
    state = jedi_state(world)
    here = state.module(path)
    node = definition_of(name_at(here, line, col)) if here is not None else None
    if node is not None:  # on a definition's own name: that one (jedi's goto may go up)
        return [item_of(lines, path, node)] if node.type in kinds else []
    script = world.script(path)
    if script is None:
        return []
    try:
        names = script.goto(line + 1, col, follow_imports=True)
    except Exception as exc:  # code jedi trips over: nothing to show
        log.debug("no hierarchy item at %s:%s:%s: %r", path, line, col, exc)
        return []
    items: list[HierarchyItem] = []
    for n in names:
        if n.module_path is None or n.line is None:
            continue
        file = str(n.module_path)
        module = state.module(file)
        leaf = name_at(module, n.line - 1, n.column) if module is not None else None
        node = definition_of(leaf)
        if node is not None and node.type in kinds:
            item = item_of(lines, file, node)
            if item not in items:
                items.append(item)
    return items


@query("lang.call_item")
def call_item(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[HierarchyItem]:
    """callHierarchy/prepare: the function, method or class at the cursor."""
    return items_at(ctx, path, line, character, encoding, ("funcdef", "classdef"))


def _is_call(leaf: Any) -> bool:
    """``leaf(...)``, ``x.leaf(...)`` or ``@leaf`` / ``@x.leaf``."""
    node = leaf.parent if leaf.parent is not None and leaf.parent.type == "trailer" else leaf
    after = node.get_next_sibling()
    if after is not None and after.type == "trailer" and after.children[0] == "(":
        return True
    up = node.parent
    while up is not None and up.type in ("power", "atom_expr", "dotted_name"):
        up = up.parent
    return up is not None and up.type == "decorator"


def _scope(leaf: Any) -> Any:
    """The function, class or module a use sits in (a decorator belongs outside)."""
    node = leaf.parent
    while node is not None and node.type not in _SCOPES + ("decorator",):
        node = node.parent
    if node is not None and node.type == "decorator":
        node = node.parent.parent  # decorator(s) -> decorated -> its scope
        while node.type not in _SCOPES:
            node = node.parent
    return node


@query("lang.incoming_in", bulk=True)
def incoming_in(
    ctx: CallContext,
    files: list[str],
    name: str,
    keys: list[list[Any]],
    encoding: str,
    budget: float = CHUNK_BUDGET,
) -> int:
    """Per file, one batch of :class:`IncomingRow`; returns how many files it did."""
    world, target, lines = chunk_setup(ctx, keys, encoding)
    return each_file(
        ctx, files, budget, lambda path: _incoming_in_file(world, path, name, target, lines)
    )


def _incoming_in_file(
    world: jedi_world.JediWorld, path: str, name: str, target: set[Key], lines: Lines
) -> list[IncomingRow]:
    uses = in_file(world, path, name, target, False, lines)
    module = jedi_state(world).module(path)
    if not uses or module is None:
        return []
    rows: dict[int, IncomingRow] = {}
    for loc in uses:
        col = lines.codepoint_col(path, loc[1], loc[2])
        leaf = name_at(module, loc[1], col)
        if leaf is None or leaf.value != name or not _is_call(leaf):
            continue
        scope = _scope(leaf)
        row = rows.get(id(scope))
        if row is None:
            row = rows[id(scope)] = IncomingRow(caller=item_of(lines, path, scope), ranges=[])
        row["ranges"].append(loc)
    return list(rows.values())


def _calls_in(node: Any) -> list[Any]:
    """Name leaves called in ``node``'s body, not descending into nested definitions."""
    out: list[Any] = []
    stack = list(reversed(node.children))
    while stack:
        n = stack.pop()
        if n.type in ("funcdef", "classdef") and n is not node:
            continue
        if n.type == "name":
            if _is_call(n) and not n.is_definition():
                out.append(n)
            continue
        stack.extend(reversed(getattr(n, "children", [])))
    return out


@query("lang.outgoing")
def outgoing(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[OutgoingRow]:
    """callHierarchy/outgoingCalls of the definition named at the client's position."""
    state, module, lines, node = definition_at(ctx, path, line, character, encoding)
    if node is None:
        return []
    body = node.children[-1]  # the suite (a one-line body is a simple statement)
    rows: dict[tuple, OutgoingRow] = {}
    for leaf in _calls_in(body):
        ctx.check()
        state.reset_limits()
        try:
            names = resolve(module, leaf)
        except Exception as exc:  # one call jedi trips over is left out
            log.debug("outgoing call %s at %s: %r", leaf.value, leaf.start_pos, exc)
            continue
        for n in names:
            callee = definition_of(n.tree_name) if n.tree_name is not leaf else None
            file = n.get_root_context().py__file__() if callee is not None else None
            if callee is None or file is None:
                continue
            key = (str(file), callee.start_pos)
            if key not in rows:
                rows[key] = OutgoingRow(callee=item_of(lines, str(file), callee), ranges=[])
            sl, sc = leaf.start_pos
            loc = lines.location(path, sl - 1, sc, sc + len(leaf.value))
            if loc not in rows[key]["ranges"]:
                rows[key]["ranges"].append(loc)
    return list(rows.values())

"""Twin: type hierarchy (prepare and supertypes; subtypes are ``search.implementation``).

Supertypes are the classes jedi infers for the class's bases, stubs mapped to
their source where it exists (so ``class Handler(logging.Handler)`` leads into
``logging/__init__.py``). Subtypes reuse the implementation search, which is
already transitive, streamed and overlay-aware (unsaved classes included).
"""

from __future__ import annotations

import logging

from jedi.inference.gradual.conversion import convert_values

from ...shared.schema import HierarchyItem
from ..context import CallContext
from . import jedi_world
from .calls import items_at
from .jedi_world import Lines, name_at
from .places import definition_of, item_of, jedi_state
from .registry import query

log = logging.getLogger(__name__)


@query("lang.type_item")
def type_item(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[HierarchyItem]:
    """typeHierarchy/prepare: the class at the cursor (or the class a name goes to)."""
    return items_at(ctx, path, line, character, encoding, ("classdef",))


@query("lang.supertypes")
def supertypes(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> list[HierarchyItem]:
    """The direct bases of the class named at the client's position."""
    world = jedi_world.get(ctx.state)
    lines = Lines(ctx.overlay, encoding)
    state = jedi_state(world)
    module = state.module(path)
    col = lines.codepoint_col(path, line, character)
    node = definition_of(name_at(module, line, col)) if module is not None else None
    if node is None or node.type != "classdef":
        return []
    state.reset_limits()
    items: list[HierarchyItem] = []
    try:
        value = module.create_value(node)
        for lazy in value.py__bases__():
            inferred = lazy.infer()
            for base in convert_values(inferred, prefer_stubs=False) or inferred:
                name = getattr(base, "name", None)
                tree_name = getattr(name, "tree_name", None)
                classdef = definition_of(tree_name)
                file = base.get_root_context().py__file__() if classdef is not None else None
                if classdef is None or file is None:
                    continue
                item = item_of(lines, str(file), classdef)
                if item not in items:
                    items.append(item)
    except Exception as exc:  # a class jedi cannot infer has no known supertypes
        log.debug("supertypes of %s in %s: %r", node.name.value, path, exc)
    return items

"""Twin: textDocument/implementation, subclasses of a class, overrides of a method.

The index proposes candidates cheaply (classes with a base spelled like the
target's name, import aliases expanded); jedi then infers each candidate's
bases, so two classes of the same name in different modules are never
confused. The walk is transitive: a subclass's own subclasses are found by
its name in turn, across files, unsaved buffers included.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from jedi.inference.gradual.conversion import convert_names, convert_values

from ...shared.schema import Found
from ..context import CallContext
from . import index as index_mod
from . import jedi_world
from .extract import Def
from .jedi_world import Key, Lines, Session, key_of, name_at
from .references import resolve
from .registry import query

log = logging.getLogger(__name__)


def _target(module: Any, leaf: Any) -> tuple[Key, str, str | None] | None:
    """(class key, class name, method name or None) for what the leaf stands for."""
    names = convert_names(resolve(module, leaf), prefer_stubs=False)
    for name in sorted(names, key=lambda n: n.tree_name is None):
        tree_name = name.tree_name
        if tree_name is None:
            continue
        definition = tree_name.get_definition()
        # An import's name has a definition without ``.name``; skip it, whatever the set order.
        if definition is None or getattr(definition, "name", None) is not tree_name:
            continue
        if definition.type == "classdef":
            key = key_of(name)
            return (key, tree_name.value, None) if key else None
        if definition.type == "funcdef":
            cls = definition.parent  # through decorators, ``async`` and the class body
            while cls is not None and cls.type in ("decorated", "async_funcdef", "async_stmt"):
                cls = cls.parent
            if cls is not None and cls.type == "suite":
                cls = cls.parent
            if cls is not None and cls.type == "classdef":
                owner = name.parent_context
                key = key_of(owner.name) if owner is not None and owner.is_class() else None
                return (key, cls.name.value, tree_name.value) if key else None
    return None


def base_keys(world: jedi_world.JediWorld, path: str, d: Def, search: Any = None) -> set[Key]:
    """The classes ``d``'s bases are, as jedi infers them (stubs mapped to their source).

    In the shared state, inside a journal (:meth:`Session.attempt`): a limit hit
    leaves no trace, so the answer does not depend on what was asked before.
    """
    session = world.shared(search)
    module = session.module(path)
    if module is None:
        return set()
    leaf = name_at(module, d.line, d.col)
    classdef = leaf.parent if leaf is not None else None
    if classdef is None or classdef.type != "classdef":
        return set()

    def infer(session: Session) -> set[Key]:
        keys: set[Key] = set()
        try:
            own = session.module(path)
            value = (own or module).create_value(_same_node(own, classdef))
            for lazy in value.py__bases__():
                inferred = lazy.infer()
                for base in inferred | convert_values(inferred, prefer_stubs=False):
                    name = getattr(base, "name", None)
                    key = key_of(name) if name is not None and base.is_class() else None
                    if key is not None:
                        keys.add(key)
        except Exception as exc:  # a class jedi cannot infer is no subclass, not a failure
            log.debug("bases of %s in %s: %r", d.name, path, exc)
        return keys

    keys, whole = session.attempt(infer, ("bases", path, d.line, d.col))
    if not whole:
        log.warning("jedi gave up on the bases of %s in %s", d.name, path)
    return keys


def _same_node(module: Any, classdef: Any) -> Any:
    """``classdef`` in ``module``'s tree (parso's cache gives every state the same tree)."""
    if module is None or classdef.get_root_node() is module.tree_node:
        return classdef
    leaf = module.tree_node.get_leaf_for_position(classdef.name.start_pos)
    node = leaf.parent if leaf is not None else None
    return node if node is not None and node.type == "classdef" else classdef


@query("search.implementation", bulk=True)
def implementation(ctx: CallContext, path: str, line: int, character: int, encoding: str) -> int:
    """Stream subclasses (on a class) or overrides (on a method), transitively."""
    world = jedi_world.get(ctx.state)
    lines = Lines(ctx.overlay, encoding)
    found = world.session().name_at_cursor(path, line, character, lines)
    try:
        target = _target(*found) if found is not None else None
    except Exception as exc:  # code jedi trips over: no target, an empty answer
        log.debug("no implementation target at %s:%s:%s: %r", path, line, character, exc)
        target = None
    if target is None:
        return 0
    root_key, root_name, method = target
    idx = index_mod.get(ctx.state)
    entries = idx.ensure(ctx.check)
    known: set[Key] = {root_key}
    queue = deque([root_name])
    bases_of: dict[Key, set[Key]] = {}  # checked once, even if its name comes up again
    count = 0
    while queue:
        for cpath, d in idx.subclass_candidates(queue.popleft()):
            key = (cpath, d.line + 1, d.col)
            if key in known:
                continue
            ctx.check()
            if key not in bases_of:
                bases_of[key] = base_keys(world, cpath, d, ("implementation", ctx.id))
            if not bases_of[key] & known:
                continue
            known.add(key)
            queue.append(d.name)
            entry = entries.get(cpath)
            if method is None:
                found = [d]
            else:
                found = [
                    m
                    for m in (entry.defs if entry else ())
                    if m.name == method and m.kind == "method" and m.container == d.qualname
                ]
            batch = [
                Found(*lines.location(cpath, m.line, m.col, m.col + len(m.name)), m.qualname)
                for m in found
            ]
            ctx.partial(batch)
            count += len(batch)
    return count

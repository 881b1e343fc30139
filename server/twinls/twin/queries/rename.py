"""Twin: textDocument/prepareRename and the uses a rename must change.

A rename is built on the references engine (``search.refs_plan`` picks the
target and candidate files, :func:`references.in_file` resolves every
occurrence against the overlay), so every use is renamed, in unsaved buffers
too. It is refused where it cannot be made safely: builtins and compiled
names, names defined outside the workspace (the interpreter's or a library's
files, jedi's stubs), a name jedi cannot resolve at the cursor, and (found
while collecting) attribute uses ``x.name`` whose ``x`` jedi cannot infer, which
may or may not be the same attribute (dynamic access).
"""

from __future__ import annotations

import keyword
import logging
from typing import Any

from ...shared.schema import RenamePlan
from ..context import CallContext
from . import index as index_mod
from . import jedi_world
from .jedi_world import Lines
from .places import jedi_state
from .references import (
    CHUNK_BUDGET,
    chunk_setup,
    defining,
    each_file,
    in_file,
    refs_plan,
    resolve,
)
from .registry import query

log = logging.getLogger(__name__)


def _refuse(name: str, why: str) -> RenamePlan:
    return RenamePlan(range=None, name=name, refused=why, files=[], keys=[])


@query("lang.prepare_rename")
def prepare_rename(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> RenamePlan:
    """The name's range and the search plan, or ``refused`` with the reason."""
    world = jedi_world.get(ctx.state)
    lines = Lines(ctx.overlay, encoding)
    found = jedi_state(world).name_at_cursor(path, line, character, lines)
    if found is None:
        return _refuse("", "There is no name at the cursor to rename.")
    module, leaf = found
    name = leaf.value
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return _refuse(name, f"'{name}' is a keyword.")
    try:
        names = defining(module, leaf)
    except Exception as exc:  # code jedi trips over: no safe rename
        log.debug("rename target at %s:%s:%s: %r", path, line, character, exc)
        names = set()
    names = {n for n in names if n.tree_name is not leaf or n.tree_name.is_definition()}
    if not names:
        return _refuse(
            name,
            f"Cannot tell what '{name}' refers to here (dynamic attribute access, or a name "
            "never bound); renaming it could miss or break uses.",
        )
    idx = index_mod.get(ctx.state)
    for n in names:
        if n.tree_name is None:
            return _refuse(name, f"'{name}' is a builtin or compiled name; it cannot be renamed.")
        file = n.get_root_context().py__file__()
        file = str(file) if file is not None else None
        if file is None or not (file == path or idx.indexable(file)):
            where = f" ({file})" if file else ""
            return _refuse(
                name, f"'{name}' is defined outside the workspace{where}; it cannot be renamed."
            )
    plan = refs_plan(ctx, path, line, character, encoding)
    if not plan:
        return _refuse(name, f"Cannot tell what '{name}' refers to here.")
    col = leaf.start_pos[1]
    return RenamePlan(
        range=lines.location(path, line, col, col + len(name)),
        name=name,
        refused=None,
        files=plan["files"],
        keys=plan["keys"],
    )


@query("lang.rename_in", bulk=True)
def rename_in(
    ctx: CallContext,
    files: list[str],
    name: str,
    keys: list[list[Any]],
    encoding: str,
    budget: float = CHUNK_BUDGET,
) -> int:
    """Per file, one batch of ``["use", loc]`` and ``["unsure", loc]``; returns files done."""
    world, target, lines = chunk_setup(ctx, keys, encoding)

    def batch_of(path: str) -> list[list[Any]]:
        uses = in_file(world, path, name, target, True, lines)
        batch: list[list[Any]] = [["use", loc] for loc in uses]
        return batch + [["unsure", loc] for loc in _unsure(world, path, name, uses, lines)]

    return each_file(ctx, files, budget, batch_of)


def _unsure(
    world: jedi_world.JediWorld, path: str, name: str, uses: list[list[Any]], lines: Lines
) -> list[list[Any]]:
    """Attribute uses ``x.name`` jedi resolves to nothing at all: maybe the same attribute."""
    module = jedi_state(world).module(path)
    if module is None:
        return []
    taken = {(u[1], u[2]) for u in uses}
    out = []
    for leaf in module.tree_node.get_used_names().get(name, []):
        parent = leaf.parent
        if parent is None or parent.type != "trailer" or parent.children[0] != ".":
            continue
        line, col = leaf.start_pos
        loc = lines.location(path, line - 1, col, col + len(name))
        if (loc[1], loc[2]) in taken:
            continue
        try:
            others = [n for n in resolve(module, leaf) if n.tree_name is not leaf]
        except Exception:  # jedi trips over it: as unsure as it gets
            others = []
        if not others:
            out.append(loc)
    return out

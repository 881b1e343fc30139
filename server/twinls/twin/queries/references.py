"""Twin: textDocument/references; plan from the index, then the ast lane or jedi checks each use.

Why not ``jedi.Script.get_references``: it opens at most 2,000 files, parses at
most 30 that contain the name, skips names of two characters or fewer outside
the module, and reads other files from disk (unsaved buffers are invisible).
Here the index names every file that holds the identifier, and every
occurrence in those files is resolved by jedi against the overlay, so the
result is complete and same-named but unrelated names are left out.

Two queries: ``search.refs_plan`` (the target at the cursor and the candidate
files) and ``search.refs_in`` (one chunk of files, a partial batch per file: the
uses the ``ast`` lane decided go out before jedi starts on the rest),
which :meth:`TwinPool.call_sharded` spreads over the pool.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from jedi.parser_utils import get_parent_scope

from ...shared.schema import InterpreterParts, Loc
from ..context import CallContext
from . import bindings, digest, jedi_world
from . import index as index_mod
from .extract import name_at_column
from .jedi_compat import code_lines, find_defining_names, find_names
from .jedi_world import Key, Lines, Session, key_of
from .registry import query

log = logging.getLogger(__name__)
_plans = itertools.count()

#: Seconds a chunk may run before it hands the rest back (keeps the twin answering).
CHUNK_BUDGET = 0.05
_LOCAL_SCOPES = ("funcdef", "lambdef", "sync_comp_for", "comp_for")


def resolve(module_context: Any, leaf: Any) -> set[Any]:
    """jedi names a name leaf stands for (itself included), imports followed."""
    return set(find_names(module_context, leaf))


def defining(module_context: Any, leaf: Any) -> set[Any]:
    """The target's names: what the leaf resolves to, stubs and same-scope rebinds too."""
    state = module_context.inference_state
    state.flow_analysis_enabled = False  # both branches of an ``if`` define the name
    try:
        return set(find_defining_names(module_context, leaf))
    finally:
        state.flow_analysis_enabled = True


def _is_local(name: Any) -> bool:
    """A name only its own file can use: a function's local variable, ``self``, ``cls``."""
    tree_name = name.tree_name
    if tree_name is None:
        return False
    if name.api_type == "param":
        return tree_name.value in ("self", "cls")  # others are used as keyword arguments
    if tree_name.parent is not None and tree_name.parent.type == "trailer":
        return False  # an attribute
    scope = get_parent_scope(tree_name)
    return scope is not None and scope.type in _LOCAL_SCOPES


@query("search.refs_plan", bulk=True)
def refs_plan(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> dict[str, Any] | None:
    """What to look for and where: ``{"name", "keys", "files", "search", "local"}``."""
    plan = _target(ctx, path, line, character, encoding)
    if plan is not None:
        plan["files"] = refs_files(ctx, path, plan["name"], plan["keys"], plan["local"])
    return plan


@query("search.refs_target", bulk=True)
def refs_target(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> dict[str, Any] | None:
    """The plan without its files, for a server that keeps answers (``server/lsp/kept.py``):
    with a kept answer for this target it needs no candidate files (whose scan reads
    every file while the index is still building)."""
    return _target(ctx, path, line, character, encoding)


@query("search.refs_first")
def refs_first(
    ctx: CallContext,
    path: str,
    line: int,
    character: int,
    encoding: str,
    include_declaration: bool = True,
) -> int:
    """The uses certain from syntax, streamed before jedi has the target: the first result.

    Why: cold, jedi's target takes 0.2-1 s and the candidate scan as long again
    before the first chunk starts (issue 10: the first result under 100 ms). The
    ``ast`` lane decides the cursor's own use without jedi; what it means (its
    keys, ``P``, with the cursor's own position, which jedi's target always
    holds) is a part of jedi's target. So a use the lane decides to mean a key of
    ``P``, in the cursor's file or in a definition's file, is a use of jedi's
    target too, and one the search finds again: the early batches are a subset
    of the answer (the server drops the repeats), never a guess. Nothing is
    sent when the lane does not decide the cursor, in a buffer that is no file
    (jedi has no target there), or in check mode (jedi's answer is the one
    checked). Without ``include_declaration`` the answer leaves out what jedi's
    target holds, and that holds the imports a use passes through, which the lane
    cannot tell: then only the uses that bind nothing are sent (not a def's name,
    not a ``from`` import's), and not the cursor's own (in the target too).
    Returns the rows sent. Interactive (not the search lane): it must not queue
    behind the plan it runs beside.
    """
    if bindings.switches()[1]:
        return 0
    if not os.path.isabs(path) or not ctx.overlay.is_file(path):
        return 0  # an untitled buffer: jedi answers nothing there (``Session.module``)
    lane = jedi_world.get(ctx.state).lane()
    if lane is None:
        return 0
    lines = Lines(ctx.overlay, encoding)
    at = name_at_column(lines.line(path, line), lines.codepoint_col(path, line, character))
    if at is None:
        return 0
    name, col = at
    cursor: Key = (path, line + 1, col)
    decided, binds = _lane_decided(lane, path, name, {cursor})
    meant = decided.get(cursor[1:])
    if meant is None:
        return 0
    first = {cursor, *meant}
    idx = index_mod.get(ctx.state)
    sent = 0
    for file in dict.fromkeys([path, *sorted(k[0] for k in meant)]):
        ctx.check()  # between files, as a search does (a kept answer may be out already)
        if file != path and not (idx.indexable(file) and ctx.overlay.is_file(file)):
            continue  # jedi's bundled stubs, site-packages: not searched
        if file != path or any(k[0] == path for k in meant):  # a def of ``first`` is here
            decided, binds = _lane_decided(lane, file, name, first)
        if not include_declaration:  # what binds the name may be in jedi's target: left out
            decided = {p: k for p, k in decided.items() if p not in binds}
        uses = _lane_uses(file, name, decided, lines)
        rows = _hits(uses, _own(first, file), first, include_declaration)
        if rows:
            ctx.partial(rows)
            sent += len(rows)
    return sent


def _lane_decided(
    lane: bindings.Lane, path: str, name: str, target: set[Key]
) -> tuple[dict[bindings.Pos, bindings.Keys], set[bindings.Pos]]:
    """The lane's decided uses in one file, and which of them bind the name; none if the
    lane fails (a bug of the lane must cost the early batch only: the search resolves
    every use anyway)."""
    try:
        return lane.decide_binding(path, name, target)
    except Exception:
        log.exception("binding lane failed on %s in %s", name, path)
        return {}, set()


@query("search.interpreter")
def interpreter(ctx: CallContext) -> InterpreterParts:
    """What the twin's jedi reads outside the workspace, for the server's digest
    (``twin/queries/digest.py``)."""
    return digest.interpreter()


def _target(
    ctx: CallContext, path: str, line: int, character: int, encoding: str
) -> dict[str, Any] | None:
    """``{"name", "keys", "search", "local"}`` at the cursor; None off a name."""
    found = (
        jedi_world.get(ctx.state)
        .session()
        .name_at_cursor(path, line, character, Lines(ctx.overlay, encoding))
    )
    if found is None:
        return None
    module, leaf = found
    try:
        names = defining(module, leaf)
    except Exception as exc:  # code jedi trips over: no target, an empty answer
        log.debug("no target at %s:%s:%s: %r", path, line, character, exc)
        return None
    keys = sorted({k for k in map(key_of, names) if k is not None})
    local = bool(names) and all(_is_local(n) for n in names)
    search = f"{os.getpid()}-{next(_plans)}"
    return {"name": leaf.value, "keys": [list(k) for k in keys], "search": search, "local": local}


@query("search.refs_files", bulk=True)
def refs_files(
    ctx: CallContext, path: str, name: str, keys: list[list[Any]], local: bool
) -> list[str]:
    """The candidate files of a target: its definitions' and the cursor's first."""
    idx = index_mod.get(ctx.state)
    # The workspace and the asking file: not jedi's bundled stubs, not site-packages.
    decl_files = [
        f
        for f in dict.fromkeys(k[0] for k in keys)
        if f == path or (idx.indexable(f) and ctx.overlay.is_file(f))
    ]
    if local:
        return list(dict.fromkeys([*decl_files, path]))
    found = idx.files_with(name, ctx.check)
    first = [p for p in dict.fromkeys([*decl_files, path]) if ctx.overlay.is_file(p)]
    # Biggest first: the pool ends together.
    rest = sorted((p for p in found if p not in first), key=lambda p: -found[p])
    return first + rest


@query("search.refs_in", bulk=True)
def refs_in(
    ctx: CallContext,
    files: list[str],
    name: str,
    keys: list[list[Any]],
    encoding: str,
    include_declaration: bool = True,
    budget: float | None = None,
    search: str | None = None,
) -> int:
    """Resolve every use of ``name`` in ``files``; batches per file; returns files done.

    A file's lane-decided uses are streamed before jedi resolves its others: the
    first result no longer waits for jedi on the first file.

    ``search``: the plan's id (with the path, it names each file's jedi state).
    """
    budget = CHUNK_BUDGET if budget is None else budget
    world, target, lines = chunk_setup(ctx, keys, encoding)

    def batch_of(path: str) -> list[Loc]:
        """The file's uses; the lane's decided ones go out first, before jedi starts on it
        (a first file with one use jedi is slow on made the first result wait ~7 s)."""
        sent: list[Loc] = []

        def early(rows: list[Loc]) -> None:
            ctx.partial(rows)
            sent.extend(rows)

        rows = in_file(world, path, name, target, include_declaration, lines, search, early)
        if not sent:
            return rows
        gone = set(sent)
        return [r for r in rows if r not in gone]

    return each_file(ctx, files, budget, batch_of)


def chunk_setup(
    ctx: CallContext, keys: list[list[Any]], encoding: str
) -> tuple[jedi_world.JediWorld, set[Key], Lines]:
    """What every sharded chunk over files starts from: the twin's jedi world, the
    definitions' keys as a set (they arrive as lists), the lines in the client's encoding."""
    target: set[Key] = {tuple(k) for k in keys}  # type: ignore[misc]
    return jedi_world.get(ctx.state), target, Lines(ctx.overlay, encoding)


def each_file(
    ctx: CallContext, files: list[str], budget: float, batch_of: Callable[[str], list[Any]]
) -> int:
    """The loop of every sharded chunk: one batch per file until ``budget`` runs out.

    Returns how many files it did (the rest go back to the queue); stops between
    files when cancelled, and lets interactive calls into jedi there. After each
    file, parso's trees are trimmed to the bound (:meth:`JediWorld.trim_trees`).
    """
    start = time.monotonic()
    world = jedi_world.get(ctx.state)
    for i, path in enumerate(files):
        if i and time.monotonic() - start > budget:
            return i
        ctx.check()
        ctx.partial(batch_of(path))
        world.trim_trees()  # the file is decided: its tree need not stay (bounded memory)
    return len(files)


#: One occurrence of a name in a file: its position (1-based line, column), the keys jedi
#: or the lane resolved it to (None: nothing, or a position of the target's own), its row.
Use = tuple[tuple[int, int], "frozenset[Key] | None", Loc]


def in_file(
    world: jedi_world.JediWorld,
    path: str,
    name: str,
    target: set[Key],
    include_declaration: bool,
    lines: Lines,
    search: str | None = None,
    early: Callable[[list[Loc]], None] | None = None,
) -> list[Loc]:
    """The uses of ``name`` in one file that mean the target.

    What each occurrence resolves to is kept until the next change, under what it
    depends on: the file, the name, the target's own positions in this file and
    whether the target is a builtin (:func:`_resolved`), not the whole target. So
    the same def asked at a use in another file (whose target also holds that use),
    the references after an implementation or a rename of the same name, take every
    other file's resolution at once (pyparsing's ``parse_string`` asked at a use
    after its def: 4.5 s of jedi again before).

    ``early``: given the lane's decided uses before jedi starts on the file (not in
    check mode), so a caller can stream them at once; they are in the answer too.
    """
    own = _own(target, path)
    key = ("uses", path, name, own, bindings.is_builtin_target(target), lines.encoding)

    def decided_early(uses: list[Use]) -> None:
        if early is not None:
            early(_hits(uses, own, target, include_declaration))

    uses = world.verdict(
        key, lambda: _resolved(world, path, name, target, lines, search, decided_early)
    )
    return _hits(uses, own, target, include_declaration)


def _own(target: set[Key], path: str) -> frozenset[tuple[int, int]]:
    """The target's positions in ``path``: never resolved, a hit if the declaration is asked."""
    return frozenset(k[1:] for k in target if k[0] == path)  # type: ignore[misc]


def _lane_uses(
    path: str, name: str, decided: dict[tuple[int, int], frozenset[Key]], lines: Lines
) -> list[Use]:
    """The lane's decided occurrences as :data:`Use` rows, in order."""
    return [
        ((line, col), keys, lines.location(path, line - 1, col, col + len(name)))
        for (line, col), keys in sorted(decided.items())
    ]


def _hits(
    uses: list[Use], own: frozenset[Any], target: set[Key], include_declaration: bool
) -> list[Loc]:
    """The rows of the uses that mean ``target`` (its own positions if the declaration is asked)."""
    return [
        loc
        for pos, keys, loc in uses
        if (include_declaration if pos in own else bool(keys and keys & target))
    ]


def _resolved(
    world: jedi_world.JediWorld,
    path: str,
    name: str,
    target: set[Key],
    lines: Lines,
    search: str | None,
    early: Callable[[list[Use]], None],
) -> list[Use]:
    """What every occurrence of ``name`` in one file resolves to (:data:`Use`).

    The file gets an inference state of its own (as plain jedi's ``Script`` per
    file), so its verdict depends on its text and the workspace's alone: not on
    which twin it was dealt to, which files that twin resolved before, where a
    time budget cut the chunk, or which twin stole it. A shared state made
    repeats differ under load (29 references of ``class Promise``, then 24, 22,
    16, 14: jedi memoizes what it inferred half way through a cycle, and caches
    the sys path of the first file it loads).
    Before jedi, the ``ast`` binding lane (``bindings.py``) decides the uses
    certain from syntax; a file it decides whole is neither parsed by parso nor
    given a state. In check mode jedi resolves the decided uses too (its answer
    is kept) and a disagreement is counted. ``target`` counts only through its
    positions in this file (never resolved: they are the target's) and whether
    it is a builtin (the lane's literal methods): the key :func:`in_file` keeps
    the answer under.
    """
    lane = world.lane()
    decided: dict[tuple[int, int], frozenset[Key]] = {}
    whole = False
    if lane is not None:
        try:
            decided, whole = lane.decide(path, name, target)
        except Exception:  # a bug of the lane must not lose a file's uses: jedi has them all
            log.exception("binding lane failed on %s in %s; jedi resolves the file", name, path)
    counts, check = world.lane_counts, bindings.switches()[1]
    counts.files += whole
    lane_uses = _lane_uses(path, name, decided, lines)
    if whole and not check:  # every use decided from syntax: no parso, no jedi state
        counts.decided += len(decided)
        return lane_uses
    if decided and not check:
        early(lane_uses)
    session = world.shared((search, path))
    module = session.module(path)
    if module is None:  # gone since the lane read it: what went out stands, as for a whole file
        return lane_uses if not check else []
    lines_of_module = code_lines(module.get_value())
    used = module.tree_node.get_used_names()
    same_as: dict[str, set[Key]] = {}  # a use's meaning key -> what such uses resolve to
    binding: dict[str, Any] = {}  # N -> its one (module-level) binding, or None
    found: list[Use] = []
    for leaf in used.get(name, []):
        line, col = leaf.start_pos
        keys: frozenset[Key] | None = None
        if (path, line, col) not in target:
            keys = decided.get(leaf.start_pos)
            if keys is not None and not check:
                counts.decided += 1
            else:
                if lane is not None and keys is None:
                    counts.deferred += 1
                by_jedi = _jedi_keys(world, session, path, leaf, target, used, binding, same_as)
                if keys is not None:
                    _compare(world, path, leaf, keys, by_jedi, target)
                keys = None if by_jedi is None else frozenset(by_jedi)
        text = lines_of_module[line - 1] if line <= len(lines_of_module) else None
        found.append(
            ((line, col), keys, lines.location(path, line - 1, col, col + len(name), text))
        )
    return found


def _jedi_keys(
    world: jedi_world.JediWorld,
    session: Session,
    path: str,
    leaf: Any,
    target: set[Key],
    used: Any,
    binding: dict[str, Any],
    same_as: dict[str, set[Key]],
) -> set[Key] | None:
    """What jedi resolves a use to, once per file for uses of one fixed meaning."""
    base = _fixed_base(leaf, used, binding)
    keys = same_as.get(base) if base is not None else None
    if keys is None:
        keys, whole = _resolve_use(world, session, path, leaf, target)
        if keys is not None and base is not None and whole:
            same_as[base] = keys
    return keys


def _compare(
    world: jedi_world.JediWorld,
    path: str,
    leaf: Any,
    lane: frozenset[Key],
    jedi: set[Key] | None,
    target: set[Key],
) -> None:
    """Check mode: the lane's verdict on a use against jedi's; a disagreement is counted, logged."""
    counts = world.lane_counts
    counts.decided += 1
    by_lane, by_jedi = bool(lane & target), bool(jedi and jedi & target)
    if by_lane != by_jedi:
        counts.disagreed += 1
        counts.over_jedi += by_lane
        log.warning(
            "binding lane disagrees with jedi on %s at %s:%s:%s: lane %s, jedi %s",
            leaf.value,
            path,
            *leaf.start_pos,
            sorted(lane),
            sorted(jedi or ()),
        )


def _resolve_use(
    world: jedi_world.JediWorld, session: Session, path: str, leaf: Any, target: set[Key]
) -> tuple[set[Key] | None, bool]:
    """(keys the use resolves to or None, whether jedi resolved it whole).

    A resolution that hit one of jedi's limits leaves nothing in the memo and
    is redone in a fresh state with the limits raised (:meth:`Session.attempt`).
    Still short: counted (``twinls.status``) and logged.
    """
    keys, whole = session.attempt(lambda s: _keys(s, path, leaf), ("use", path, leaf.start_pos))
    if not whole and not (keys and keys & target):
        log.warning(
            "jedi gave up on %s at %s:%s:%s (a recursion, execution or inference limit, "
            "even raised x%d)",
            leaf.value,
            path,
            *leaf.start_pos,
            jedi_world.RETRY_FACTOR,
        )
    return keys, whole


def _keys(session: Session, path: str, leaf: Any) -> set[Key] | None:
    """What the use ``leaf`` (a leaf of ``path``'s tree) resolves to in ``session``."""
    module = session.module(path)
    if module is None:
        return None
    own = _same_leaf(module.tree_node, leaf)
    if own is None:
        return None
    try:
        names = resolve(module, own)
    except Exception as exc:  # one name jedi trips over must not end the search
        session.world.failed += 1
        log.debug("jedi failed on %s:%s:%s: %r", path, *own.start_pos, exc)
        return None
    return {key_of(n) for n in names if n.tree_name is not own}


def _same_leaf(tree: Any, leaf: Any) -> Any | None:
    """``leaf`` in ``tree``: itself if the tree is its own (parso's cache), else re-found."""
    if leaf.get_root_node() is tree:
        return leaf
    try:
        own = tree.get_leaf_for_position(leaf.start_pos)
    except ValueError:
        return None
    if own is not None and own.start_pos != leaf.start_pos:
        own = own.get_next_leaf()  # the position is also the end of the leaf before
    if own is None or own.type != "name" or own.value != leaf.value:
        return None
    return own


def _fixed_base(leaf: Any, used: Any, binding: dict[str, Any]) -> str | None:
    """A key shared by every use of the same meaning as ``leaf`` in its file, or None.

    ``N.a.<leaf>`` (a chain of plain attributes) or a plain ``<leaf>``, where
    the chain's head can only mean its one binding: bound once in the file, at
    module level, and the use is in a function (which sees the module's binding
    wherever it stands) or after the binding. Such uses all mean the same, so
    jedi resolves them once per file: ``re.compile`` used 170 times in one file,
    or an imported ``target`` called 15,000 times, costs one resolution.
    """
    if leaf.is_definition():
        return None
    parent = leaf.parent
    if parent is not None and parent.type == "trailer":
        if parent.children[0] != ".":
            return None
        power = parent.parent
        if power is None or power.type not in ("power", "atom_expr"):
            return None
        at = power.children.index(parent)
        head = power.children[0]
        chain = power.children[1:at]
        if at < 1 or head.type != "name" or not all(_is_dot_name(t) for t in chain):
            return None
        key = ".".join([head.value, *(t.children[1].value for t in chain)])
    elif parent is not None and parent.type in _NOT_PLAIN:
        return None
    elif parent is not None and parent.type == "argument" and parent.children[0] is leaf:
        return None  # ``f(name=...)``: a keyword, the callee's parameter
    else:
        head, key = leaf, "=" + leaf.value
    if head.value not in binding:
        bindings = [n for n in used.get(head.value, ()) if n.is_definition()]
        single = len(bindings) == 1 and get_parent_scope(bindings[0]).type == "file_input"
        binding[head.value] = bindings[0] if single else None
    bound = binding[head.value]
    if bound is None:
        return None
    if bound.start_pos < head.start_pos:
        return key
    scope = get_parent_scope(leaf)
    while scope is not None and scope.type not in ("funcdef", "lambdef"):
        scope = scope.parent
    return key if scope is not None else None


#: Parents of a name that is not a plain use (imports, ``global``, decorators' dotted names).
_NOT_PLAIN = (
    "dotted_name",
    "import_from",
    "import_name",
    "import_as_name",
    "dotted_as_name",
    "global_stmt",
    "nonlocal_stmt",
)


def _is_dot_name(node: Any) -> bool:
    children = getattr(node, "children", None)
    return (
        node.type == "trailer"
        and children is not None
        and len(children) == 2
        and children[0] == "."
        and children[1].type == "name"
    )

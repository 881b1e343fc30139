"""Twin: jedi; one project, an inference state per file of a search (and per edit), kept clean.

Why a state per file, not one per search: with one state shared by the files
a twin resolved, a file's answer depended on which files came before it in
that twin (jedi memoizes what it inferred half way through a cycle, and keeps
the sys path of the first file it loaded), so with two twins under load the
same request gave 29, 24, 22, 16, 14 locations. Per file it is what plain
jedi's ``Script`` per file does, at ~1.3x the inference (parse trees are
shared: parso's cache is in memory), and the answer is a function of the
texts, kept per file until the next edit (:meth:`JediWorld.verdict`).
Why a state must be kept clean: jedi memoizes what it inferred, including
what it inferred while one of its recursion or execution limits cut it
short, so repeats of one request decayed (380, 175, 1). Here every name is
resolved inside a journal of the memo (:class:`jedi_compat.CountingState`): a
name that hit a limit leaves nothing behind and is redone in a fresh state
with the limits raised. Names are compared by :data:`Key` (file and
position), never by object, so results from different twins and states merge.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jedi
from jedi.file_io import FileIO, KnownContentFileIO
from parso.python.tree import Name

from ...shared.overlay import Overlay
from ...shared.schema import JediStats, Loc
from ...shared.textbuf import from_codepoints, split_lines, to_codepoints
from .. import parso_compat
from ..gate import gate as jedi_gate
from . import bindings
from .jedi_compat import CountingState, load_module_from_path, raised_limits, search_path

#: A definition's identity across processes: (file or module, line (1-based), column).
Key = bindings.Key
T = TypeVar("T")
#: A name whose resolution hit one of jedi's limits is retried with the limits times this.
RETRY_FACTOR = 4
#: parso trees a twin keeps between a search's files besides the open documents' (the
#: ``TWINLS_PARSO_TREES`` variable overrides; 0: no bound). A file's own session parses it
#: and the modules it imports; the imports most files share (``builtins.pyi``, ``os``,
#: ``typing``) stay the most recently used, so 32 re-parsed 3 of 90 files on a
#: ``re.compile`` search where parso kept all 92 (``docs/benchmarks.md``, issue 10).
TREES_KEPT = 32


def trees_kept() -> int:
    """The bound on parso's trees (:data:`TREES_KEPT`, else ``TWINLS_PARSO_TREES``)."""
    try:
        return max(0, int(os.environ.get("TWINLS_PARSO_TREES", TREES_KEPT)))
    except ValueError:
        return TREES_KEPT


class Session:
    """One jedi inference state and the module contexts loaded in it."""

    def __init__(self, world: JediWorld) -> None:
        self.world = world
        self.state = CountingState(world.project, environment=world.environment)
        self._modules: dict[str, Any] = {}  # path -> module context, in this state

    def reset_limits(self) -> None:
        """jedi's recursion and execution counts back to zero (per name resolved)."""
        self.state.reset_recursion_limitations()

    @property
    def refused(self) -> int:
        """Executions jedi refused (a limit hit) since :meth:`reset_limits`."""
        return self.state.refused

    def attempt(self, work: Callable[[Session], T], key: Any = None) -> tuple[T, bool]:
        """``(work(session), whole)``: run ``work`` so that a limit it hits leaves no trace.

        ``work`` runs here, in a journal of the memo. Cut short by a limit, its
        memo entries are dropped and it runs again in a fresh state with the
        limits raised: that answer depends on the texts alone, never on what
        this state inferred before (so repeats agree). ``whole`` is False if
        even that was cut short (counted: jedi gave up). With a ``key``, that
        answer is kept until the overlay changes: a repeat takes it at once.
        """
        jedi_gate.pause()  # a safe point: no name half resolved, the limits as they were
        world, state = self.world, self.state
        redone = world.redone()
        if key is not None and key in redone:
            return redone[key]
        state.begin()
        value = work(self)
        if not state.refused:
            state.commit()
            return value, True
        state.rollback()
        world.retried += 1
        fresh = Session(world)
        with raised_limits(RETRY_FACTOR):
            fresh.state.begin()
            value = work(fresh)
        whole = not fresh.state.refused
        if not whole:
            world.gave_up += 1
        if key is not None:
            redone[key] = (value, whole)
        return value, whole

    def module(self, path: str) -> Any | None:
        """The module context of ``path`` as the overlay has it; None if it cannot be read."""
        known = self._modules.get(path)
        if known is not None:
            return known
        if not os.path.isabs(path) or not self.world.overlay.is_file(path):
            return None  # not a file (an untitled buffer's URI): no cross-file answers
        self.state.script_path = Path(path)
        self._modules[path] = module = self._load(path)
        return module

    def _load(self, path: str) -> Any | None:
        state = self.state
        try:
            try:
                return load_module_from_path(state, FileIO(path)).as_context()
            except UnicodeDecodeError:  # not UTF-8: the overlay's lenient decoding, as text
                text = self.world.overlay.read_text(path)
                if text is None:
                    return None
                return load_module_from_path(state, KnownContentFileIO(path, text)).as_context()
        except (OSError, UnicodeDecodeError, ValueError):
            return None

    def name_at_cursor(
        self, path: str, line: int, character: int, lines: Lines
    ) -> tuple[Any, Name] | None:
        """(module context, name leaf) at a client position; None off a name or a file."""
        module = self.module(path)
        if module is None:
            return None
        leaf = name_at(module, line, lines.codepoint_col(path, line, character))
        return None if leaf is None else (module, leaf)


class JediWorld:
    def __init__(self, overlay: Overlay, roots: list[str]) -> None:
        self.overlay = overlay
        root = roots[0] if roots else os.getcwd()
        self.environment = jedi.InterpreterEnvironment()  # no subprocess: the twin is warm
        # A ``src`` layout's packages import as the tests import them (pyright does the same).
        src = [os.path.join(r, "src") for r in roots if os.path.isdir(os.path.join(r, "src"))]
        self.project = jedi.Project(root, added_sys_path=[*roots[1:], *src], smart_sys_path=True)
        # Counted for ``twinls.status`` (see :func:`stats`):
        self.retried = 0  # names whose resolution hit a jedi limit, retried with them raised
        self.gave_up = 0  # ... and still hit them: the answer may miss those uses
        self.failed = 0  # names jedi raised an error on
        self.trees_dropped = 0  # parso trees let go by :meth:`trim_trees`
        self.hover_warmed = 0  # import names followed ahead of hovers (``hover_warm``)
        self.lane_counts = bindings.Counts()
        self._lane: bindings.Lane | None = None
        self._search_path: list[str] | None = None

        self._shared: Session | None = None
        self._generation: Any = None
        self._redone: dict[Any, Any] = {}
        self._redone_generation = -1
        self._verdicts: dict[Any, Any] = {}
        self._verdicts_generation = -1

    def session(self) -> Session:
        """A fresh inference state: what it infers depends on nothing inferred before."""
        return Session(self)

    def redone(self) -> dict[Any, Any]:
        """Answers redone in a fresh state (:meth:`Session.attempt`), for this generation."""
        if self._redone_generation != self.overlay.generation:
            self._redone = {}
            self._redone_generation = self.overlay.generation
        return self._redone

    def verdict(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, kept for ``key`` until the overlay changes (a file's answer to a search).

        Sound because a file's verdict depends on the texts alone (each file is
        resolved in a state of its own): a repeat of a search, on an unchanged
        overlay, takes every file's answer from here at once. An edit landing
        while ``compute`` runs leaves nothing kept.
        """
        generation = self.overlay.generation
        if self._verdicts_generation != generation:
            self._verdicts, self._verdicts_generation = {}, generation
        if key in self._verdicts:
            return self._verdicts[key]
        value = compute()
        if self.overlay.generation == generation == self._verdicts_generation:
            self._verdicts[key] = value
        return value

    def trim_trees(self) -> None:
        """Between a search's files: parso keeps at most :func:`trees_kept` trees besides the
        open documents' (``parso_compat.trim_trees``).

        Why: parso keeps every tree it parsed while a search runs, so a twin held the
        tree of every file it resolved (a standard-library search's twin grew to ~500
        MiB). A file's verdict is kept as locations (:meth:`verdict`), never as trees,
        and each file gets a jedi state of its own, so what the search needs of an
        earlier file's tree is at most a re-parse of a module a later file imports
        again. The open documents' trees stay: hovers and outlines reuse them.
        """
        keep = trees_kept()
        if keep:
            self.trees_dropped += parso_compat.trim_trees(keep, self.overlay.docs)

    def lane(self) -> bindings.Lane | None:
        """The ``ast`` binding lane over the overlay as it is now; None when it is off."""
        if not bindings.switches()[0]:
            return None
        generation = self.overlay.generation
        if self._lane is None or self._lane.generation != generation:
            if self._search_path is None:
                self._search_path = search_path(self.project, self.environment)
            self._lane = bindings.Lane(self.overlay, self._search_path, generation)
        return self._lane

    def shared(self, search: Any = None) -> Session:
        """The state of one search (``search``: its id) over the overlay as it is now.

        Renewed by a new search and by any edit: a search's answer must not
        depend on what an earlier search inferred (jedi's memo keeps what it
        inferred half way through a cycle, which no journal can tell apart).
        """
        now = (self.overlay.generation, search)
        if self._shared is None or self._generation != now:
            self._shared = Session(self)
            self._generation = now
        return self._shared

    def script(self, path: str) -> jedi.Script | None:
        """A fresh ``jedi.Script`` over the overlay's text (for one-off questions: hover)."""
        text = self.overlay.read_text(path)
        if text is None:
            return None
        return jedi.Script(
            text,
            path=path if os.path.isabs(path) else None,
            project=self.project,
            environment=self.environment,
        )


def name_at(module_context: Any, line0: int, col: int) -> Name | None:
    """The name leaf at a 0-based line and code-point column (its end counts too)."""
    node = module_context.tree_node
    try:
        leaf = node.get_leaf_for_position((line0 + 1, col), include_prefixes=True)
    except ValueError:
        return None
    if leaf is None:
        return None
    pos = (line0 + 1, col)
    near = [leaf, leaf.get_next_leaf(), leaf.get_previous_leaf()]
    names = [n for n in near if n is not None and n.type == "name"]
    for name in names:  # a name the cursor is inside or at the start of
        if name.start_pos <= pos < name.end_pos:
            return name
    for name in names:  # else one it sits just after
        if name.end_pos == pos:
            return name
    return None


def key_of(name: Any) -> Key | None:
    """A jedi name's :data:`Key`; names without a tree (compiled) key by module and name."""
    context = name.get_root_context()
    try:
        file = context.py__file__()
    except AttributeError:
        file = None
    if name.tree_name is None:
        module = context.py__name__() if hasattr(context, "py__name__") else None
        return (f"<{module or 'compiled'}>.{name.string_name}", 0, 0)
    if file is None:
        return None
    line, col = name.tree_name.start_pos
    return (str(file), line, col)


def client_col(text: str, col: int, encoding: str) -> int:
    """Code-point column in the line ``text`` -> the client's column (negotiated encoding)."""
    if encoding == "utf-32" or text.isascii():
        return col
    return from_codepoints(text, col, encoding)


class Lines:
    """Line texts of files, read through the overlay once per query (for encodings)."""

    def __init__(self, overlay: Overlay, encoding: str) -> None:
        self.overlay = overlay
        self.encoding = encoding
        self._lines: dict[str, list[str]] = {}

    def line(self, path: str, line0: int) -> str:
        lines = self._lines.get(path)
        if lines is None:
            lines = self._lines[path] = split_lines(self.overlay.read_text(path) or "")
        return lines[line0] if 0 <= line0 < len(lines) else ""

    def codepoint_col(self, path: str, line0: int, col: int) -> int:
        """The client's column -> code points (clamped to the line)."""
        if self.encoding == "utf-32":
            return col
        return to_codepoints(self.line(path, line0), col, self.encoding)

    def location(
        self, path: str, line0: int, col: int, end_col: int, text: str | None = None
    ) -> Loc:
        """The :class:`Loc` row in the client's encoding (what travels back).

        ``text`` is the line if the caller has it; an ASCII line needs no conversion.
        """
        if self.encoding != "utf-32" and (text is None or not text.isascii()):
            text = self.line(path, line0) if text is None else text
            col, end_col = (client_col(text, c, self.encoding) for c in (col, end_col))
        return Loc(path, line0, col, line0, end_col)


def stats(state) -> JediStats:  # type: ignore[no-untyped-def]
    """How often jedi was cut short in this twin, and what the binding lane decided without it
    (``twinls.status``: ``twins[].jedi``)."""
    world = get(state)
    lane = world.lane_counts
    return JediStats(
        retried=world.retried,
        gave_up=world.gave_up,
        failed=world.failed,
        lane_decided=lane.decided,
        lane_deferred=lane.deferred,
        lane_files=lane.files,
        lane_disagreed=lane.disagreed,
        lane_over_jedi=lane.over_jedi,
        trees=parso_compat.tree_count(),
        trees_dropped=world.trees_dropped,
        hover_warmed=world.hover_warmed,
    )


def get(state) -> JediWorld:  # type: ignore[no-untyped-def]
    """The twin's one :class:`JediWorld` (``state`` is the TwinState)."""
    return state.singleton("jedi", lambda: JediWorld(state.overlay, state.roots))

"""Twin: the search queries (index, references, implementation, symbols), registered.

Importing this module is what registers them (the twin's module list names it).

Searches
========

**The index** (`twin/queries/index.py`, `twin/queries/extract.py`). One `FileEntry` per
Python file under the roots: its definitions (functions, methods, classes with
their base expressions, import aliases expanded: `class X(NV)` after
`from ast import NodeVisitor as NV` has base `ast.NodeVisitor`), the set of
identifiers it spells, and its imports. Built from `ast` (several times faster
than parso) on first need, in a background thread started by `search.warm`
(the LSP side sends it with its first search-family request: to one twin,
which builds and exports its entries, then to the others with those entries,
or to every twin at once with the entries the server kept, issue 10), so
the twin keeps answering while it builds; for its first 5 s the build stands
aside while the twin's worker serves a call (never while a caller waits for
the index), and until it is built a references search finds its candidate
files by reading them instead (a fraction of a second), so the first search
of a session does not wait for the index. The overlay's listener marks a path
per edit; the next use re-reads only marked paths (a folder deletion drops
everything under it). A file that stops parsing keeps its last good
definitions (its identifiers are refreshed anyway). The walk skips
`SKIP_DIRS` (`.git`, virtualenvs, `node_modules`, `__pycache__`, build
folders, …) and the `exclude` globs; a change of `exclude` re-walks, reusing
entries whose stamp is unchanged. Entries are replaced, never mutated, so a
reader's snapshot stays whole while a refresh runs.

**jedi in the twin** (`twin/queries/jedi_world.py`, `twin/queries/jedi_compat.py`).
One `jedi.Project` over the roots (plus a `src/` folder if there is one, as
pyright does), `InterpreterEnvironment` (no subprocess), and one inference
state per file of a references search (as plain jedi's `Script` per file, and
with that file's own sys path: jedi caches the sys path of the first file a
state loads). A file's verdict for a search depends on the texts alone --
never on which twin it was dealt to, which files that twin resolved before,
where a time budget cut a chunk, or who stole it (a state shared by a twin's
files made repeats differ under load: 29, 24, 22, 16, 14). So a file's verdict
is kept until the next edit (`JediWorld.verdict`) and a repeated search on an
unchanged overlay takes every answer at once.
jedi memoizes what it inferred even when one of its recursion or
execution limits cut it short, which made a shared state decay (the same
request gave 380, 175, then 1 locations). So every name is resolved inside a
journal of the memo (`CountingState`, whose detector counts refused
executions): a resolution that hit a limit has its memo entries dropped and is
redone in a fresh state with the limits raised 4×, so its answer depends on the
texts alone, whatever ran before (kept until the next edit, so a repeat
takes it at once); if even that is cut short, the twin logs it
and counts it (`twinls.status` → `twins[].jedi`: `retried`, `gave_up`,
`failed`). The target of a references search is found in a fresh state too
(it runs with flow analysis off). Platform branches are decided as on the
running platform (`if sys.platform == "win32":`, `os.name`, `startswith`, in
flow analysis and in star imports), so `os.path` is `posixpath` on Linux.
All of jedi's private API that twinls uses lives in `jedi_compat.py`
(`tests/test_jedi_compat.py` is its canary). Module contexts are kept with the
state. Definitions are compared by `Key` = (file, line, column), never by
object, so batches from different twins and states merge. In one file, every
use of a name whose head (`N` in `N.a.name`, or the plain name itself) is
bound once, at module level, and used in a function or after that binding
means the same thing, so it is resolved once per file (`re.compile`, 167 times
in `test_re.py`, costs one resolution). Before any of that, the `ast` binding
lane (`bindings.py`) decides the uses certain from syntax alone (a name's one
module-level binding, module attribute chains through imports and re-exports,
platform branches); a file whose every use it decides is not parsed by parso
nor given a jedi state (`twinls.status` → `twins[].jedi`: `lane_decided`,
`lane_deferred`, `lane_files`; in check mode `lane_disagreed`, `lane_over_jedi`).
Between a search's files parso keeps at most `TREES_KEPT` trees besides the open
documents' (`JediWorld.trim_trees`; `trees`, `trees_dropped` in the same block).
Positions leave the twin in
the client's negotiated encoding (`Lines.location`), converted from jedi's
code points on the line's own text (ASCII lines skip the work).

**The search lane** (`twin/main.py`). Queries registered with
`@query(name, bulk=True)` (`search.refs_plan`, `search.refs_in`,
`search.implementation`, `search.implementors`) run on a thread of their own,
in order; every other query (hover, outline, lenses, runs, and any query added
later unless it says `bulk=True`) runs on the worker, which also applies the
edits. A bulk call sees every edit sent before it (the worker hands it over
when it reaches it) and may see later ones; the overlay's lock keeps each read
of a document whole, and a run child is forked only between such reads.

*Architecture invariant:* one thread at a time is inside jedi/parso
(`twin/gate.py`). They are not thread-safe (two threads resolving names, even
in separate `Script`s, raise `RecursionError`s and can overflow the C stack),
so an interactive call takes the gate on the worker and a bulk call holds it
for its run, letting waiting interactive calls in at every safe point
(`CallContext.check()` between files, `Session.attempt` before each name): an
interactive request waits for at most one name or one file's parse, never for
the rest of a search.

**Queries** (all `@query`, registered by importing `twin/queries/search.py`):

- **`search.implementors NAME`** (every function/method named NAME): index only;
  streamed in batches of 200
- **`search.refs_plan`** (the target at the cursor and the candidate files): jedi's
  `_find_defining_names` at the cursor (the name, its stub twins, same-scope rebinds);
  files from the index's identifier sets, definition and current file first, then
  biggest first; a function's local (or `self`) stays in its file; definitions outside
  the workspace (jedi's bundled stubs) are not searched
- **`search.refs_first`** (the first result, before jedi has the target; interactive,
  sent beside the plan): the lane decides the cursor's use; the cursor's position and
  the keys it means are a part of jedi's target, so the uses the lane decides to mean
  them in the cursor's file and the definitions' workspace files are streamed (a subset
  of the answer; nothing where the lane is unsure, in check mode, or without the
  declaration, whose absence drops the imports a use passes through from the answer);
  where jedi then finds no target (it tripped over the cursor), the answer is these
- **`search.refs_in FILES…`** (the uses of the name in a chunk of files): each
  occurrence parso lists (`get_used_names`) resolved by jedi (`_find_names`: goto,
  imports followed) in the file's own journaled state; kept when its keys meet the target's;
  one partial batch per file (two when the lane decided some of its uses: those go
  out before jedi starts on the rest, so the first result never waits for jedi on
  the first file); returns how many files it did within a 50 ms budget
- **`search.implementation`** (subclasses (class) or overrides (method), transitively):
  index proposes classes whose base's last name matches; jedi infers each candidate's
  bases (`py__bases__`, stubs mapped to source) and keeps those that meet a known class;
  a subclass's name is searched in turn
- **`search.workspace_symbols`, `search.document_symbols`** (symbols): index (document
  symbols parse the one file, so the first outline never waits for the index)
- **`search.hover`** (signature + docstring): a fresh `jedi.Script` over the overlay
  text

**Sharding** (`server/shards.py`, `TwinPool.call_sharded`). A references
search deals its candidate files to every live twin a chunk at a time (2
files, doubling to 32). Each file has a home twin (a CRC of its path), so the
next search sends it where its parse tree already is (parsing is most of a
cold search; the twins write no parso cache); a twin with an empty queue
steals from the tail of the longest (the smallest files). A chunk stops after
its time budget and hands the rest back, so searches share a twin's lane and
idle twins can steal (hovers and outlines do not wait for chunks: they run on
the worker, not in the lane). A twin that dies mid-chunk has its chunk
and queue dealt to the others. A chunk counts as running from the moment it
leaves its queue until its unfinished files are back in one (one step under
the call's lock), so the call can never end with files unsearched. One
promise carries every chunk's batches and `done/total` progress; cancelling it
cancels the chunks in flight (the twin stops between files).

**LSP** (`server/lsp/search.py`). A `Stream` (one per request: a references search
feeds it `search.refs_first`'s batches, then the search's) de-duplicates batches and either
forwards them as `$/progress` on the request's `partialResultToken` (the
response is then `[]`, LSP 3.17) or gathers and sorts them; a `workDoneToken`
gets begin / report (percentage, "N/M files") / end; without one, a search
still running after 0.5 s gets a server-created, cancellable bar when the
client supports `window/workDoneProgress/create`. `$/cancelRequest` cancels the
handler's task, which cancels the promise (pygls answers `RequestCancelled`);
cancelling the bar does the same; a new references request cancels the one
still running. `twinls.findImplementors` takes `[name]` or
`[name, {"partialResultToken": t}]` and returns `Location[]` (or `[]` after
streaming). Terminal: `twinls implementors NAME [ROOT]` and
`twinls references FILE:LINE:COL` (`server/search_cli.py`) print
`path:line:col: text` as batches arrive.

Known limits: disk changes the editor does not report (no watched-files
support, a `git checkout` in a client without it) reach the index only when
the file is next edited or the server restarts; base classes written as calls
(`with_metaclass(M, Base)`) or assigned aliases (`Base = ast.NodeVisitor`) are
not proposed as candidates; classes only known compiled (`Exception`) have no
implementation search.
"""

from __future__ import annotations

from ..context import CallContext
from . import hover, implementation, references, symbols
from . import index as index_mod
from .registry import query

__all__ = ["hover", "implementation", "references", "symbols", "warm"]


@query("search.warm")
def warm(ctx: CallContext, kept: bytes | None = None, more: bool = False) -> bool:
    """Start building the index in the background, so the first search finds it ready.

    ``kept``: entries the server kept from an earlier session (``Index.export``), or a
    piece of them (``more``: the build starts when the last piece has come).
    """
    idx = index_mod.get(ctx.state)
    idx.preload(kept, more)
    if not more:
        idx.start_background()
    return True


@query("search.index_export")
def index_export(ctx: CallContext) -> None:
    """Once the index is built: its entries for the server to keep (None: nothing new).

    Waits in a thread of its own (the build runs in the background), so the twin
    goes on answering meanwhile.
    """
    idx = index_mod.get(ctx.state)
    ctx.detach(idx.export)


@query("search.index_status")
def index_status(ctx: CallContext) -> dict[str, int]:
    """How much the index holds (files, definitions, files that do not parse)."""
    entries = index_mod.get(ctx.state).ensure(ctx.check)
    return {
        "files": len(entries),
        "definitions": sum(len(e.defs) for e in entries.values()),
        "broken": sum(not e.ok for e in entries.values()),
    }

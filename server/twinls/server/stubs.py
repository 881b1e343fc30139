"""Server: the twin's queries as typed stubs, the one place their names and arguments are spelled.

A stub builds a :class:`Query` (or a :class:`Sharded` one) that ``TwinPool.call``,
``call_each``, ``call_sharded`` and ``TwinLanguageServer.ask`` take; its type
parameter is the value the twin answers with (the rows of ``shared/schema.py``).
Each stub's parameters are the twin function's after ``ctx``, with the same names:
``tests/test_schema.py`` checks every stub against the twin's registry, and that no
server module calls a query by a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..shared.inspect_schema import Inspected, ParkedChild
from ..shared.schema import (
    CompletionDoc,
    CompletionRow,
    HierarchyItem,
    HighlightRow,
    HoverResult,
    InterpreterParts,
    Loc,
    OutgoingRow,
    RefsPlan,
    RefsTarget,
    RenamePlan,
    SignatureRow,
    SymbolNode,
    SymbolRow,
    SyntaxProblem,
    TestModule,
    Unit,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Query(Generic[T]):
    """A call of twin query ``name`` with ``args``; the twin answers a ``T``.

    ``interactive``: a short answer someone is waiting for (hover, outline, lenses...),
    which goes to the interactive twin first, where no search runs (``TwinPool.pick``).
    A query added later is interactive unless its stub says otherwise; a search, or
    anything that builds the index or starts runs, says ``interactive=False``
    (``tests/test_schema.py`` checks the bulk ones do).
    """

    name: str
    args: tuple[Any, ...] = ()
    interactive: bool = True


@dataclass(frozen=True)
class Sharded(Generic[T]):
    """A query over ``items`` dealt to the twins in chunks: ``name(ctx, chunk, *args)``.

    Each chunk's call returns how many items it finished; the rows ``T`` stream.
    """

    name: str
    items: list[Any]
    args: tuple[Any, ...] = ()


# -- core --------------------------------------------------------------------------


def status() -> Query[dict[str, Any]]:
    return Query("status", interactive=False)


# -- searches ----------------------------------------------------------------------


def search_warm(kept: bytes | None = None, more: bool = False) -> Query[bool]:
    """Start building the index in the background (once per twin process).

    ``kept``: index entries the server kept from an earlier session (issue 10), or a
    piece of them: with ``more``, the rest follows in further calls and the build
    starts with the last (megabytes go in pieces, so other calls pass between them).
    """
    return Query("search.warm", (kept, more), interactive=False)


def index_export() -> Query[bytes | None]:
    """Once the index is built: its entries for the server's cache (None: nothing new)."""
    return Query("search.index_export", interactive=False)


def refs_plan(path: str, line: int, character: int, encoding: str) -> Query[RefsPlan | None]:
    return Query("search.refs_plan", (path, line, character, encoding), interactive=False)


def refs_target(path: str, line: int, character: int, encoding: str) -> Query[RefsTarget | None]:
    return Query("search.refs_target", (path, line, character, encoding), interactive=False)


def refs_first(
    path: str, line: int, character: int, encoding: str, include_declaration: bool = True
) -> Query[int]:
    """Streams the :class:`~twinls.shared.schema.Loc` rows certain before jedi's target;
    answers their count."""
    return Query("search.refs_first", (path, line, character, encoding, include_declaration))


def interpreter() -> Query[InterpreterParts]:
    """The twin's interpreter parts of the digest kept answers are filed under (issue 10)."""
    return Query("search.interpreter", interactive=False)


def refs_files(path: str, name: str, keys: list[list[Any]], local: bool) -> Query[list[str]]:
    return Query("search.refs_files", (path, name, keys, local), interactive=False)


def refs_in(
    files: list[str],
    name: str,
    keys: list[list[Any]],
    encoding: str,
    include_declaration: bool = True,
    budget: float | None = None,
    search: str | None = None,
) -> Sharded[Loc]:
    return Sharded(
        "search.refs_in", files, (name, keys, encoding, include_declaration, budget, search)
    )


def implementation(path: str, line: int, character: int, encoding: str) -> Query[int]:
    """Streams :class:`~twinls.shared.schema.Found` rows; answers their count."""
    return Query("search.implementation", (path, line, character, encoding), interactive=False)


def implementors(name: str, encoding: str) -> Query[int]:
    """Streams :class:`~twinls.shared.schema.Found` rows; answers their count."""
    return Query("search.implementors", (name, encoding), interactive=False)


def workspace_symbols(text: str, encoding: str, limit: int = 500) -> Query[list[SymbolRow]]:
    return Query("search.workspace_symbols", (text, encoding, limit), interactive=False)


def document_symbols(path: str, encoding: str) -> Query[list[SymbolNode]]:
    return Query("search.document_symbols", (path, encoding))


def hover(path: str, line: int, character: int, encoding: str) -> Query[HoverResult | None]:
    return Query("search.hover", (path, line, character, encoding))


def hover_warm(paths: list[str]) -> Query[int]:
    """Load what a first hover in these documents needs; answers the names followed."""
    return Query("search.hover_warm", (paths,), interactive=False)


# -- language features -------------------------------------------------------------


def definition(path: str, line: int, character: int, encoding: str) -> Query[list[Loc]]:
    return Query("lang.definition", (path, line, character, encoding))


def declaration(path: str, line: int, character: int, encoding: str) -> Query[list[Loc]]:
    return Query("lang.declaration", (path, line, character, encoding))


def type_definition(path: str, line: int, character: int, encoding: str) -> Query[list[Loc]]:
    return Query("lang.type_definition", (path, line, character, encoding))


def highlight(path: str, line: int, character: int, encoding: str) -> Query[list[HighlightRow]]:
    """``[line, start, end line, end, is_definition]`` per use in the file."""
    return Query("lang.highlight", (path, line, character, encoding))


def signature_help(
    path: str, line: int, character: int, encoding: str
) -> Query[list[SignatureRow]]:
    return Query("lang.signature_help", (path, line, character, encoding))


def completion(path: str, line: int, character: int, encoding: str) -> Query[list[CompletionRow]]:
    return Query("lang.completion", (path, line, character, encoding))


def completion_resolve(
    path: str, line: int, character: int, encoding: str, label: str
) -> Query[CompletionDoc | None]:
    return Query("lang.completion_resolve", (path, line, character, encoding, label))


def prepare_rename(path: str, line: int, character: int, encoding: str) -> Query[RenamePlan]:
    return Query("lang.prepare_rename", (path, line, character, encoding), interactive=False)


def rename_in(
    files: list[str], name: str, keys: list[list[Any]], encoding: str, budget: float = 0.05
) -> Sharded[list[Any]]:
    """Streams ``["use", loc]`` and ``["unsure", loc]`` rows."""
    return Sharded("lang.rename_in", files, (name, keys, encoding, budget))


def call_item(path: str, line: int, character: int, encoding: str) -> Query[list[HierarchyItem]]:
    return Query("lang.call_item", (path, line, character, encoding))


def incoming_in(
    files: list[str], name: str, keys: list[list[Any]], encoding: str, budget: float = 0.05
) -> Sharded[Any]:
    """Streams :class:`~twinls.shared.schema.IncomingRow` batches, one per file."""
    return Sharded("lang.incoming_in", files, (name, keys, encoding, budget))


def outgoing(path: str, line: int, character: int, encoding: str) -> Query[list[OutgoingRow]]:
    return Query("lang.outgoing", (path, line, character, encoding))


def type_item(path: str, line: int, character: int, encoding: str) -> Query[list[HierarchyItem]]:
    return Query("lang.type_item", (path, line, character, encoding))


def supertypes(path: str, line: int, character: int, encoding: str) -> Query[list[HierarchyItem]]:
    return Query("lang.supertypes", (path, line, character, encoding))


def syntax_errors(path: str, encoding: str) -> Query[list[SyntaxProblem] | None]:
    return Query("lang.syntax_errors", (path, encoding))


# -- runs --------------------------------------------------------------------------


def lenses(path: str) -> Query[list[Unit]]:
    return Query("run.lenses", (path,))


def run_warm() -> Query[list[str]]:
    """Preload what runs import (once per twin process)."""
    return Query("run.warm", interactive=False)


def run_discover() -> Query[list[TestModule]]:
    """Every test module under the roots and its tests (the lens index)."""
    return Query("run.discover", interactive=False)


def run_prewarm(paths: list[str]) -> Query[list[str]]:
    """Collect these test files in zygotes where there is room (the ones started)."""
    return Query("run.prewarm", (paths,), interactive=False)


def run_start(spec: dict[str, Any]) -> Query[None]:
    """Streams the run's :class:`~twinls.shared.schema.RunEvent` s."""
    return Query("run.start", (spec,), interactive=False)


# -- live results and Debug runs (issue 17) -------------------------------------------


def run_inspect(handle: str, offset: int = 0, limit: int = 100) -> Query[Inspected]:
    """One level of a parked run child's object (``twin/parked.py``)."""
    return Query("run.inspect", (handle, offset, limit), interactive=False)


def run_parked(slot: int = -1) -> Query[list[ParkedChild]]:
    return Query("run.parked", (slot,), interactive=False)


def run_unpark(spec: dict[str, Any]) -> Query[int]:
    """Let go of what earlier runs of ``spec``'s target parked."""
    return Query("run.unpark", (spec,), interactive=False)

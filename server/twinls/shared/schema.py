"""Shared: every message and result that crosses a process or client boundary, typed.

One module, so a field has one spelling for both its writer and its reader:

- **the channel** (server ⇄ twin, twin → run child's caller): one TypedDict per
  ``k`` (:data:`ServerMessage`, :data:`TwinMessage`); frames are msgpack maps, so a
  TypedDict is the very dict on the wire;
- **the zygote's control socket** (:class:`ZygoteHello`, :class:`ZygoteFork`,
  :class:`ZygoteForked`);
- **query results**: location rows (:class:`Loc`, :class:`Found`: NamedTuples, which
  msgpack carries as arrays, so the wire is unchanged), the search plan, the language
  queries' rows; the queries themselves are called through ``server/stubs.py``;
- **runs**: a runnable :class:`Unit`, a test's :class:`Test` result, a run's events;
- **the clients**: a lens's command argument (:class:`LensArgument`, structured with
  cattrs), ``twinls.status`` (:class:`Status`), message codes (:data:`NoticeCode`).
  ``clients/vscode/src/protocol.ts`` is checked against these by
  ``tests/test_schema.py``.

Positions in query results are already in the client's negotiated encoding.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Literal, NamedTuple, TypedDict

# -- the channel: server -> twin ------------------------------------------------------

EditOp = Literal["open", "change", "verify", "close", "save", "deleted", "created", "changed"]


class _EditKeys(TypedDict):
    k: Literal["edit"]
    seq: int
    op: EditOp
    path: str


class Edit(_EditKeys, total=False):
    """server → twin: one edit entry (``shared/entries.py`` applies it on both sides)."""

    version: int
    text: str  # ``open``: the whole text
    edits: list[Any]  # ``change``: code-point edits (``textbuf.Edit`` rows)
    crc: int  # ``verify`` (and optionally ``change``): CRC of the whole text


class Settings(TypedDict):
    """server → twin: the initializationOptions a twin uses (``exclude``, ``runTimeout``...)."""

    k: Literal["settings"]
    settings: dict[str, Any]


class Call(TypedDict):
    """server → twin: run query ``q`` (a name, or a pickled callable) after edit ``seq``."""

    k: Literal["call"]
    id: int
    q: Any
    args: list[Any]
    seq: int


class Cancel(TypedDict):
    k: Literal["cancel"]
    id: int


class Ping(TypedDict):
    k: Literal["ping"]
    n: int


ServerMessage = Edit | Settings | Call | Cancel | Ping

# -- the channel: twin -> server ------------------------------------------------------


class Hello(TypedDict):
    """twin → server, once: the twin is ready."""

    k: Literal["hello"]
    proto: int
    pid: int
    queries: list[str]


class Partial(TypedDict):
    k: Literal["partial"]
    id: int
    items: list[Any]


class Progress(TypedDict):
    k: Literal["progress"]
    id: int
    done: int
    total: int
    msg: str | None


class Done(TypedDict):
    k: Literal["done"]
    id: int
    value: Any


class _FailKeys(TypedDict):
    k: Literal["fail"]
    id: int


class Fail(_FailKeys, total=False):
    type: str  # the exception's type name; ``Cancelled`` for a cancelled call
    message: str
    tb: str | None


class _PongKeys(TypedDict):
    k: Literal["pong"]
    n: int


class Pong(_PongKeys, total=False):
    """twin → server: the heartbeat; the worker's state feeds the watchdog."""

    seq: int  # the last applied edit
    busy: float  # seconds the worker has been on its call
    cancelled_for: float  # seconds since that call was cancelled


class Resync(TypedDict):
    """twin → server: a document it could not apply or verify; send it whole."""

    k: Literal["resync"]
    path: str
    seq: int
    reason: str


class Log(TypedDict):
    k: Literal["log"]
    level: str
    msg: str


TwinMessage = Hello | Partial | Progress | Done | Fail | Pong | Resync | Log

# -- the zygote's control socket ------------------------------------------------------


class ZygoteHello(TypedDict):
    """zygote → server, once preloaded: who it is (``zygote.describe``)."""

    k: Literal["zygote"]
    pid: int
    info: dict[str, Any]


class ZygoteFork(TypedDict):
    """server → zygote, with the twin's socket as an ``SCM_RIGHTS`` fd."""

    k: Literal["fork"]
    slot: int
    roots: list[str]
    settings: dict[str, Any]


class ZygoteForked(TypedDict):
    """zygote → server: the new twin's pid."""

    k: Literal["forked"]
    pid: int


# -- a twin host over execnet (issue 18: server/remote.py ⇄ server/remote_agent.py) ---
#
# The control channel of an execnet gateway carries these as plain dicts (execnet's own
# serializer), one request then one answer; each twin has an execnet channel of its own
# (sent inside ``RemoteFork``) carrying the ordinary channel frames as bytes.


class RemoteSetting(TypedDict, total=False):
    """One entry of the ``remotes`` option (``server/remote.py`` checks it)."""

    gateway: str  # an execnet spec: ``ssh=user@host//python=…`` or ``popen//python=…``
    root: str  # the checkout on that host of ``folder``
    folder: str  # the local workspace folder it mirrors (default: the first)
    folders: dict[str, str]  # or several: local folder -> its checkout there (no ``root``)
    twins: int  # that host's number of twins (else measured: ``server/sizing.py``)
    ssh_config: str  # an ssh config file (``ssh -F``); else the spec's own or ~/.ssh's


class RemoteBoot(TypedDict):
    """server → agent, first: the folders (rsynced there) twinls's packages are in."""

    k: Literal["boot"]
    own: dict[str, str]
    fallback: dict[str, str]


class HostFacts(TypedDict):
    """agent → server, after boot: what the host can take (``remote_agent.facts``)."""

    k: Literal["facts"]
    cpus: int
    load: float
    mem_available: int  # bytes (the cgroup's room if smaller)
    quota: float | None  # cgroup cpu.max in cores
    own_cores: float  # cores the twins forked there used since the last facts
    own_twins: int  # twins forked there, alive
    python: str  # sys.executable there
    version: str
    pid: int  # the agent's (the gateway's remote process)


class RemoteFacts(TypedDict):
    """server → agent: measure again (answered with ``HostFacts``; the pool re-sizes the host)."""

    k: Literal["facts"]


class RemoteBase(TypedDict):
    """server → agent: the base the host's checkout must be (a git commit, else file hashes)."""

    k: Literal["base"]
    root: str
    git: str | None
    files: dict[str, str] | None  # root-relative path -> sha256 of its bytes


class RemoteBaseAnswer(TypedDict):
    """agent → server: whether the checkout is that base, and if not why."""

    k: Literal["base"]
    ok: bool
    why: str


class RemoteZygote(TypedDict):
    """server → agent: start the zygote in the host's interpreter."""

    k: Literal["zygote"]


class RemoteZygoteReady(TypedDict):
    """agent → server: the zygote preloaded (its ``ZygoteHello.info``)."""

    k: Literal["zygote"]
    pid: int
    info: dict[str, Any]


class RemoteFork(TypedDict):
    """server → agent: fork a twin and relay its socket over ``channel`` (an execnet channel)."""

    k: Literal["fork"]
    slot: int
    roots: list[str]
    settings: dict[str, Any]
    channel: Any


class RemoteKill(TypedDict):
    """server → agent: SIGKILL one twin (its pid on the host)."""

    k: Literal["kill"]
    pid: int


class RemoteKilled(TypedDict):
    """agent → server: the kill was sent."""

    k: Literal["killed"]
    pid: int


class RemoteError(TypedDict):
    """agent → server, instead of an answer: what went wrong there."""

    k: Literal["error"]
    message: str


# -- query results --------------------------------------------------------------------


class Loc(NamedTuple):
    """A location row: ``path``, start line and column, end line and column (0-based)."""

    path: str
    line: int
    start: int
    end_line: int
    end: int


class Found(NamedTuple):
    """A definition a search found: its name's location and its qualified name."""

    path: str
    line: int
    start: int
    end_line: int
    end: int
    qualname: str

    @property
    def loc(self) -> Loc:
        return Loc(*self[:5])


class SymbolRow(NamedTuple):
    """``search.workspace_symbols``: a definition, its container, its name's location."""

    name: str
    kind: str
    container: str
    path: str
    line: int
    start: int
    end_line: int
    end: int

    @property
    def loc(self) -> Loc:
        return Loc(*self[3:])


class Span(NamedTuple):
    """A range in a file the row names elsewhere (a hover's, a symbol's): 0-based."""

    line: int
    start: int
    end_line: int
    end: int


class HighlightRow(NamedTuple):
    """``lang.highlight``: one occurrence of the name in this file, and whether it is a write."""

    line: int
    start: int
    end_line: int
    end: int
    write: bool

    @property
    def span(self) -> Span:
        return Span(*self[:4])


class RefsPlan(TypedDict):
    """``search.refs_plan``: what a references search looks for, and in which files."""

    name: str
    keys: list[list[Any]]  # the definitions' identities (module, position) it matches
    files: list[str]  # the candidate files, the cursor's first
    search: str  # one jedi state per search, shared by every chunk of it
    local: bool  # a name only its own file can use (a function's local, ``self``)


class InterpreterParts(TypedDict):
    """``search.interpreter``: what a twin's jedi reads outside the workspace, for the
    server's digest of what a search's answer depends on (``shared/digest.py``)."""

    version: str  # sys.version
    executable: str
    jedi: str  # jedi's version (typeshed ships in it)
    path: list[str]  # sys.path (the server reads its entries' mtimes at each digest)


class RefsTarget(TypedDict):
    """``search.refs_target``: a plan without its files."""

    name: str
    keys: list[list[Any]]
    search: str
    local: bool


class HoverResult(TypedDict):
    markdown: str
    range: Span


class SymbolNode(TypedDict):
    """``search.document_symbols``: one definition and its children."""

    name: str
    kind: str
    range: Span
    selection: Span
    children: list[SymbolNode]


class CompletionRow(TypedDict):
    """One completion candidate (``lang.completion``)."""

    label: str
    kind: str  # jedi's type: "function", "class", "module", "instance", "keyword", ...
    detail: str  # the signature line if cheap, else the module
    sort: str  # a sort key keeping jedi's order (private names last)
    insert: str  # the text to insert (the whole name; the client replaces the typed prefix)
    range: Loc  # the typed prefix the item replaces


class CompletionDoc(TypedDict):
    """What ``completionItem/resolve`` adds (``lang.completion_resolve``)."""

    detail: str
    markdown: str  # the signature as code, then the docstring
    doc: str  # the docstring alone (for clients without markdown)


class SignatureRow(TypedDict):
    """One signature at a call (``lang.signature_help``)."""

    label: str
    doc: str
    params: list[str]  # each parameter's text as it appears in ``label``
    active: int  # the argument the cursor is on, -1 if none


class HierarchyItem(TypedDict):
    """A function or class as a call or type hierarchy node (``lang.call_item`` & co)."""

    name: str
    kind: str  # "function", "method", "class", "module"
    detail: str  # the module and container
    path: str
    range: Loc  # the whole definition
    selection: Loc  # its name
    line: int  # 0-based code-point position of its name (to ask about it again)
    col: int


class IncomingRow(TypedDict):
    """A caller and the call sites in it (``lang.incoming_in``, one file per batch)."""

    caller: HierarchyItem
    ranges: list[Loc]


class OutgoingRow(TypedDict):
    """A callee and the call sites of it in the asked function (``lang.outgoing``)."""

    callee: HierarchyItem
    ranges: list[Loc]


class RenamePlan(TypedDict):
    """``lang.prepare_rename``: the name's range, or why it cannot be renamed."""

    range: Loc | None
    name: str
    refused: str | None
    files: list[str]
    keys: list[list[Any]]


class SyntaxProblem(TypedDict):
    """One syntax error (``lang.syntax_errors``)."""

    range: Loc
    message: str


# -- runs -----------------------------------------------------------------------------

UnitKind = Literal["file", "class", "test", "example"]


class Unit(TypedDict):
    """Something a lens can run (``shared/collect.py``); positions in code points."""

    kind: UnitKind
    name: str
    qualname: str  # pytest-style ``A::b`` for tests, dotted for examples
    line: int
    col: int
    end_col: int
    end_line: int
    mode: str  # "pytest" for tests; for examples "call" or "doctest"


class Frame(TypedDict):
    path: str
    line: int


class Subtest(TypedDict, total=False):
    """One subtest of a test (``subtests.test()``, ``self.subTest()``), in its test's entry."""

    name: str  # pytest's description: ``[msg] (i=1)``
    outcome: str
    category: str
    duration: float
    message: str | None
    traceback: str | None
    stdout: str
    stderr: str
    path: str | None
    line: int | None
    trace: list[Frame]


class _TestKeys(TypedDict):
    nodeid: str
    name: str
    outcome: str  # pytest's category: passed, failed, error, skipped, xfailed, ...


class Test(_TestKeys, total=False):
    """One test's (or example's) result (``results.test_entry`` fills it)."""

    qualname: str
    categories: list[str]
    duration: float
    stdout: str
    stderr: str
    message: str | None
    file: str | None  # the test's own file
    path: str | None  # where it failed (or the test itself)
    line: int | None
    value: str | None  # an example's value
    traceback: str | None
    trace: list[Frame]
    errors: list[dict[str, Any]]
    subtests: list[Subtest]
    handle: str | None  # a live result (``twin/parked.py``)
    twin: int  # the slot of the twin that ran it


class RunStart(TypedDict):
    """run child → server: a test starts."""

    k: Literal["start"]
    nodeid: str


class RunCollected(TypedDict):
    """run child → server: what a session collected (``nodeid``, ``file`` each)."""

    k: Literal["collected"]
    items: list[dict[str, Any]]


class RunTestResult(TypedDict):
    """run child → server: one test's result, as it ends."""

    k: Literal["result"]
    test: Test


class RunFailing(TypedDict):
    """run child → server: a test has failed (its setup or call), before its teardown ends.

    Sent as soon as pytest reports the failing phase, so its diagnostic is published
    then (``server/lsp/runs.py``); the test's ``result`` follows and replaces it.
    """

    k: Literal["failing"]
    test: Test  # what is known so far: outcome, message, where it failed


class _RunEndKeys(TypedDict):
    k: Literal["end"]


class RunEnd(_RunEndKeys, total=False):
    """run child → its twin: the session ended (its counts and exit code ride along)."""

    imported: list[str]  # interpreter modules the run imported (to preload)
    message: str | None


class DebugListening(TypedDict):
    """run child → server (a Debug run): where its debug adapter listens."""

    k: Literal["debug"]
    host: str
    port: int
    pid: int


class Executed(TypedDict):
    """run child → server (live runs, ``run/trace.py``): the units one test executed."""

    k: Literal["executed"]
    nodeid: str
    file: str  # the test's own file
    units: dict[str, list[str]]  # workspace file -> unit qualnames (``shared/units.py``)
    lines: dict[str, list[int]]  # workspace file -> 1-based lines the test ran


class _ImportsKeys(TypedDict):
    k: Literal["imports"]
    tests: list[str]
    files: list[str]


class Imports(_ImportsKeys, total=False):
    """run child → server (live runs): workspace files imported once these were collected."""

    #: workspace file -> 1-based lines collection ran (absent: a warm run's zygote
    #: collected, untraced)
    lines: dict[str, list[int]]


#: What a run child streams (the twin reads ``end``; the server gets the rest as partials).
class RunPid(TypedDict):
    """warm run's supervisor → its twin: its pid (a collection zygote forked it, not the twin)."""

    k: Literal["pid"]
    pid: int


RunEvent = (
    RunStart
    | RunCollected
    | RunTestResult
    | RunFailing
    | RunEnd
    | DebugListening
    | Executed
    | Imports
    | RunPid
)


# -- the clients ----------------------------------------------------------------------


class TraceLink(TypedDict):
    uri: str
    line: int


class SubtestResult(TypedDict, total=False):
    """A :class:`Subtest` as a client sees it: ``uri`` for ``path``."""

    name: str
    outcome: str
    category: str
    duration: float
    message: str | None
    traceback: str | None
    stdout: str
    stderr: str
    uri: str | None
    line: int | None
    trace: list[TraceLink]


class TestResult(TypedDict, total=False):
    """A :class:`Test` as a client sees it (``lsp/runstate/answer.py``): URIs for paths."""

    nodeid: str
    name: str
    qualname: str
    outcome: str
    duration: float
    stdout: str
    stderr: str
    message: str | None
    uri: str | None  # where it failed (or the test itself)
    line: int | None
    value: str | None
    fileUri: str | None  # the test's own file
    traceback: str | None
    trace: list[TraceLink]
    errors: list[dict[str, Any]]
    subtests: list[SubtestResult]
    handle: str | None
    twin: int


class WarmServed(TypedDict):
    """Which collection zygote served a run, and how many runs it has served."""

    zygote: int
    file: str  # the test file it collected
    run: int
    #: Files whose function bodies the run swapped in (``run/code_swap.py``): the zygote
    #: imported an older text of them, and the edit changed function bodies only.
    swapped: list[str]


class SwapInfo(TypedDict):
    """A collection zygote's functions of one workspace file (``run/code_swap.py``)."""

    found: list[str]  # qualnames it holds function objects of
    started: list[str]  # qualnames of code that ran while it collected
    text: str  # the text it imported (what an edit is compared with)


class WarmReady(TypedDict, total=False):
    """collection zygote → its twin, once collected: what it imported (``run/warm_session.py``)."""

    k: Literal["ready"]
    ok: bool  # False: pytest stopped before a session
    paths: dict[str, int]  # imported workspace files (and config) -> CRC32 of their text
    rss: int  # KiB
    items: int
    errors: bool  # its collection failed somewhere
    swap: dict[str, SwapInfo]  # per module a run may swap bodies into (not tests, conftests)


class RunResult(TypedDict, total=False):
    """The run commands' answer (``twinls.runTest`` & co, ``twinls/runResults``'s ``result``)."""

    kind: Literal["test", "example", "file", "folder"]
    uri: str
    runId: int
    outcome: str  # a test's outcome, or ``deselected`` / ``empty`` / ``error`` / ``cancelled``
    duration: float
    tests: list[TestResult]
    summary: dict[str, int]  # pytest's closing-line counts
    exitcode: int | None
    message: str | None  # a run-level error in pytest's words
    warnings: str | None  # pytest's warnings summary
    session: bool  # False: pytest stopped before a session
    twins: list[int]  # the slots of the twins that ran it
    warm: list[WarmServed]  # the collection zygotes that served it (empty: collected cold)


#: What a ``window/showMessage`` is about, for a client's buttons (sent as ``code``).
NoticeCode = Literal["twin", "settings", "interpreter"]


@dataclasses.dataclass
class LensArgument:
    """The one argument of ``twinls.runTest`` / ``runExample`` / ``runFile`` (a lens's).

    A client may send less than a lens does: only ``uri`` is required.
    """

    uri: str
    line: int | None = None
    name: str | None = None
    qualname: str | None = None
    nodeid: str | None = None
    kind: str | None = None  # a test lens's unit kind: "test" or "class"
    mode: str | None = None  # an example lens's mode: "call" or "doctest"


@functools.cache
def converter() -> Any:
    """The one cattrs converter of the clients' arguments (lens arguments; the server's
    options copy it and add their range hooks). Imported on use: the twins (in the
    project's interpreter) have no cattrs."""
    import cattrs

    return cattrs.Converter(forbid_extra_keys=False)


def lens_argument(value: Any) -> LensArgument:
    """A command's argument as a :class:`LensArgument`: a URI string or a dict with ``uri``."""
    if isinstance(value, str):
        value = {"uri": value}
    if not isinstance(value, dict) or not isinstance(value.get("uri"), str):
        raise ValueError(f"expected a dict with a 'uri', got {value!r}")
    try:
        return converter().structure(value, LensArgument)
    except Exception as exc:  # cattrs's validation errors, a bad int
        raise ValueError(f"invalid lens argument {value!r}: {exc}") from None


def lens_payload(arg: LensArgument) -> dict[str, Any]:
    """What a lens sends: the fields that are set."""
    return {k: v for k, v in dataclasses.asdict(arg).items() if v is not None}


#: The one home of each option's default (``server/lsp/options.py``'s ``Options`` takes them;
#: the twins, the pool and the run planner read their defaults here).
DEFAULTS: dict[str, float] = {
    "heartbeat": 2.0,
    "hangAfter": 15.0,
    "runTimeout": 60.0,
    "maxRestarts": 5,
    "workerTimeout": 300.0,
    "runSplitMin": 0.2,
    "syntaxDebounce": 0.3,
    "interactivePause": 0.25,  # s an interactive call may stop the search twins (issue 10)
    "cacheSize": 256,  # MiB the server's cache may take (issue 10: server/cache.py)
    "warmMax": 2,  # collection zygotes per twin (issue 15: twin/warm_sessions.py)
    "warmMemory": 2048,  # MiB a zygote may hold after collecting
}


class FolderPython(TypedDict, total=False):
    """One workspace folder's interpreter as the client chose it (``pythonByFolder``)."""

    python: str | None
    pythonSource: str  # "setting" (the folder's twinls.python) or "python extension"


class InitializationOptions(TypedDict, total=False):
    """What a client may send at ``initialize`` (``server/lsp/options.py`` structures the
    checked ones into its ``Options`` dataclass with :func:`converter`)."""

    pool: int
    interactiveTwin: bool  # one more twin per pool for interactive requests (issue 10)
    interactivePause: float  # s it may stop the busy search twins per call (0: never)
    exclude: list[str]  # globs the index and searches skip
    runTimeout: float
    runMemoryLimit: int  # MiB
    runSplitMin: float
    heartbeat: float
    hangAfter: float
    maxRestarts: int
    maxFileSize: int
    workerTimeout: float
    preload: bool
    features: dict[str, bool]  # providers turned off (companion mode)
    lensIcons: str
    syntaxDebounce: float
    python: str | None  # the twins' interpreter (an executable or an environment)
    pythonSource: str  # where ``python`` came from ("setting", "python extension", ...)
    pythonByFolder: dict[str, FolderPython]  # per workspace folder (path or URI), first
    liveTests: bool  # re-run the tests each edit affects (``server/lsp/live.py``)
    liveMax: int  # run children live runs may use at once (default: cores - 1, at least 1)
    remotes: list[RemoteSetting]  # twin hosts over execnet (``server/remote.py`` checks them)
    # Live results and Debug runs (issue 17: twin/parked.py, server/lsp/inspect.py).
    parkMax: int  # parked run children per twin (0: off)
    parkMemory: int  # MiB a parked child may use
    parkTimeout: float  # seconds a parked child waits unasked
    inspector: bool  # the client has an inspector: Inspect lenses
    debugLens: bool  # the client attaches debuggers: Debug lenses
    # Warm collection (issue 15: twin/warm_sessions.py, run/warm_session.py).
    warmMax: int  # collection zygotes per twin (0: off)
    warmMemory: int  # MiB a zygote may hold after collecting
    # The server's persistent cache (issue 10: server/cache.py, server/lsp/kept.py).
    cache: bool  # false: nothing read or written
    cacheSize: int  # MiB


class ServerStatus(TypedDict):
    pid: int
    uptime: float
    seq: int
    encoding: str
    roots: list[str]
    hashes: dict[str, str]
    interpreter: dict[str, Any]  # the first folder's (as interpreters_by_root names it)
    #: Each folder's: path, source, version, pytest, error, and the group's roots and slots.
    interpreters_by_root: dict[str, dict[str, Any]]
    pending: int  # requests and notifications pygls still tracks
    untracked: list[str]  # documents whose text was lost after an invalid edit


class PoolSizing(TypedDict):
    """How a host's number of twins was chosen (``server/sizing.py``; issue 18)."""

    size: int
    reason: str  # e.g. "free cores: 2 cores, load 1.20 (0.00 of it ours): 0.8 free; ..."
    free_cores: float | None  # None: set by the user
    by_memory: int | None  # twins its available memory has room for
    fixed: bool  # set by the ``pool`` (local) or ``twins`` (a remote) setting


class PoolStatus(TypedDict):
    size: int  # slots of searching twins (the interactive ones not counted)
    live: int  # ... live now
    lanes: int  # interactive twins live now (``interactiveTwin``; ``Status.lanes``)
    gave_up: list[int]
    resyncs: int
    sizing: PoolSizing  # the local twins'; a remote host's is in ``remotes[].sizing``
    #: interactive calls that stopped the busy search twins (``interactivePause``), and
    #: the seconds they were stopped in all (``server/pause.py``)
    paused: int
    paused_s: float


class JediStats(TypedDict):
    """A twin's ``twins[].jedi`` in ``twinls.status`` (``twin/queries/jedi_world.py`` stats)."""

    #: names whose resolution hit a jedi limit (recursion, execution, or its silent cap of
    #: 300 inferences of one node), retried in a fresh state with the limits raised
    retried: int
    gave_up: int  # ... and still hit them: the answer may miss those uses
    failed: int  # names jedi raised an error on
    lane_decided: int  # uses the ast binding lane decided without jedi (``bindings.py``)
    lane_deferred: int  # uses of the files it read that went to jedi
    lane_files: int  # files it decided whole: no parso parse, no jedi state
    lane_disagreed: int  # check mode (TWINLS_CHECK_BINDINGS=1): the lane and jedi differ
    lane_over_jedi: int  # ... of which the lane found the target where jedi did not
    trees: int  # parso trees kept in memory now (bounded during searches: ``TREES_KEPT``)
    trees_dropped: int  # ... let go between a search's files (re-parsed if needed again)
    hover_warmed: int  # import names followed ahead of hovers (``search.hover_warm``)


class ZygoteStatus(TypedDict):
    """One of a twin's ``twins[].zygotes`` in ``twinls.status``: a test file kept collected
    (``twin/warm_sessions.py``)."""

    path: str  # the test file
    pid: int
    ready: bool  # collected (False: still collecting)
    items: int  # tests it collected
    rss: int  # bytes it held once collected
    runs: int  # runs handed to it


class TwinLink(TypedDict, total=False):
    """Added to each twin's own status by the server: how it reaches the twin."""

    remote: str  # its gateway spec; absent for a local twin
    root: str  # the checkout on that host
    rtt: float  # seconds of the last ping's round trip
    calls: int  # calls answered, chunks of sharded ones included
    chunks: int  # of which chunks of sharded calls
    files_per_s: float  # measured by sharded calls
    folders: list[str]  # a local twin: the workspace folders its interpreter answers for


class LiveStatus(TypedDict):
    """``twinls.status``'s ``live`` block: live tests and their budget (``server/lsp/live.py``)."""

    on: bool
    liveMax: int  # run children live runs may use at once
    running: int  # live run children running now
    peak: int  # most live run children ever running at once
    waiting: int  # children of the current live run waiting for the budget
    queued: int  # tests its running children collected and have not finished
    owed: int  # folders, files and tests cancelled runs left to the next one
    runs: int  # live runs ended
    cancelled: int  # of which cancelled (stale, or yielded to a search)
    restored: int  # tests whose records this session read back from the cache (0: none)
    saved: int  # maps written to the cache this session


class Status(TypedDict):
    """``twinls.status``'s answer."""

    server: ServerStatus
    pool: PoolStatus
    live: LiveStatus
    remotes: list[dict[str, Any]]  # server/remote.py RemoteHost.describe
    twins: list[dict[str, Any]]  # the twins that search and run
    lanes: list[dict[str, Any]]  # the interactive twins (issue 10), each as in ``twins``


# -- live tests, discovery, coverage (server/lsp/live.py, server/lsp/discovery.py) ------


class Changed(TypedDict):
    uri: str
    units: list[str] | None  # None: all of the file


class RunResults(TypedDict):
    """server → client ``twinls/runResults``: a run nobody asked for (live mode) ended.

    ``result`` is exactly what the run commands answer; ``reason`` says why it ran
    ("baseline": recording every test once; "edit"; "unrecorded": a test file opened
    whose tests were never recorded; "resumed": what a live run that yielded to a
    search had not finished; "restored": the outcomes kept with the map from the last
    session, ``server/mapstore.py``; "changed": then the tests of what changed since).
    """

    live: Literal[True]
    reason: str
    changed: list[Changed]
    result: RunResult


class LiveState(TypedDict):
    """``twinls.toggleLiveTests``'s answer."""

    liveTests: bool


class CoveredUnit(TypedDict):
    name: str  # the unit's qualname (``shared/units.py``)
    startLine: int  # 0-based, decorators included
    endLine: int
    tests: int  # recorded tests that executed it


class CoveredFile(TypedDict):
    """One file's coverage: per function (``units``) and per line (issue 15)."""

    uri: str
    units: list[CoveredUnit]
    #: 0-based lines of the file's executable statements (``server/statements.py``) that
    #: ran, in a recorded test or while its module was imported by a recorded collection
    covered: list[int]
    uncovered: list[int]  # 0-based lines of executable statements that never ran
    statements: int  # len(covered) + len(uncovered)


class Coverage(TypedDict):
    """``twinls.coverage``'s answer: function- and line-level coverage of the recorded tests."""

    files: list[CoveredFile]


class DiscoveredTest(TypedDict):
    nodeid: str
    name: str
    qualname: str
    kind: str  # "test" | "class" | "case"
    line: int


class DiscoveredFile(TypedDict):
    uri: str
    tests: list[DiscoveredTest]


class Discovery(TypedDict):
    """``twinls.discoverTests``'s answer: test files in path order, tests in text order."""

    files: list[DiscoveredFile]


class TestModule(TypedDict):
    """twin → server (``run.discover``): a test module and its test units."""

    path: str
    tests: list[Unit]

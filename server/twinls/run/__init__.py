"""Run child: a test or example run, forked from the warm twin per run.

Runs and lenses
===============

```
server  server/lsp/lenses.py ── Run (server/plan.py) ── stubs.run_start(spec) ─┐ (per shard)
twin    twin/queries/runs.py: fork supervisor on the worker thread, ctx.detach(follow)
           └─ supervisor (run/child.py)   single-threaded, never runs user code
                 └─ executor                 pytest.main(...) or the example; streams results
```

**Lenses** (`shared/collect.py`, query `run.lenses`). `ast` over the twin's
overlay text, cached per file by its overlay stamp; a file that stops parsing
keeps its last good lenses. In a test module (`test_*.py`, `*_test.py`):
`▶ Run file` on line 0, `▶ Run test` on every `test*` function, `Test*` class
(no `__init__`) or `unittest.TestCase` subclass and their `test*` methods
(nested classes too); a parametrized test is one lens. Anywhere: `▶ Run
example` on top-level `example_*` functions and on functions, methods and
classes whose docstring holds `>>>`. Columns leave the twin as code points;
`server/lsp/lenses.py` converts them to the negotiated encoding. A lens carries its
command and one argument, `{"uri", "line", "name", "qualname", "nodeid",
"kind"}` (tests) or `{"uri", "line", "name", "qualname", "mode"}` (examples).

**Commands.** `twinls.runTest`, `twinls.runExample`, `twinls.runFile` (also
`[uri]`), `twinls.runFolder` (`[uri]` of a folder; none: the first root),
`twinls.runAt` (`[uri, position]`: the innermost test or example
around the line, else the file if it is a test module), `twinls.cancelRun`
(`[]` or `[runId]`). Each answers `{"kind", "uri", "runId", "outcome",
"duration" (the run's wall time), "tests": [...], "summary", "exitcode",
"message", "warnings", "session", "twins"}`: `summary` holds pytest's
closing-line counts (its categories, plus `deselected` and `warnings`),
`exitcode` pytest's exit code, `message` a run-level error in pytest's words
(`ERROR: not found: …`, usage and config errors), `warnings` pytest's
warnings summary, `session` whether pytest got as far as a session; a run
with no test has outcome `deselected`, `empty` (exit 5) or `error`. A test
entry has `nodeid`, `name`, `outcome`, `duration`, `stdout`, `stderr`,
`message`, `uri`, `line` (0-based: the failing line in the workspace, else
the test's own), `fileUri` (the test's own file), `value` (an example's
`repr`), `qualname`, `traceback`, `trace` (the workspace frames of the
failure), `errors` (each failing phase: a teardown error after a failed
call), `subtests` (below), `twin`, and `stack` for a killed child.

**Subtests** (pytest 9's `subtests` fixture, unittest's `self.subTest`).
pytest logs a `SubtestReport` per block before the test's own reports; the
reporter keeps them (they would otherwise overwrite the call phase) and sends
them inside their test's entry, each with `name` (pytest's `[msg] (i=1)`),
`outcome`, `message`, `uri`/`line` at its failing line, `traceback`,
`trace`, output. Counts follow pytest exactly: each subtest adds the
category pytest gives it (`failed`, or `subtests passed` only at the
verbosity where pytest counts those: runs pass no `-q`, so the project's own
verbosity decides). A failing subtest fails its test in the entry's
`outcome`, the lens, the diagnostics (one per failing subtest, at its line),
the clients and the exit code, even where pytest's own line calls the
unittest test itself `PASSED`.

**The twin's side** (`twin/queries/runs.py`, `run.start`). The supervisor is
forked on the twin's worker thread, so its copy of the overlay holds exactly
the edits sent before the call; then `ctx.detach` hands the wait to a thread
and the twin goes on applying edits and answering. Before forking,
`gc.freeze()` keeps the children's collections off the twin's objects (a
collection in a child would otherwise walk, and copy, every page the twin
has).

**The supervisor** (`run/child.py`) leads its own process group and dies
with its parent (`PR_SET_PDEATHSIG`); it closes the twin's channel socket and
every other run's, turns bytecode writing off, `chdir`s to the workspace root
(put first on `sys.path`, as `python -m pytest` does) and installs the run
imports (below). It forks an **executor** per job and watches its socket: each
event (`collected`, `start`, `result`, `end`) is relayed up as it arrives. An
executor silent for `runTimeout` seconds while a test runs (default 60; per
test, since the clock restarts with every event; while no test runs, start-up,
collection and between tests, at least 60 s, so a loaded machine's slow
collection is not a timeout) gets `SIGUSR1`, which `faulthandler` answers
by writing every thread's stack to a pipe; then `SIGKILL`. An executor whose
socket closes without `end` crashed (`os._exit`, a signal; `faulthandler` also
dumps on `SIGSEGV` & co). Either way the test it had started is reported as an
`error` naming the cause, with the stack and the deepest workspace frame in it
as the line, and every collected test it had not reported is re-run in an
executor of its own, forked from the same snapshot. Cancelling is one
`killpg` from the twin's waiting thread (it polls `ctx.cancelled` every 50 ms).

**Cleaning up** (same file). The supervisor is the subreaper of its run
(`PR_SET_CHILD_SUBREAPER`): after each executor and before `end` it kills
everything in its process group and every orphan adopted from a test that
left the group with `setsid` (`sweep`), and the twin `killpg`s the group once
the run ends; a twin that loses its channel kills its runs' groups before it
exits, and the pool stops twins by closing their channel (then `SIGKILL`
after 2 s), so nothing a test forked outlives the run or the server. The
executor's exit is watched through a pidfd as well as its socket, so a test
that forks and crashes (its child holding the socket) is a crash, not a
timeout; a frame that stops half way counts against the same deadline. An
executor points every descriptor it inherited but its own socket and stack
pipe at `/dev/null`, sets `oom_score_adj` to 1000 and, with
`runMemoryLimit` (MiB, opt-in), an `RLIMIT_AS`. Nothing a run child sends is
unpickled (the readers are plain); a result too big for a frame becomes an
error for that test.

**The executor** runs `pytest.main` with the user's configuration plus
`-p no:cacheprovider -p no:faulthandler --rootdir ROOT` (and `-n 0` where
xdist is installed) and the plugins of `run/pytest_plugin.py`: one that
accepts the blocked cache and stepwise plugins' options and ini keys as
no-ops (a project whose `addopts` say `--ff` still runs), one that stands in
for the faulthandler plugin (its `faulthandler_timeout` and
`faulthandler_exit_on_timeout` keys registered, so `--strict-config` and
`filterwarnings = error` projects run; a test outliving the timeout has every
thread's stack dumped into a memfd and added to its `stderr`, or, with
exit-on-timeout, into the supervisor's stack pipe), and the reporter. The
executor's `end` carries pytest's exit code, the deselected count (the
project's own `-m`/`-k`/`--deselect`; a shard's split is not reported as
deselection), the warnings count and summary, and the run-level error text
taken from pytest's own output. pytest's fd capture
writes to `memfd`s instead of temp files. The reporter
reports each test once, after its teardown, in pytest's own terms: every
phase's category comes from `pytest_report_teststatus`, so the summary counts
what pytest's closing line counts (a test that passes and fails its teardown
is `passed` + `error` there, `error` as one outcome). Failure lines come from
the exception's traceback (`pytest_runtest_makereport`), keeping the deepest
frame inside the workspace, not in pytest or a library. Collection errors
become `error` entries at the line their text names. Examples
(`run/examples.py`) import the module by its package path and either call
the function (awaiting a coroutine) and keep `repr` of the value, or run the
docstring's doctests with a runner that keeps what the last example printed
and the first failing example's line.

**Imports in a run child** (`run/imports.py`). pytest puts its
assertion-rewriting finder first on `sys.meta_path`, and it reads files from
disk. In a run child its `_find_spec` first asks the overlay finder: a module
the overlay holds in memory is declined, and the overlay's finder, ahead of
the ordinary ones, serves it with a loader that rewrites asserts exactly when
pytest's hook would (`_should_rewrite`: test files, conftests, registered
modules). `linecache` is primed with the overlay's texts so tracebacks and
pytest's failure text show the unsaved lines; a `SyntaxError` gets the
editor's line too (CPython re-reads it from disk otherwise). Nothing is
written: no bytecode, no `.pytest_cache`, no rewritten pyc.

**Warmth** (`twin/preload.py`, `twin/fastconfig.py`). On the worker
thread, before the first run (and on `run.warm`, sent to each twin with the
first lens request): pytest's built-in plugins and installed `pytest11`
plugins are imported, the workspace's `import` lines are scanned (1 s, 5,000
files at most) and every module they name that lives with the interpreter
(stdlib, site-packages; never the workspace's own, which would go stale) is
imported, and a pristine pytest `Config` (plugin manager, built-in plugins
registered) is built for each executor to start from. Each run also reports
the interpreter modules it imported; the next run imports them into the twin
first. The `preload` setting turns the scan and the feedback off (`false`) or
names more modules (a list). Imports happen only on the worker thread: a fork
taken while another thread is half-way through an import would leave that
module's lock held in the child.

**Warm collection** (`run/warm_session.py`, `twin/warm_sessions.py`). A run
whose targets all lie in one test file is handed to that file's collection
zygote (forked on the first such run, on the worker thread): it collected the
file once and waits in `pytest_runtestloop`; the run's supervisor is a fork of
it and the executor returns into pytest with the run's items only. What is set
up where, what replaces a zygote and why the results are a cold run's: those
modules' docstrings.

**Splitting** (`server/plan.py`). A file or class run, with two twins or more
and durations recorded by earlier runs (server memory only, never disk) adding
up to at least `runSplitMin` seconds (default 0.2), is dealt out longest first
to the least loaded shard, one shard per twin. Shards name exact node ids
(`include`); the lightest shard takes the scope minus the others' ids
(`exclude`), so a test no run has seen yet still runs. Every shard's child
collects the scope and keeps only its own (pytest's `--deselect` matches
prefixes, so it is not used).

**The server's side** (`server/lsp/lenses.py`). The run starts before the progress
bar's `window/workDoneProgress/create` round trip. Each result, as it arrives:
the bar's report (`3/12 · test_x`), the test's diagnostics (`source`
"twinls", at the failing line, plus the test file's own line when the failure
is raised elsewhere; replaced or cleared by the test's next result; a run also
clears what it no longer finds in its scope), the lens titles and a
`workspace/codeLens/refresh`, at most every 250 ms. Titles (`server/lsp/titles.py`)
use codicons for VS Code and its relatives (`$(loading~spin) Running…`,
`$(pass) 12 ms · $(debug-rerun) Run again`) and plain marks for other
clients, which show titles raw (`✓ 5 passed · 1.20 s · ▶ Run again`, `⊘ 1
deselected · ▶ Run again`), decided from `clientInfo.name` (or the
`lensIcons` option); the time is the wall time of the lens's own last run
(results a bigger run brought show their own durations). Cancelling the bar,
`twinls.cancelRun` or `$/cancelRequest` cancels the run's promises; the twins
kill their children.

**The terminal** (`server/run_cli.py`). `twinls run [FILE[::TEST] | FOLDER]`
(no target: the whole workspace) starts a twin over the project root (the
nearest folder with `pyproject.toml`, `setup.cfg`, `setup.py`, `pytest.ini`,
`tox.ini` or `.git`), runs through the same `Run`, prints each result as it
arrives (pytest's `SUBFAILED` lines for failing subtests, a teardown error
after a failure), pytest's warnings summary, its closing line (none when
pytest stopped before a session, as pytest prints none) and any run-level
error, and exits with pytest's exit code (0, 1, 2, 3, 4, 5).
`tests/parity/` compares it with `python -m pytest` on five real projects.

Known limits: a test file that exists only in the editor (never saved) cannot
be run (pytest wants its arguments on disk; its lenses do show); lenses follow
pytest's default naming, not a project's `python_files` / `python_functions`;
the crash re-run needs the collected list, so a crash during collection is one
error for the whole file.
"""

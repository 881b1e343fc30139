"""Server: code lenses and runs, ``Run test`` to a result, diagnostics and updated titles.

A lens's command asks the pool for a run (``server.plan.Run``); while it runs,
each result arriving from the twin updates the progress bar, the failure
diagnostics (published at the failing line, and at each failing subtest's;
cleared once the test passes) and the lens titles (``server/lsp/titles.py``,
refreshed with ``workspace/codeLens/refresh``). The command answers with the
structured result every client renders.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lsprotocol import types

from ...shared import results
from ...shared.collect import enclosing
from ...shared.paths import root_of
from ...shared.textbuf import from_codepoints
from ..plan import SPLIT_MIN, Durations, Run, Target
from . import titles
from .debugging import DEBUG, debug_lenses
from .diagnostics import TESTS, board
from .inspect import inspect_lenses
from .progress import WorkDone
from .server import TwinLanguageServer

RUN_TEST = "twinls.runTest"
RUN_EXAMPLE = "twinls.runExample"
RUN_FILE = "twinls.runFile"
RUN_AT = "twinls.runAt"
RUN_FOLDER = "twinls.runFolder"
CANCEL_RUN = "twinls.cancelRun"
REFRESH_EVERY = 0.25  # seconds between lens refreshes while results stream in

#: Threads that wait for runs (a run may wait a minute; the default pool is small).
WAITERS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="twinls-run")


class Runs:
    """The server's memory of runs: latest results, failure diagnostics, running runs."""

    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.durations = Durations()
        self.active: dict[int, Run] = {}
        #: test file -> node id -> latest entry (tests); -> qualname -> entry (examples)
        self.tests: dict[str, dict[str, dict[str, Any]]] = {}
        self.examples: dict[str, dict[str, dict[str, Any]]] = {}
        self.running: dict[tuple[str, str, str], int] = {}  # (path, kind, qualname) -> runs
        #: node id -> its diagnostics as (path, diagnostic), and the test they belong to
        self.diags: dict[str, list[tuple[str, types.Diagnostic]]] = {}
        self.owner: dict[str, tuple[str, str]] = {}  # node id -> (test file, qualname)
        self.warmed: set[int] = set()
        self._refresh: asyncio.TimerHandle | None = None
        #: (path, kind, qualname) -> the last finished run of that lens (no tests kept)
        self.last: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.run_of: dict[str, int] = {}  # node id -> the run its latest result came from
        self.walls: dict[int, float] = {}  # run id -> wall time, once it ended
        self.debugging: set[asyncio.Future[Any]] = set()  # Debug runs still going

    @property
    def icons(self) -> titles.Icons:
        name = getattr(self.ls, "client_name", None)  # clientInfo.name, set at initialize
        return titles.icons_for(name, self.ls.options.get("lensIcons"))

    # -- lenses -----------------------------------------------------------------------

    def lens(self, path: str, unit: dict[str, Any], lines: list[str]) -> types.CodeLens:
        uri = self.ls.uri_of(path)
        title = self.title(path, unit)
        kind = unit["kind"]
        arg: dict[str, Any] = {"uri": uri, "line": unit["line"]}
        if kind == "file":
            command = RUN_FILE
        elif kind == "example":
            command = RUN_EXAMPLE
            arg.update(name=unit["name"], qualname=unit["qualname"], mode=unit["mode"])
        else:
            command = RUN_TEST
            root = self._root(path)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            arg.update(
                name=unit["name"],
                qualname=unit["qualname"],
                nodeid=f"{rel}::{unit['qualname']}",
                kind=kind,
            )
        line_text = lines[unit["line"]] if unit["line"] < len(lines) else ""
        enc = self.ls.encoding
        start = types.Position(unit["line"], from_codepoints(line_text, unit["col"], enc))
        end = types.Position(unit["line"], from_codepoints(line_text, unit["end_col"], enc))
        return types.CodeLens(
            range=types.Range(start, end),
            command=types.Command(title=title, command=command, arguments=[arg]),
        )

    def title(self, path: str, unit: dict[str, Any]) -> str:
        kind, qual = unit["kind"], unit["qualname"]
        icons = self.icons
        if self.running.get((path, kind, qual)):
            return titles.running(icons)
        if kind == "example":
            entry = self.examples.get(path, {}).get(qual)
            entries = [entry] if entry else []
        else:
            latest = self.tests.get(path, {}).values()
            entries = [e for e in latest if _in_scope(e["qualname"], kind, qual)]
        last = self.last.get((path, kind, qual))
        wall = self.wall_of(entries, last)
        text = titles.of_tests(icons, entries, wall, example=kind == "example")
        if text is None and last is not None and not last["tests"]:
            text = titles.of_run(icons, last)
        return text or titles.base(icons, kind)

    def wall_of(self, entries: list[dict[str, Any]], last: dict[str, Any] | None) -> float | None:
        """The wall time of this lens's own last run, if it produced all these results.

        (Results a bigger run brought, a file's for a test lens, show their own
        durations instead: the file's wall time is not the test's.)
        """
        runs = {self.run_of.get(e["nodeid"]) for e in entries}
        if last is None or runs != {last["runId"]}:
            return None
        return self.walls.get(last["runId"])

    def schedule_refresh(self, now: bool = False) -> None:
        """Ask the client to re-request lenses (at most every REFRESH_EVERY seconds)."""
        caps = self.ls.client_capabilities.workspace
        lens_caps = caps.code_lens if caps else None
        if not (lens_caps and lens_caps.refresh_support):
            return
        if self._refresh is not None and not now:
            return
        if self._refresh is not None:
            self._refresh.cancel()
        loop = asyncio.get_running_loop()
        self._refresh = loop.call_later(0 if now else REFRESH_EVERY, self._send_refresh)

    def _send_refresh(self) -> None:
        self._refresh = None
        try:
            self.ls.workspace_code_lens_refresh(None)
        except Exception:  # a closing connection: nothing to refresh
            pass

    # -- results and diagnostics ------------------------------------------------------

    def on_event(self, run: Run, msg: dict[str, Any], bars: list[WorkDone]) -> None:
        """One event from a run's children (on the event loop)."""
        if msg["k"] == "result":
            self.record(run, msg["test"])
            self.schedule_refresh()
        if msg["k"] in ("result", "start", "collected"):
            self.report(run, bars)

    @staticmethod
    def report(run: Run, bars: list[WorkDone]) -> None:
        if not bars or not (run.total or run.done):
            return
        current = (run.current or "").rpartition("::")[2]
        message = f"{run.done}/{run.total}" + (f" · {current}" if current else "")
        bars[0].report(run.done, max(run.total, run.done, 1), message)

    def record(self, run: Run, entry: dict[str, Any]) -> None:
        file = entry.get("file") or run.target.path
        if run.target.kind == "example":
            self.examples.setdefault(file, {})[entry["qualname"]] = entry
        else:
            self.tests.setdefault(file, {})[entry["nodeid"]] = entry
        self.run_of[entry["nodeid"]] = run.id
        self.diagnose(entry, file)

    def finished(self, run: Run, result: dict[str, Any]) -> None:
        """A run ended: its wall time for titles, and what it said when it ran no test."""
        self.walls[run.id] = result["duration"]
        target = run.target
        self.last[(target.path, target.kind, target.qualname)] = {
            k: result[k] for k in ("runId", "outcome", "message", "summary", "duration")
        } | {"tests": len(result["tests"])}
        live = set(self.run_of.values())
        for run_id in [r for r in self.walls if r not in live]:
            del self.walls[run_id]

    def diagnose(self, entry: dict[str, Any], file: str) -> None:
        nodeid = entry["nodeid"]
        touched = {p for p, _ in self.diags.pop(nodeid, [])}
        self.owner.pop(nodeid, None)
        items: list[tuple[str, types.Diagnostic]] = []
        failures = [s for s in entry.get("subtests") or [] if results.failed(s["outcome"])]
        if results.failed(entry["outcome"]) and not failures:
            failures = [entry]  # the test's own failure (a failing subtest says more)
        for failure in failures:
            path, line = failure.get("path"), failure.get("line")
            if path is None or line is None:
                continue
            name = entry["name"] if failure is entry else f"{entry['name']} {failure['name']}"
            message = f"{name}: {failure.get('message') or failure['outcome']}"
            items.append((path, self._diagnostic(path, line, message, entry)))
            in_test = [f for f in failure.get("trace") or [] if f["path"] == file]
            if path != file and in_test:
                where = in_test[-1]
                items.append((file, self._diagnostic(file, where["line"], message, entry)))
        if items:
            self.diags[nodeid] = items
            self.owner[nodeid] = (file, entry["qualname"])
            touched.update(p for p, _ in items)
        for p in touched:
            self.publish(p)

    def clear_scope(self, target: Target, seen: set[str]) -> None:
        """After a run: forget results and diagnostics of tests in its scope it did not see."""
        kind = target.kind
        if kind == "example":
            return

        def covered(file: str) -> bool:
            if kind == "folder":
                return file == target.path or file.startswith(target.path.rstrip(os.sep) + os.sep)
            return file == target.path

        for file in [f for f in self.tests if covered(f)]:
            latest = self.tests[file]
            for nodeid in [n for n, e in latest.items() if n not in seen]:
                if _in_scope(latest[nodeid]["qualname"], kind, target.qualname):
                    del latest[nodeid]
        touched: set[str] = set()
        for nodeid, (file, qual) in list(self.owner.items()):
            if covered(file) and nodeid not in seen and _in_scope(qual, kind, target.qualname):
                touched.update(p for p, _ in self.diags.pop(nodeid, []))
                del self.owner[nodeid]
        for p in touched:
            self.publish(p)

    def publish(self, path: str) -> None:
        diagnostics = [d for items in self.diags.values() for p, d in items if p == path]
        # One board publishes every source's diagnostics together (syntax errors too).
        board(self.ls).publish(path, TESTS, diagnostics)

    def _diagnostic(
        self, path: str, line: int, message: str, entry: dict[str, Any]
    ) -> types.Diagnostic:
        text = self._line(path, line)
        body = text.rstrip("\r\n")
        start = len(body) - len(body.lstrip())
        enc = self.ls.encoding
        return types.Diagnostic(
            range=types.Range(
                types.Position(line, from_codepoints(body, start, enc)),
                types.Position(line, from_codepoints(body, len(body), enc)),
            ),
            message=message,
            severity=types.DiagnosticSeverity.Error,
            source="twinls",
            code=entry["outcome"],
            data={"handle": entry["handle"]} if entry.get("handle") else None,
        )

    # -- helpers ----------------------------------------------------------------------

    def lines(self, path: str) -> list[str]:
        """The editor's text of ``path`` (the server's mirror, else the disk), in lines."""
        pool = self.ls.pool
        text = pool.mirror.read_text(path) if pool is not None else None
        return (text or "").splitlines()

    def _line(self, path: str, line: int) -> str:
        lines = self.lines(path)
        return lines[line] if 0 <= line < len(lines) else ""

    def _root(self, path: str) -> str:
        return root_of(path, self.ls.pool.roots if self.ls.pool else self.ls.roots())

    def public(self, result: dict[str, Any]) -> dict[str, Any]:
        """The command's answer: URIs instead of paths, internal keys dropped."""
        tests = []
        for t in result["tests"]:
            entry = self._located(results.public(t), t)
            entry["fileUri"] = self.ls.uri_of(t["file"]) if t.get("file") else None
            entry["subtests"] = [
                self._located({k: v for k, v in s.items() if k != "path"}, s)
                for s in t.get("subtests") or []
            ]
            tests.append(entry)
        out = {k: v for k, v in result.items() if k != "path"}
        out["uri"] = self.ls.uri_of(result["path"])
        out["tests"] = tests
        return out

    def _located(self, entry: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        """``path``/``trace`` paths of ``source`` as URIs in ``entry``."""
        entry["uri"] = self.ls.uri_of(source["path"]) if source.get("path") else None
        entry["trace"] = [
            {"uri": self.ls.uri_of(f["path"]), "line": f["line"]} for f in source.get("trace") or []
        ]
        return entry


def _in_scope(qualname: str, kind: str, scope: str) -> bool:
    if kind in ("file", "folder"):
        return True
    if kind == "class":
        return qualname.startswith(scope + "::")
    return qualname == scope


def register(ls: TwinLanguageServer) -> None:
    runs = Runs(ls)

    async def warm(pool: Any) -> None:
        for twin in pool.live():
            if twin.pid not in runs.warmed:
                runs.warmed.add(twin.pid)
                pool.call("run.warm", twin=twin)

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def code_lens(
        ls: TwinLanguageServer, params: types.CodeLensParams
    ) -> list[types.CodeLens]:
        path = ls.path_of(params.text_document.uri)
        units = await ls.ask("run.lenses", path)
        await warm(await ls.twin_pool())
        lines = runs.lines(path)
        found = [runs.lens(path, u, lines) for u in units]
        return found + inspect_lenses(runs, path, units, found) + debug_lenses(runs, units, found)

    async def run(
        target: Target,
        extra: dict[str, Any] | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        pool = await ls.twin_pool()
        await warm(pool)
        key = (target.path, target.kind, target.qualname)
        loop = asyncio.get_running_loop()
        split_min = float(ls.options.get("runSplitMin", SPLIT_MIN))
        bars: list[WorkDone] = []  # filled once the client has made the bar
        streamed: set[str] = set()

        def listener(run: Run, msg: dict[str, Any]) -> None:
            if msg["k"] == "result":
                streamed.add(msg["test"]["nodeid"])
            loop.call_soon_threadsafe(runs.on_event, run, msg, bars)
            if on_event is not None:
                loop.call_soon_threadsafe(on_event, msg)

        # A new run of a target lets go of the live results its last run parked.
        for twin in pool.live():
            pool.call("run.unpark", target.spec(), twin=twin)
        job = Run(pool, target, runs.durations, listener, split_min=split_min, extra=extra)
        runs.active[job.id] = job
        runs.running[key] = runs.running.get(key, 0) + 1
        try:
            job.start()  # first: the bar's round trip to the client need not delay the run
            # Waited in a thread, not awaited: cancelling this task must reach job.cancel.
            waiting = loop.run_in_executor(WAITERS, job.wait)
            runs.schedule_refresh(now=True)
            name = target.qualname or os.path.basename(target.path)
            bar = await WorkDone.begin(ls, None, f"twinls: {name}", message="starting")
            bar.on_cancel(job.cancel)
            bars.append(bar)
            runs.report(job, bars)
            result = await waiting
        except asyncio.CancelledError:
            job.cancel()
            raise
        finally:
            runs.active.pop(job.id, None)
            runs.running[key] -= 1
            if not runs.running[key]:
                del runs.running[key]
        for entry in result["tests"]:
            if entry["nodeid"] not in streamed:  # made up here: a twin died, pytest refused
                runs.record(job, entry)
        if not job.cancelled:
            runs.clear_scope(target, {t["nodeid"] for t in result["tests"]})
        runs.finished(job, result)
        counts = results.summary_line(result["summary"], result["duration"])
        bar.end(f"{result['outcome']}: {counts}")
        runs.schedule_refresh(now=True)
        return runs.public(result)

    async def target_of(arg: Any, kind: str) -> Target:
        """What a command's argument names; a lens's carries it all, a client's may not."""
        if isinstance(arg, str):
            arg = {"uri": arg}
        if not isinstance(arg, dict) or "uri" not in arg:
            raise ValueError(f"expected a dict with a 'uri', got {arg!r}")
        path = ls.workspace_file(arg["uri"])
        if kind == "file":
            return Target("file", path)
        qualname = arg.get("qualname") or (arg.get("name") if kind == "example" else None)
        if not qualname and arg.get("nodeid"):
            qualname = arg["nodeid"].partition("::")[2]
        if not qualname:
            return Target("file", path)
        if kind == "example" and arg.get("mode"):
            return Target("example", path, qualname, arg["mode"])
        if kind == "test" and arg.get("kind") in ("test", "class"):
            return Target(arg["kind"], path, qualname)
        # Ask the twin what the name is (a class, or a doctest rather than a call).
        plain = qualname.split("[", 1)[0]
        wanted = ("example",) if kind == "example" else ("test", "class")
        for unit in await ls.ask("run.lenses", path):
            if unit["qualname"] == plain and unit["kind"] in wanted:
                if kind == "example":
                    return Target("example", path, qualname, unit["mode"])
                return Target(unit["kind"], path, qualname)
        return (
            Target("example", path, qualname, "call")
            if kind == "example"
            else Target("test", path, qualname)
        )

    @ls.command(RUN_TEST)
    async def run_test(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        return await run(await target_of(args[0] if args else None, "test"))

    @ls.command(RUN_EXAMPLE)
    async def run_example(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        return await run(await target_of(args[0] if args else None, "example"))

    @ls.command(RUN_FILE)
    async def run_file(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        return await run(await target_of(args[0] if args else None, "file"))

    @ls.command(RUN_FOLDER)
    async def run_folder(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        """Every test under a folder: ``[uri]`` or ``[{"uri"}]``; none: the first root."""
        arg = args[0] if args else None
        uri = arg.get("uri") if isinstance(arg, dict) else arg
        pool = await ls.twin_pool()
        path = ls.path_of(uri) if isinstance(uri, str) and uri else pool.roots[0]
        if not os.path.isdir(path):
            raise ValueError(f"not a folder: {uri!r}")
        return await run(Target("folder", path))

    @ls.command(RUN_AT)
    async def run_at(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        """Run the test or example around a position: ``[uri, {"line", "character"}]``."""
        uri, position = args[0], (args[1] if len(args) > 1 else {"line": 0})
        path = ls.workspace_file(uri)
        units = await ls.ask("run.lenses", path)
        unit = enclosing(units, int(position["line"]))
        if unit is None:
            if any(u["kind"] == "file" for u in units):
                return await run(Target("file", path))
            return {
                "kind": "test",
                "uri": uri,
                "outcome": "error",
                "duration": 0.0,
                "tests": [],
                "summary": results.summarize([]),
                "message": f"no test or example at line {int(position['line']) + 1}",
            }
        if unit["kind"] == "example":
            return await run(Target("example", path, unit["qualname"], unit["mode"]))
        return await run(Target(unit["kind"], path, unit["qualname"]))

    @ls.command(DEBUG)
    async def debug(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        """A Debug run of a test or example (a lens's argument, or ``[uri, position]``):
        its run child waits for a DAP client; the answer says where to attach
        (``{host, port, pid, runId}``). The run's results arrive as any run's do."""
        arg = args[0] if args else None
        if isinstance(arg, str) and len(args) > 1 and isinstance(args[1], dict):
            path = ls.workspace_file(arg)
            unit = enclosing(await ls.ask("run.lenses", path), int(args[1].get("line", 0)))
            if unit is None or unit["kind"] not in ("test", "class", "example"):
                raise ValueError(f"no test or example at line {int(args[1].get('line', 0)) + 1}")
            target = Target(unit["kind"], path, unit["qualname"], unit.get("mode", "pytest"))
        else:
            kind = "example" if isinstance(arg, dict) and arg.get("mode") else "test"
            target = await target_of(arg, kind)
        loop = asyncio.get_running_loop()
        where: asyncio.Future[dict[str, Any]] = loop.create_future()

        def on_event(msg: dict[str, Any]) -> None:
            if msg["k"] == "debug" and not where.done():
                where.set_result({k: msg[k] for k in ("host", "port", "pid")})

        task = asyncio.ensure_future(run(target, {"debug": True}, on_event))
        runs.debugging.add(task)
        task.add_done_callback(runs.debugging.discard)
        done, _ = await asyncio.wait([where, task], return_when=asyncio.FIRST_COMPLETED)
        if where in done:
            return {**where.result(), "runId": max(runs.active, default=None)}
        result = task.result()  # it ended before listening: say why
        message = result.get("message") or next(
            (t.get("message") for t in result["tests"] if t.get("message")), None
        )
        raise RuntimeError(f"the Debug run ended before a debugger could attach: {message}")

    @ls.command(CANCEL_RUN)
    async def cancel_run(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        ids = [int(a) for a in args if isinstance(a, (int, float, str)) and str(a).isdigit()]
        cancelled = []
        for run_id, job in list(runs.active.items()):
            if not ids or run_id in ids:
                job.cancel()
                cancelled.append(run_id)
        return {"cancelled": cancelled}

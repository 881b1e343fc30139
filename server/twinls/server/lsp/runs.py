"""Server: the run state of one server; latest results, failure diagnostics, lens titles.

:class:`Runs` is what ``lenses.py``'s handlers keep between requests (one per server,
``ls.part(Runs)``): the latest result of every test and example by file, the
diagnostics each failing test published, the runs in flight and the lenses they
make spin, and each lens's last run (its wall time, what it said when it ran no
test). It turns a run's events into the client's view: ``CodeLens`` commands and
titles (``titles.py``), ``$/progress`` reports, diagnostics through the one board
(``diagnostics.py``), and the URIs of the command's structured answer.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from lsprotocol import types

from ...shared import results
from ...shared.paths import root_of
from ...shared.schema import LensArgument, lens_payload
from ...shared.textbuf import from_codepoints, split_lines
from ..plan import Durations, Run, Target
from . import titles
from .diagnostics import TESTS, board
from .progress import WorkDone
from .server import TwinLanguageServer

RUN_TEST = "twinls.runTest"
RUN_EXAMPLE = "twinls.runExample"
RUN_FILE = "twinls.runFile"
RUN_AT = "twinls.runAt"
RUN_FOLDER = "twinls.runFolder"
CANCEL_RUN = "twinls.cancelRun"
REFRESH_EVERY = 0.25  # seconds between lens refreshes while results stream in


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
        self._refresh: asyncio.TimerHandle | None = None
        #: (path, kind, qualname) -> the last finished run of that lens (no tests kept)
        self.last: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.run_of: dict[str, int] = {}  # node id -> the run its latest result came from
        self.walls: dict[int, float] = {}  # run id -> wall time, once it ended

    @property
    def icons(self) -> titles.Icons:
        name = getattr(self.ls, "client_name", None)  # clientInfo.name, set at initialize
        return titles.icons_for(name, self.ls.options.get("lensIcons"))

    # -- lenses -----------------------------------------------------------------------

    def lens(self, path: str, unit: dict[str, Any], lines: list[str]) -> types.CodeLens:
        uri = self.ls.uri_of(path)
        title = self.title(path, unit)
        kind = unit["kind"]
        arg = LensArgument(uri=uri, line=unit["line"])
        if kind == "file":
            command = RUN_FILE
        elif kind == "example":
            command = RUN_EXAMPLE
            arg.name, arg.qualname, arg.mode = unit["name"], unit["qualname"], unit["mode"]
        else:
            command = RUN_TEST
            root = self._root(path)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            arg.name, arg.qualname, arg.kind = unit["name"], unit["qualname"], kind
            arg.nodeid = f"{rel}::{unit['qualname']}"
        line_text = lines[unit["line"]] if unit["line"] < len(lines) else ""
        enc = self.ls.encoding
        start = types.Position(unit["line"], from_codepoints(line_text, unit["col"], enc))
        end = types.Position(unit["line"], from_codepoints(line_text, unit["end_col"], enc))
        return types.CodeLens(
            range=types.Range(start, end),
            command=types.Command(title=title, command=command, arguments=[lens_payload(arg)]),
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
        return split_lines(text or "")  # LSP's lines: a form feed breaks none

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

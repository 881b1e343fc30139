"""Server: the run state of one server; ties its pieces (``runstate/``) to a run's events.

:class:`Runs` is what ``lenses.py``'s handlers keep between requests (one per server,
``ls.part(Runs)``). Each piece has one job: the latest results (``runstate/latest``),
failure diagnostics (``failures``), the runs in flight (``flight``), each lens's last
run and wall time (``history``), lens refreshes (``refresh``) and the command's answer
(``answer``). ``Runs`` routes a run's events to them and builds the client's view:
``CodeLens`` commands and titles (``titles.py``) and ``$/progress`` reports.
"""

from __future__ import annotations

import os
from typing import Any

from lsprotocol import types

from ...shared.paths import root_of
from ...shared.schema import LensArgument, RunResult, lens_payload
from ...shared.textbuf import from_codepoints
from ..plan import Durations, Homes, Run, Target
from . import titles
from .progress import WorkDone
from .runstate import answer
from .runstate.failures import FailureDiagnostics, editor_lines
from .runstate.flight import InFlight, LensKey
from .runstate.history import LensHistory
from .runstate.latest import LatestResults
from .runstate.refresh import LensRefresh
from .server import TwinLanguageServer

RUN_TEST = "twinls.runTest"
RUN_EXAMPLE = "twinls.runExample"
RUN_FILE = "twinls.runFile"
RUN_AT = "twinls.runAt"
RUN_FOLDER = "twinls.runFolder"
CANCEL_RUN = "twinls.cancelRun"


def lens_key(target: Target) -> LensKey:
    """The lens a run of ``target`` belongs to."""
    return (target.path, target.kind, target.qualname)


class Runs:
    """The server's memory of runs, in pieces with one job each."""

    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.durations = Durations()
        self.homes = Homes()  # which twin holds each test file's zygote
        self.latest = LatestResults()
        self.failures = FailureDiagnostics(ls)
        self.flight = InFlight()
        self.history = LensHistory()
        self.refresh = LensRefresh(ls)

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
            root = root_of(path, self.ls.pool.roots if self.ls.pool else self.ls.roots())
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
        key = (path, kind, qual)
        icons = self.icons
        if self.flight.is_running(key):
            return titles.running(icons)
        entries = self.latest.of_lens(path, kind, qual)
        last = self.history.last.get(key)
        wall = self.history.wall_of(key, entries, self.latest.run_of)
        text = titles.of_tests(icons, entries, wall, example=kind == "example")
        if text is None and last is not None and not last["tests"]:
            text = titles.of_run(icons, last)
        return text or titles.base(icons, kind)

    def lines(self, path: str) -> list[str]:
        """The editor's text of ``path`` (the server's mirror, else the disk), in lines."""
        return editor_lines(self.ls, path)

    def schedule_refresh(self, now: bool = False) -> None:
        """Ask the client to re-request lenses (throttled, see ``runstate/refresh``)."""
        self.refresh.schedule(now)

    # -- a run's events ---------------------------------------------------------------

    def on_event(self, run: Run, msg: dict[str, Any], bars: list[WorkDone]) -> None:
        """One event from a run's children (on the event loop)."""
        if msg["k"] == "result":
            self.record(run, msg["test"])
            self.schedule_refresh()
        elif msg["k"] == "failing":  # before its teardown: its result replaces this
            self.failures.diagnose(msg["test"], msg["test"].get("file") or run.target.path)
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
        """A test's or example's result: the latest of it, and its diagnostics."""
        file = entry.get("file") or run.target.path
        self.latest.record(file, entry, run.id, example=run.target.kind == "example")
        self.failures.diagnose(entry, file)

    def finished(self, run: Run, result: dict[str, Any]) -> None:
        """A run ended: its wall time for titles, and what it said when it ran no test."""
        self.history.finished(lens_key(run.target), run.id, result, self.latest.runs())

    def clear_scope(self, target: Target, seen: set[str]) -> None:
        """After a run: forget results and diagnostics of tests in its scope it did not see."""
        if target.kind == "example":
            return
        self.latest.forget(target, seen)
        self.failures.forget(target, seen)

    def public(self, result: dict[str, Any]) -> RunResult:
        """The command's answer: URIs instead of paths, internal keys dropped."""
        return answer.public(self.ls, result)

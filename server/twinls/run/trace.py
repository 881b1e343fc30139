"""Run child: what each test executed (in the executor), for live tests' affected-test map.

Loaded as a pytest plugin when a run is asked to ``record`` (live mode). Per
test it records the code objects that started (function granularity is what
the map needs: ``shared/units.py``), maps them to the workspace's units through
the overlay's text, and the workspace lines that ran (line coverage:
``server/statements.py`` knows which lines count), and sends one ``executed``
event after the test's result; after collection, one ``imports`` event names
the workspace files imported so far (a module-level change re-runs the tests of
files collected after it) and, when this child collected, the lines collection
ran (module-level statements: imports, defs, constants).

One tracer per process, the interpreter's own (:class:`Codes`):
``sys.monitoring`` on 3.12+, ``sys.settrace`` before; it is installed and
removed here only. Nothing is written anywhere but the run's socket. Live runs also ask
for a lower CPU priority (``nice``) and a selection of exact tests (``select``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from types import CodeType, FrameType
from typing import Any

import pytest

from ..shared.paths import in_workspace
from ..shared.units import FileUnits, parse

Emit = Callable[[dict[str, Any]], None]
Read = Callable[[str], "str | None"]


class Codes:
    """Code objects started and workspace lines run while armed (one tracer per process).

    ``sys.monitoring`` (3.12+): ``PY_START``, and ``LINE`` turned on for the
    workspace's code objects only; each event is disabled at its location after the
    first hit and re-armed per test (``restart_events``), so a hot loop costs one event
    per line per test. Before 3.12, ``sys.settrace``: a call event records the code;
    only a workspace file's frames get a local tracer (line events), every other
    frame runs untraced. If another tracer holds ``sys.settrace`` (pytest-cov, a
    debugger), it keeps it: ``sys.setprofile`` records the functions, no lines.
    """

    def __init__(self, wanted: Callable[[str], bool] | None = None) -> None:
        self.seen: set[CodeType] = set()
        self.lines: set[tuple[str, int]] = set()
        self.wanted = wanted or (lambda path: False)  # files whose lines are recorded
        self._wanted: dict[str, bool] = {}
        self.tool: int | None = None
        self.profiling = False  # before 3.12, with sys.settrace taken: functions only
        mon = getattr(sys, "monitoring", None)
        if mon is not None:
            for tool in (mon.COVERAGE_ID, mon.PROFILER_ID, 4, 5):
                if mon.get_tool(tool) is None:
                    mon.use_tool_id(tool, "twinls-live")
                    mon.register_callback(tool, mon.events.PY_START, self._start)
                    mon.register_callback(tool, mon.events.LINE, self._line)
                    self.tool = tool
                    break

    def _in(self, path: str) -> bool:
        known = self._wanted.get(path)
        if known is None:
            known = self._wanted[path] = self.wanted(path)
        return known

    def _start(self, code: CodeType, offset: int) -> Any:
        self.seen.add(code)
        if self._in(code.co_filename):  # line events for the workspace's code only
            sys.monitoring.set_local_events(self.tool, code, sys.monitoring.events.LINE)  # type: ignore[arg-type]
        return sys.monitoring.DISABLE

    def _line(self, code: CodeType, line: int) -> Any:
        self.lines.add((code.co_filename, line))
        return sys.monitoring.DISABLE

    def _trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event != "call":
            return None
        code = frame.f_code
        self.seen.add(code)
        return self._local if self._in(code.co_filename) else None

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self.seen.add(frame.f_code)

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines.add((frame.f_code.co_filename, frame.f_lineno))
        return self._local

    def arm(self) -> None:
        self.seen = set()
        self.lines = set()
        if self.tool is not None:
            mon = sys.monitoring
            mon.restart_events()
            mon.set_events(self.tool, mon.events.PY_START)
        elif sys.gettrace() is not None:
            self.profiling = True
            threading.setprofile(self._profile)
            sys.setprofile(self._profile)
        else:
            threading.settrace(self._trace)
            sys.settrace(self._trace)

    def disarm(self) -> tuple[set[CodeType], set[tuple[str, int]]]:
        if self.tool is not None:
            sys.monitoring.set_events(self.tool, 0)
        elif self.profiling:
            self.profiling = False
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
        else:
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]
        seen, self.seen = self.seen, set()
        lines, self.lines = self.lines, set()
        return seen, lines


class Recorder:
    """The pytest plugin: per-test executed units, collection-time imports, selection."""

    def __init__(self, emit: Emit, read: Read, roots: list[str], select: Any = None) -> None:
        self.emit = emit
        self.read = read
        self.roots = roots
        self.codes = Codes(lambda path: in_workspace(path, roots))
        self.files: dict[str, FileUnits | None] = {}
        self.select = select  # {"folders", "files", "nodeids"} or None: everything
        self.collecting = False  # armed for collection (a cold run's own)

    def pytest_configure(self, config: pytest.Config) -> None:
        """One file that does not import must not stop a live run of all the others."""
        config.option.continue_on_collection_errors = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """A live run's tests: whole files, plus exact tests (a case, or all its cases)."""
        if not self.select:
            return
        folders = [f.rstrip(os.sep) + os.sep for f in self.select.get("folders") or ()]
        files = set(self.select.get("files") or ())
        nodeids = set(self.select.get("nodeids") or ())
        skip = set(self.select.get("skip") or ())  # a folder's files other children run

        def wanted(item: pytest.Item) -> bool:
            path = str(item.path)
            if path in files or (path not in skip and any(path.startswith(f) for f in folders)):
                return True
            return item.nodeid in nodeids or item.nodeid.split("[")[0] in nodeids

        items[:] = [i for i in items if wanted(i)]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """Collection imports the workspace's modules: their module-level lines run here."""
        self.codes.arm()
        self.collecting = True

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        lines: dict[str, list[int]] | None = None
        if self.collecting:  # (a warm run's zygote collected before this plugin came)
            self.collecting = False
            lines = self.by_file(self.codes.disarm()[1])
        files = sorted(
            {
                os.path.abspath(f)
                for m in list(sys.modules.values())
                if (f := getattr(m, "__file__", None)) and in_workspace(f, self.roots)
            }
        )
        tests = sorted({str(i.path) for i in session.items})
        event: dict[str, Any] = {"k": "imports", "tests": tests, "files": files}
        if lines is not None:
            event["lines"] = lines
        self.emit(event)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Any) -> Iterator[Any]:
        self.codes.arm()
        try:
            return (yield)
        finally:
            seen, lines = self.codes.disarm()
            self.emit(
                {
                    "k": "executed",
                    "nodeid": item.nodeid,
                    "file": str(item.path),
                    "units": self.units(seen),
                    "lines": self.by_file(lines),
                }
            )

    def units(self, codes: set[CodeType]) -> dict[str, list[str]]:
        """Workspace file -> the units these code objects belong to."""
        out: dict[str, set[str]] = {}
        for code in codes:
            path = code.co_filename
            if path not in self.files:
                self.files[path] = self._parse(path)
            parsed = self.files[path]
            if parsed is not None:
                out.setdefault(path, set()).add(parsed.unit_at(code.co_firstlineno))
        return {p: sorted(u) for p, u in out.items()}

    def by_file(self, lines: set[tuple[str, int]]) -> dict[str, list[int]]:
        """Workspace file -> the lines run in it (numbers of the overlay's text)."""
        out: dict[str, list[int]] = {}
        for path, line in lines:
            out.setdefault(path, []).append(line)
        return {p: sorted(n) for p, n in sorted(out.items())}

    def _parse(self, path: str) -> FileUnits | None:
        if not in_workspace(path, self.roots):
            return None
        text = self.read(path)
        if text is None:
            return None
        try:
            return parse(text, path)
        except SyntaxError:
            return None


def plugins(job: dict[str, Any], emit: Emit, read: Read, roots: list[str]) -> list[Any]:
    """The plugins a job asks for (none for an ordinary run); lowers a live run's priority."""
    if job.get("nice"):
        try:
            os.nice(int(job["nice"]))
        except OSError:
            pass
    if not (job.get("record") or job.get("select")):
        return []
    return [Recorder(emit, read, roots, job.get("select"))]

"""Run child: what each test executed (in the executor), for live tests' affected-test map.

Loaded as a pytest plugin when a run is asked to ``record`` (live mode). Per
test it records the code objects that started (function granularity is what
the map needs: ``shared/units.py``), maps them to the workspace's units through
the overlay's text, and sends one ``executed`` event after the test's result;
after collection, one ``imports`` event names the workspace files imported so
far (a module-level change re-runs the tests of files collected after it).

The tracer is the interpreter's own: ``sys.monitoring`` on 3.12+ (``PY_START``,
disabled per code object after its first hit and re-armed per test, so a hot
loop costs nothing), ``sys.setprofile`` before (call events only, no line
events). Nothing is written anywhere but the run's socket. Live runs also ask
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
    """The set of code objects started while armed (one tracer per process)."""

    def __init__(self) -> None:
        self.seen: set[CodeType] = set()
        self.tool: int | None = None
        mon = getattr(sys, "monitoring", None)
        if mon is not None:
            for tool in (mon.COVERAGE_ID, mon.PROFILER_ID, 4, 5):
                if mon.get_tool(tool) is None:
                    mon.use_tool_id(tool, "twinls-live")
                    mon.register_callback(tool, mon.events.PY_START, self._start)
                    self.tool = tool
                    break

    def _start(self, code: CodeType, offset: int) -> Any:
        self.seen.add(code)
        return sys.monitoring.DISABLE

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self.seen.add(frame.f_code)

    def arm(self) -> None:
        self.seen = set()
        if self.tool is not None:
            sys.monitoring.restart_events()
            sys.monitoring.set_events(self.tool, sys.monitoring.events.PY_START)
        else:
            threading.setprofile(self._profile)
            sys.setprofile(self._profile)

    def disarm(self) -> set[CodeType]:
        if self.tool is not None:
            sys.monitoring.set_events(self.tool, 0)
        else:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
        seen, self.seen = self.seen, set()
        return seen


class Recorder:
    """The pytest plugin: per-test executed units, collection-time imports, selection."""

    def __init__(self, emit: Emit, read: Read, roots: list[str], select: Any = None) -> None:
        self.emit = emit
        self.read = read
        self.roots = roots
        self.codes = Codes()
        self.files: dict[str, FileUnits | None] = {}
        self.select = select  # {"folders", "files", "nodeids"} or None: everything

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

        def wanted(item: pytest.Item) -> bool:
            path = str(item.path)
            if path in files or any(path.startswith(f) for f in folders):
                return True
            return item.nodeid in nodeids or item.nodeid.split("[")[0] in nodeids

        items[:] = [i for i in items if wanted(i)]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        files = sorted(
            {
                os.path.abspath(f)
                for m in list(sys.modules.values())
                if (f := getattr(m, "__file__", None)) and in_workspace(f, self.roots)
            }
        )
        tests = sorted({str(i.path) for i in session.items})
        self.emit({"k": "imports", "tests": tests, "files": files})

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Any) -> Iterator[Any]:
        self.codes.arm()
        try:
            return (yield)
        finally:
            seen = self.codes.disarm()
            self.emit(
                {
                    "k": "executed",
                    "nodeid": item.nodeid,
                    "file": str(item.path),
                    "units": self.units(seen),
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

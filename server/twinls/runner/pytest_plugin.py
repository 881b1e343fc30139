"""The pytest plugin a run child loads: every test's result, streamed as it happens.

It reports in pytest's own terms (each phase's category from
``pytest_report_teststatus``) so outcomes and counts match a plain pytest run,
and keeps the traceback's frames so a failure points at the workspace line
that failed, not at a line inside pytest.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from .paths import in_workspace
from .results import combine, test_entry

Emit = Callable[[dict[str, Any]], None]

_FILE_LINE = re.compile(
    r'(?:File "(?P<a>[^"]+)", line (?P<b>\d+))|(?:^(?P<c>[^\s:]+\.py):(?P<d>\d+))', re.M
)


class Reporter:
    def __init__(
        self,
        emit: Emit,
        roots: list[str],
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
    ) -> None:
        self.emit = emit
        self.roots = roots
        self.include = set(include or ())
        self.exclude = set(exclude or ())
        self.config: pytest.Config | None = None
        self.items: dict[str, pytest.Item] = {}
        self.phases: dict[str, dict[str, Any]] = {}
        self.frames: dict[tuple[str, str], list[tuple[str, int]]] = {}
        self.reported: set[str] = set()

    # -- collection ---------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Exact node ids for a shard of a split run (``--deselect`` matches prefixes)."""
        if not (self.include or self.exclude):
            return
        keep, drop = [], []
        for item in items:
            wanted = item.nodeid in self.include if self.include else True
            (keep if wanted and item.nodeid not in self.exclude else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        items = []
        for item in session.items:
            self.items[item.nodeid] = item
            items.append({"nodeid": item.nodeid, "file": str(item.path), "line": _line(item)})
        self.emit({"k": "collected", "items": items})

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not (report.failed or (report.skipped and _is_file_report(report))):
            return
        outcome = "error" if report.failed else "skipped"
        text = report.longreprtext or ""
        path, line = self._location_in_text(text)
        file = str(report.fspath) if report.fspath else None
        if file and not os.path.isabs(file) and self.config is not None:
            file = str(self.config.rootpath / file)
        self.emit(
            {
                "k": "result",
                "test": test_entry(
                    report.nodeid or (file or "collection"),
                    file,
                    outcome=outcome,
                    message=_collect_message(report, text),
                    traceback=text,
                    path=path or file,
                    line=line,
                ),
            }
        )

    # -- tests ------------------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.emit({"k": "start", "nodeid": nodeid})

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]):
        report = yield
        if call.excinfo is not None:
            frames = []
            for entry in call.excinfo.traceback:
                path = str(entry.path)
                if in_workspace(path, self.roots):
                    frames.append((path, entry.lineno))
            self.frames[(item.nodeid, call.when)] = frames
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        assert self.config is not None
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        state = self.phases.setdefault(report.nodeid, {"start": time.monotonic()})
        state[report.when] = (category, report)
        if report.when == "teardown":
            self._finish(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for nodeid in list(self.phases):
            if nodeid not in self.reported:
                self._finish(nodeid)  # interrupted (pytest.exit, -x): report what ran

    def _finish(self, nodeid: str) -> None:
        self.reported.add(nodeid)
        state = self.phases.pop(nodeid)
        phases = {w: state[w] for w in ("setup", "call", "teardown") if w in state}
        cats = {w: c for w, (c, _) in phases.items()}
        outcome = combine(cats.get("setup", ""), cats.get("call"), cats.get("teardown", ""))
        last = list(phases.values())[-1][1]
        item = self.items.get(nodeid)
        file = str(item.path) if item is not None else None
        path, line = file, (_line(item) if item is not None else None)
        message = None
        failing = next((w for w, (c, r) in phases.items() if r.failed), None)
        if failing is not None:
            report = phases[failing][1]
            message = _crash_message(report)
            frames = self.frames.get((nodeid, failing), [])
            if frames:
                path, line = frames[-1]
        elif outcome in ("skipped", "xfailed"):
            report = next(r for c, r in phases.values() if r.skipped)
            message = _skip_message(report)
        trace = [{"path": p, "line": n} for p, n in self.frames.get((nodeid, failing or ""), [])]
        self.emit(
            {
                "k": "result",
                "test": test_entry(
                    nodeid,
                    file,
                    name=item.name if item is not None else nodeid.rpartition("::")[2],
                    outcome=outcome,
                    categories=[c for c in cats.values() if c],
                    duration=sum(r.duration for _, r in phases.values()),
                    stdout=last.capstdout,
                    stderr=last.capstderr,
                    message=message,
                    traceback=last.longreprtext if failing else None,
                    path=path,
                    line=line,
                    trace=trace,
                ),
            }
        )

    def _location_in_text(self, text: str) -> tuple[str | None, int | None]:
        """The last workspace ``file:line`` a collection error's text names."""
        found: tuple[str | None, int | None] = (None, None)
        for m in _FILE_LINE.finditer(text):
            path = m.group("a") or m.group("c")
            line = int(m.group("b") or m.group("d"))
            if path and not os.path.isabs(path) and self.config is not None:
                path = str(self.config.rootpath / path)
            if path and in_workspace(os.path.abspath(path), self.roots):
                found = (os.path.abspath(path), line - 1)
        return found


def _line(item: pytest.Item) -> int | None:
    try:
        return item.location[1]
    except Exception:
        return None


def _is_file_report(report: pytest.CollectReport) -> bool:
    return "::" not in (report.nodeid or "")


def _crash_message(report: Any) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and crash.message:
        return str(crash.message)
    text = report.longreprtext or ""
    return _last_error_line(text) or "failed"


def _skip_message(report: Any) -> str | None:
    if getattr(report, "wasxfail", None):
        return f"XFAIL {report.wasxfail}".strip()
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return None


def _collect_message(report: Any, text: str) -> str:
    """The exception line (``SyntaxError: ...``), not the traceback above it."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    errors = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    return (errors[-1] if errors else _last_error_line(text)) or "collection failed"


def _last_error_line(text: str) -> str | None:
    """The ``E   SomeError: ...`` lines of a pytest failure text, else its last line."""
    errors = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    if errors:
        return "\n".join(errors)
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else None


class CacheOptionsIgnored:
    """Accept the options of the plugins a run blocks, so a project's ``addopts`` still parse.

    Runs load no ``cacheprovider`` (it writes ``.pytest_cache``) and with it no
    ``stepwise``; a project whose ``addopts`` say ``--ff`` or ``--sw`` would
    otherwise get a usage error on every run. Here they are accepted and do
    nothing: a run runs what was asked for.
    """

    FLAGS = (
        ("--lf", "--last-failed"),
        ("--ff", "--failed-first"),
        ("--nf", "--new-first"),
        ("--cache-clear",),
        ("--sw", "--stepwise"),
        ("--sw-skip", "--stepwise-skip"),
        ("--sw-reset", "--stepwise-reset"),
    )

    def pytest_addoption(self, parser: pytest.Parser) -> None:
        group = parser.getgroup("twinls", "ignored in twinls runs (no cache is kept)")
        for names in self.FLAGS:
            group.addoption(*names, action="store_true", dest=f"twinls_{names[0][2:]}")
        group.addoption("--cache-show", action="append", nargs="?", dest="twinls_cache_show")
        group.addoption("--lfnf", "--last-failed-no-failures", action="store", dest="twinls_lfnf")
        parser.addini("cache_dir", default=".pytest_cache", help="(unused in twinls runs)")

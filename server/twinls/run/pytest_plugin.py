"""Run child: the pytest plugin it loads; every test's result, streamed as it happens.

It reports in pytest's own terms (each phase's category from
``pytest_report_teststatus``) so outcomes and counts match a plain pytest run,
and keeps the traceback's frames so a failure points at the workspace line
that failed, not at a line inside pytest. A test's ``result`` goes once its
teardown is done; a failing setup or call is said at once (``failing``), so the
editor shows it while the fixtures are still torn down and the next test runs.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from ..shared.paths import in_workspace
from ..shared.results import combine, test_entry

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
        self.last_frames: list[tuple[str, int]] = []
        self.subtests: dict[str, list[dict[str, Any]]] = {}
        self.reported: set[str] = set()
        self.deselected = 0  # by the project's own selection (-m, -k, --deselect), not shards
        self.warnings = 0
        self.extra_stderr: dict[str, str] = {}  # node id -> faulthandler_timeout dumps
        self.started = False  # a session began (usage and config errors come before one)

    # -- collection ---------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = True

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
            items[:] = keep  # not pytest_deselected: a shard's split is not the user's selection

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str) -> None:
        self.warnings += 1  # what pytest's closing line counts as "N warnings"

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
        frames = self._workspace_frames(call.excinfo)  # as pytest cut them for its report
        # A subtest's report is made here too, then logged: it takes these frames.
        self.frames[(item.nodeid, call.when)] = self.last_frames = frames
        return report

    def _workspace_frames(self, excinfo: Any) -> list[tuple[str, int]]:
        frames = []
        if excinfo is not None:
            for entry in excinfo.traceback:
                path = str(entry.path)
                if in_workspace(path, self.roots):
                    frames.append((path, entry.lineno))
        return frames

    @pytest.hookimpl(specname="pytest_runtest_makereport")
    def pytest_runtest_makereport_failing(
        self, item: pytest.Item, call: pytest.CallInfo[Any]
    ) -> None:
        """The early word of a failed setup or call, before pytest formats its report.

        Formatting a failure (its source context) can take longer than the test: the
        editor hears of it first. An expected failure (``xfail``), a skip or an exit
        says nothing here; the test's ``result`` follows after its teardown. A plain
        implementation: after ``unittest``'s (``tryfirst``: it sets a ``TestCase``'s
        ``call.excinfo``), before the runner's (which makes the report).
        """
        excinfo = call.excinfo
        if excinfo is None or call.when not in ("setup", "call"):
            return
        failed = isinstance(excinfo.value, (Exception, pytest.fail.Exception))
        if not failed or item.get_closest_marker("xfail") is not None:
            return  # a skip, an exit, or what pytest may count as expected
        frames = self._workspace_frames(excinfo)
        file = str(item.path)
        path, line = frames[-1] if frames else (file, _line(item))
        entry = test_entry(
            item.nodeid,
            file,
            name=item.name,
            outcome="failed" if call.when == "call" else "error",
            message=excinfo.exconly(tryshort=True),
            path=path,
            line=line,
            trace=[{"path": p, "line": n} for p, n in frames],
        )
        self.emit({"k": "failing", "test": entry})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        assert self.config is not None
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        if _is_subtest(report):
            self._subtest(report, category)
            return
        state = self.phases.setdefault(report.nodeid, {"start": time.monotonic()})
        state[report.when] = (category, report)
        if report.when == "teardown":
            self._finish(report.nodeid)

    def _subtest(self, report: Any, category: str) -> None:
        """One ``subtests.test()`` / ``self.subTest()`` block: kept for its test's entry."""
        frames = self.last_frames if report.failed else []
        item = self.items.get(report.nodeid)
        path, line = (str(item.path) if item else None), (_line(item) if item else None)
        if frames:
            path, line = frames[-1]
        outcome = "failed" if report.failed else ("skipped" if report.skipped else "passed")
        if getattr(report, "wasxfail", None) is not None and report.skipped:
            outcome = "xfailed"
        message = _crash_message(report) if report.failed else None
        if report.skipped and message is None:
            message = _skip_message(report)
        self.subtests.setdefault(report.nodeid, []).append(
            {
                "name": subtest_name(report.context),
                "outcome": outcome,
                "category": category,
                "duration": report.duration,
                "message": message,
                "traceback": report.longreprtext if report.failed else None,
                "stdout": report.capstdout,
                "stderr": report.capstderr,
                "path": path,
                "line": line,
                "trace": [{"path": p, "line": n} for p, n in frames],
            }
        )

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
        subtests = self.subtests.pop(nodeid, [])
        message = None
        failing = next((w for w, (c, r) in phases.items() if r.failed), None)
        sub_failed = [s for s in subtests if s["outcome"] == "failed"]
        trace = [{"path": p, "line": n} for p, n in self.frames.get((nodeid, failing or ""), [])]
        if failing is not None and not (sub_failed and _only_summary(phases[failing][1])):
            report = phases[failing][1]
            message = _crash_message(report)
            frames = self.frames.get((nodeid, failing), [])
            if frames:
                path, line = frames[-1]
        elif sub_failed:  # a failing subtest fails its test, wherever pytest counts it
            first = sub_failed[0]
            message = f"{first['name']}: {first['message']}"
            path, line, trace = first["path"], first["line"], first["trace"]
        elif outcome in ("skipped", "xfailed"):
            report = next(r for c, r in phases.values() if r.skipped)
            message = _skip_message(report)
        if sub_failed and outcome in ("passed", "xpassed"):
            outcome = "failed"
        errors = [
            {"when": w, "message": _crash_message(r), "traceback": r.longreprtext}
            for w, (c, r) in phases.items()
            if r.failed
        ]
        tracebacks = [e["traceback"] for e in errors if e["traceback"]]
        tracebacks = [s["traceback"] for s in sub_failed if s["traceback"]] + [
            t for t in tracebacks if not (sub_failed and t.startswith("contains "))
        ]
        self.emit(
            {
                "k": "result",
                "test": test_entry(
                    nodeid,
                    file,
                    name=item.name if item is not None else nodeid.rpartition("::")[2],
                    outcome=outcome,
                    categories=[c for c in cats.values() if c]
                    + [s["category"] for s in subtests if s["category"]],
                    duration=sum(r.duration for _, r in phases.values()),
                    stdout=last.capstdout,
                    stderr=last.capstderr + self.extra_stderr.pop(nodeid, ""),
                    message=message,
                    traceback="\n\n".join(tracebacks) or None,
                    path=path,
                    line=line,
                    trace=trace,
                    errors=errors,
                    subtests=subtests,
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


def subtest_name(context: Any) -> str:
    """How pytest names a subtest: ``[msg] (i=1, j=2)``, else ``(<subtest>)``."""
    parts = []
    if context.msg is not None:
        parts.append(f"[{context.msg}]")
    if context.kwargs:
        parts.append("(" + ", ".join(f"{k}={v}" for k, v in context.kwargs.items()) + ")")
    return " ".join(parts) or "(<subtest>)"


def _is_subtest(report: Any) -> bool:
    """pytest 9's ``SubtestReport`` (``subtests`` fixture, ``unittest`` ``subTest``)."""
    return isinstance(report, getattr(pytest, "SubtestReport", ()))


def _only_summary(report: Any) -> bool:
    """pytest's own "contains N failed subtests" failure: the subtests say more."""
    return isinstance(report.longrepr, str) and report.longrepr.startswith("contains ")


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


class FaulthandlerTimeout:
    """pytest's ``faulthandler`` plugin, less the fatal-signal handler the executor owns.

    Runs block the built-in plugin (it would point the crash dump at the twin's
    stderr). This one registers its ini keys, so a project that sets
    ``faulthandler_timeout`` runs under ``--strict-config`` and
    ``filterwarnings = error``, and keeps what the key does: a test still running
    after that many seconds has every thread's stack dumped, here into memory (a
    memfd, never a file) and added to the test's stderr, where a plain run prints
    it on the terminal. With ``faulthandler_exit_on_timeout`` the dump goes to the
    supervisor's stack pipe instead: the process exits and the supervisor reports
    the test as crashed, stack included.
    """

    def __init__(self, reporter: Reporter, stack_fd: int | None) -> None:
        self.reporter = reporter
        self.stack_fd = stack_fd
        self.dumps: dict[str, int] = {}  # node id -> memfd holding its timeout dump

    def pytest_addoption(self, parser: pytest.Parser) -> None:
        parser.addini(
            "faulthandler_timeout",
            "Dump the traceback of all threads if a test takes more than TIMEOUT seconds",
            default="0",
        )
        parser.addini(
            "faulthandler_exit_on_timeout",
            "Exit the test process if a test takes more than faulthandler_timeout seconds",
            type="bool",
            default=False,
        )

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
        import faulthandler

        timeout = float(item.config.getini("faulthandler_timeout") or 0.0)
        if timeout <= 0:
            return (yield)
        leave = bool(item.config.getini("faulthandler_exit_on_timeout"))
        if leave and self.stack_fd is not None:
            fd = self.stack_fd
        else:
            fd = os.memfd_create("twinls-faulthandler")
            self.dumps[item.nodeid] = fd
        faulthandler.dump_traceback_later(timeout, file=fd, exit=leave)
        try:
            return (yield)
        finally:
            faulthandler.cancel_dump_traceback_later()
            self._take(item.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":  # before the reporter sends the test's result
            self._take(report.nodeid)

    def _take(self, nodeid: str) -> None:
        fd = self.dumps.pop(nodeid, None)
        if fd is None:
            return
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        os.close(fd)
        if chunks:
            text = b"".join(chunks).decode("utf-8", "replace")
            self.reporter.extra_stderr[nodeid] = self.reporter.extra_stderr.get(nodeid, "") + text


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


# -- the session as a whole ------------------------------------------------------------

_HEADER = re.compile(r"^=+ (?P<title>.+?) =+$")


def session_end(reporter: Reporter, code: int, output: str) -> dict[str, Any]:
    """What the run's ``end`` carries about the pytest session as a whole.

    ``exitcode`` is pytest's; ``message`` the run-level error as pytest printed
    it (not found, usage, config, internal errors, an interrupted collection),
    else None; ``deselected`` and ``warnings`` the closing line's counts that
    belong to no test; ``warnings_text`` pytest's "warnings summary" section;
    ``started`` whether a session began (pytest prints no closing line without).
    """
    return {
        "started": reporter.started,
        "message": run_error(output) if code in (2, 3, 4) else None,
        "exitcode": code,
        "deselected": reporter.deselected,
        "warnings": reporter.warnings,
        "warnings_text": section(output, "warnings summary"),
    }


def run_error(output: str) -> str:
    """pytest's own words for a run-level error, from its terminal output."""
    lines = output.rstrip().splitlines()
    internal = [ln for ln in lines if ln.startswith("INTERNALERROR>")]
    if internal:
        return "\n".join(internal)
    for i, ln in enumerate(lines):
        if ln.startswith("ERROR:") or ln.startswith("ImportError while loading conftest"):
            return "\n".join(lines[i:]).strip()
    for ln in lines:
        if "Interrupted:" in ln:
            return ln.strip("! ").strip()
    return "\n".join(lines[-20:]).strip() or "pytest stopped with no message"


def section(output: str, title: str) -> str | None:
    """One ``==== title ====`` section of pytest's terminal output, without its header."""
    lines = output.splitlines()
    start = next(
        (i for i, ln in enumerate(lines) if (m := _HEADER.match(ln)) and m["title"] == title),
        None,
    )
    if start is None:
        return None
    body = []
    for ln in lines[start + 1 :]:
        if _HEADER.match(ln):
            break
        body.append(ln)
    return "\n".join(body).strip() or None

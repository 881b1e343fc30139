"""Server: live tests, the tests an unsaved edit affects re-run as you type.

With ``liveTests`` on (initializationOptions, or ``twinls.toggleLiveTests``),
every edit of a workspace file cancels the live run still going (it is stale)
and, after ``DEBOUNCE`` seconds of quiet, compares the file's units before and
after (``shared/units.py``), asks the map which tests that touches
(``server/testmap.py``) and runs them in niced run children, recording what
each test executes, per function and per line (``run/trace.py``). The first run
covers the whole workspace (nothing is recorded yet), unless the server's cache
kept this folder's map from an earlier session (``server/mapstore.py``): then
only the tests of what changed since run at start (``changed``), and the kept
outcomes of the others are shown at once (``restored``: latest results,
diagnostics, lens titles, one ``twinls/runResults``). Why restore the outcomes
rather than re-run everything at low priority after: a test whose files are all
unchanged would give the same outcome again (that is what the map is trusted
for), so showing it at once costs nothing and shows no stale red; a background
baseline would take minutes of the cores on a real project, and every edit would
cancel it. The map is written (debounced, ``SAVE_DELAY``, encoded and written in
a thread; at ``shutdown`` if still waiting) only while it is the texts' (no
edit waiting or owed, no live run going), never with ``cache: false``.

Budget: at most ``liveMax`` children at once (initializationOptions; default
cores - 1, at least 1); a child beyond the budget waits until one ends
(:class:`LiveRun`). A selection of exact tests and files runs one child per
test file (``testmap.by_file``), so each is served by its file's collection
zygote (``twin/warm_sessions.py``: a run over several files collects cold),
swapped when the edit was body-only: the edited test files first, then the
fewest selected tests first, so the first results come soonest. A selection
that holds folders (the first run, a conftest's) is cut by test file into up
to ``liveMax`` parts (``testmap.split``; the twins' index lists a folder's
test files, and the part that keeps the folder runs whatever the index
missed), so they run side by side. Known limit: a selection over more test
files than the twin's ``warmMax`` (default 2) evicts zygotes in turn (least
recently used first), so the files beyond it collect again. ``twinls.status``'s
``live`` block says what runs and waits. ``twinls.coverage`` answers per
function and per line (``server/statements.py``: the executable statements).

Results land where a lens run's do (``server/lsp/lenses.py``: diagnostics at
the failing line, lens titles) and in a ``twinls/runResults`` notification
carrying the run commands' structured result. A live run waits while a search
is running (searches come first), and one still going when a search starts
yields to it: it is cancelled, what it had not finished is owed, and once no
search runs a ``resumed`` live run runs that.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from typing import Any

from ...shared import results
from ...shared.collect import is_test_module
from ...shared.digest import path_stamps
from ...shared.overlay import decode_source
from ...shared.paths import in_workspace, root_of
from ...shared.schema import (
    DEFAULTS,
    Coverage,
    CoveredFile,
    CoveredUnit,
    LiveState,
    LiveStatus,
    RunResults,
)
from ...shared.units import FileUnits, changed, parse
from .. import sizing, stubs
from ..mapstore import NAMESPACE, Restored, Snapshot, decode, encode, key, restore
from ..plan import Run, Target
from ..statements import statements
from ..testmap import Selection, TestMap, by_file, is_dependency_file, split
from . import app
from .kept import Kept
from .lenses import WAITERS
from .runs import Runs
from .search import Running
from .server import TwinLanguageServer

log = logging.getLogger(__name__)

TOGGLE = "twinls.toggleLiveTests"
COVERAGE = "twinls.coverage"
RUN_RESULTS = "twinls/runResults"
DEBOUNCE = 0.15  # seconds of quiet after an edit before the live run starts
AHEAD = 0.05  # seconds of quiet after which the edited files' units are worked out ahead
NICE = 10  # live run children's CPU priority, below the twins and the editor
SAVE_DELAY = 3.0  # seconds of live quiet before the map is written to the cache


class LiveRun(Run):
    """A run of exact specs (parts of one or more workspace folders), never split across
    twins, with at most ``most`` children at once: the others wait their turn."""

    def __init__(self, pool: Any, specs: list[dict[str, Any]], most: int, **kwargs: Any) -> None:
        root = specs[0]["root_hint"]
        super().__init__(pool, Target("folder", root), **kwargs)
        self.specs = specs
        self.most = max(1, most)
        self.waiting: list[dict[str, Any]] = []
        self.running = 0
        self.peak = 0
        self._budget = threading.Lock()
        self._all_started = threading.Event()

    def jobs(self) -> list[tuple[Any, dict[str, Any]]]:
        return [(None, {k: v for k, v in s.items() if k != "root_hint"}) for s in self.specs]

    def start(self) -> LiveRun:
        self.started = time.monotonic()
        self.waiting = [spec for _, spec in self.jobs()]
        self._fill()
        return self

    def _fill(self) -> None:
        """Start waiting children while the budget has room."""
        while True:
            with self._budget:
                if self.cancelled or not self.waiting:
                    self.waiting.clear()
                    self._all_started.set()
                    return
                if self.running >= self.most:
                    return
                spec = self.waiting.pop(0)
                self.running += 1
                self.peak = max(self.peak, self.running)
                last = not self.waiting
            try:
                promise = self.start_job(None, spec)
            except Exception:  # (no twin to take it): the rest is owed, as if cancelled
                log.exception("live run %s: a child did not start", self.id)
                with self._budget:
                    self.running -= 1
                self.cancel()
                return
            promise.on_done(self._ended)
            if last:
                self._all_started.set()

    def _ended(self) -> None:
        with self._budget:
            self.running -= 1
        self._fill()

    def cancel(self) -> None:
        with self._budget:
            self.cancelled = True
            self.waiting.clear()
        self._all_started.set()
        super().cancel()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        self._all_started.wait()
        return super().wait(timeout)


class Live:
    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.enabled: bool | None = None  # None: not read from the options yet
        self.maps: dict[str, TestMap] = {}
        self.before: dict[str, FileUnits | None] = {}
        self.pending: set[str] = set()
        self.timer: asyncio.TimerHandle | None = None
        #: path -> (the text, its units being worked out in a thread during the debounce)
        self.ahead: dict[str, tuple[str, asyncio.Future[FileUnits | None]]] = {}
        self.ahead_timer: asyncio.TimerHandle | None = None
        self.current: LiveRun | None = None
        self.task: asyncio.Task | None = None
        self.started = False  # the first (baseline) run was asked for
        #: What cancelled live runs were to run, per root: the next run runs it too.
        self.owed: dict[str, Selection] = {}
        self.yielded = False  # a search cancelled the live run: resume once none runs
        self.peak = 0  # most children live runs ever had at once
        self.ended = 0  # live runs ended
        self.cancelled = 0  # of which cancelled
        #: node id -> the last result a live run (or the kept map) gave it
        self.results: dict[str, dict[str, Any]] = {}
        self.restoring = False  # the kept maps are being read: edits wait for them
        self.restored = 0  # tests whose records were read back from the cache
        self.saved = 0  # maps written to the cache this session
        self.edits = 0  # relevant edits seen (a map written meanwhile is not the text's)
        self.save_timer: asyncio.TimerHandle | None = None
        #: root -> its twins' interpreter and ``sys.path`` stamps, as last asked (``flush``)
        self.interpreters: dict[str, tuple[str, list[str]]] = {}

    def most(self) -> int:
        """Run children live runs may use at once: ``liveMax``, else cores - 1, at least 1."""
        given = self.ls.options.get("liveMax")
        return int(given) if isinstance(given, int) and given >= 1 else max(1, sizing.cores() - 1)

    def status(self) -> LiveStatus:
        job = self.current
        return {
            "on": self.on(),
            "liveMax": self.most(),
            "running": job.running if job is not None else 0,
            "peak": max(self.peak, job.peak if job is not None else 0),
            "waiting": len(job.waiting) if job is not None else 0,
            "queued": max(0, job.total - job.done) if job is not None else 0,
            "owed": sum(len(s.folders) + len(s.files) + len(s.nodeids) for s in self.owed.values()),
            "runs": self.ended,
            "cancelled": self.cancelled,
            "restored": self.restored,
            "saved": self.saved,
        }

    # -- state ------------------------------------------------------------------------

    def on(self) -> bool:
        if self.enabled is None:
            self.enabled = self.ls.options.get("liveTests") is True
        return self.enabled

    def set(self, value: bool) -> None:
        was = self.on()
        self.enabled = value
        if value and not was:
            for m in self.maps.values():
                m.complete = False  # edits made while off are unknown: record everything again
            self.snapshot()
            self.schedule_baseline()
        elif not value:
            self.stale()
            self.pending.clear()
            self.ahead.clear()

    def roots(self) -> list[str]:
        pool = self.ls.pool
        return list(pool.roots) if pool is not None else self.ls.roots()

    def map_of(self, root: str) -> TestMap:
        if root not in self.maps:
            self.maps[root] = TestMap(root)
        return self.maps[root]

    def snapshot(self) -> None:
        """Units of every open document, as the 'before' of the next edit."""
        pool = self.ls.pool
        if pool is None:
            return
        for path in list(pool.mirror.docs):
            self.before[path] = self._parse(path)

    def read(self, path: str) -> str | None:
        """A file's text as the twins have it (the overlay's, else disk's)."""
        pool = self.ls.pool
        return pool.mirror.read_text(path) if pool is not None else None

    def exists(self, path: str) -> bool:
        return self.read(path) is not None

    def _parse(self, path: str) -> FileUnits | None:
        text = self.read(path)
        return None if text is None else self._parse_text(text, path)

    @staticmethod
    def _parse_text(text: str, path: str, reuse: FileUnits | None = None) -> FileUnits | None:
        try:
            return parse(text, path, reuse=reuse)
        except (SyntaxError, ValueError, RecursionError):  # ValueError: a NUL byte (3.11)
            return None

    def disk_text(self, path: str) -> str | None:
        """``path``'s text on disk (not an open document's)."""
        pool = self.ls.pool
        data = pool.mirror.read_disk(path) if pool is not None else None
        return None if data is None else decode_source(data)

    def listdir(self, path: str) -> list[str]:
        """A folder's names as the twins see it (unsaved new files in, hidden ones out)."""
        pool = self.ls.pool
        if pool is None:
            return []
        with pool.mirror.lock:  # (from a thread: the event loop's edits change the documents)
            return pool.mirror.listdir(path)

    # -- edits ------------------------------------------------------------------------

    def relevant(self, path: str) -> bool:
        if not in_workspace(path, self.roots()):
            return False
        return path.endswith(".py") or is_dependency_file(path)

    def on_edit(self, entry: dict[str, Any]) -> None:
        path, op = entry.get("path"), entry.get("op")
        if not isinstance(path, str) or not self.relevant(path):
            return
        self.edits += 1
        if not self.on():
            self.before.pop(path, None)  # its old text is unknown by the time live is on
            return
        if not self.started:
            self.snapshot()
            self.schedule_baseline()
        if op == "open" and path not in self.before and path.endswith(".py"):
            text = entry.get("text") or ""
            disk = self.disk_text(path)
            if disk is not None and disk != text:
                # Unsaved text (a restored editor's buffer): the runs and a kept map saw
                # the disk's, so this is an edit of it.
                self.before[path] = self._parse_text(disk, path)
            else:
                self.before[path] = self._parse_text(text, path)
                if is_test_module(path) and not self.recorded(path):
                    self.launch({path: None}, "unrecorded")  # its tests run once, to be mapped
                return
        if op == "save":
            return
        self.stale()
        self.pending.add(path)
        if self.timer is not None:
            self.timer.cancel()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(DEBOUNCE, self.fire)
        if self.ahead_timer is not None:
            self.ahead_timer.cancel()
        self.ahead_timer = loop.call_later(AHEAD, self.parse_ahead)

    def parse_ahead(self) -> None:
        """Parse the pending files' texts in a thread, so that ``fire`` finds them parsed.

        The run's path after the debounce was the ``ast`` parse of the edited module
        (~25 ms for a 4,800-line one, more on a loaded machine); a newer edit's text
        simply does not match and ``fire`` parses it itself.
        """
        self.ahead_timer = None
        loop = asyncio.get_running_loop()
        for path in sorted(self.pending):
            text = self.read(path) if path.endswith(".py") else None
            if text is None or (path in self.ahead and self.ahead[path][0] == text):
                continue
            units = loop.run_in_executor(None, self._parse_text, text, path, self.before.get(path))
            self.ahead[path] = (text, units)

    def units_of(self, path: str, text: str) -> FileUnits | None:
        """``text``'s units (None: it does not parse), from ``parse_ahead`` if it is done."""
        ahead = self.ahead.pop(path, None)
        if ahead is not None and ahead[0] == text and ahead[1].done() and not ahead[1].cancelled():
            return ahead[1].result()
        return self._parse_text(text, path, self.before.get(path))

    def recorded(self, test_file: str) -> bool:
        """Has any test of ``test_file`` been recorded (or is the map still filling)?"""
        m = self.maps.get(root_of(test_file, self.roots()))
        return m is None or not m.complete or test_file in m.test_file.values()

    def stale(self) -> None:
        """A newer edit: the live run still going ran the old text."""
        if self.current is not None:
            self.current.cancel()

    def fire(self) -> None:
        self.timer = None
        if self.searching() or self.restoring:
            self.timer = asyncio.get_running_loop().call_later(DEBOUNCE, self.fire)
            return
        changes: dict[str, set[str] | None] = {}
        for path in sorted(self.pending):
            if not path.endswith(".py"):
                changes[path] = None
                self.pending.discard(path)
                continue
            pool = self.ls.pool
            text = pool.mirror.read_text(path) if pool is not None else None
            if text is None:
                changes[path] = None
                self.before.pop(path, None)
                self.pending.discard(path)
                continue
            after = self.units_of(path, text)
            if after is None:
                continue  # mid-edit: wait for text that parses (the path stays pending)
            self.pending.discard(path)
            old = self.before.get(path)
            self.before[path] = after
            units = None if old is None else changed(old, after)
            if units is None or units:
                changes[path] = units
        if changes:
            self.launch(changes, "edit")
        else:  # nothing to run (a comment, say): the map is the new text's
            self.schedule_save()

    def searching(self) -> bool:
        return any(not t.done() for t in self.ls.part(Running).tasks.values())

    def on_search(self, task: asyncio.Task) -> None:
        """A search started: the live run still going yields (cancelled, its rest owed)."""
        if self.current is not None and not self.current.cancelled:
            self.current.cancel()
            self.yielded = True
        if self.yielded:
            task.add_done_callback(lambda _: self.resume())

    def resume(self) -> None:
        """Once no search runs and the yielded run has ended, run what it owed."""
        if not self.yielded or self.searching() or self.current is not None:
            return
        if self.task is not None and not self.task.done():
            return  # its end calls this again
        self.yielded = False
        if self.owed and self.timer is None:
            self.launch({}, "resumed")

    # -- runs -------------------------------------------------------------------------

    def schedule_baseline(self) -> None:
        self.started = True
        if self.restoring:
            return  # the kept maps being read: ``begin`` launches what is needed
        if not self.maps and self.kept() is not None:  # the session's first: kept maps?
            self.restoring = True
            asyncio.ensure_future(self.begin())
            return
        asyncio.get_running_loop().call_soon(self.launch, {}, "baseline")

    def kept(self) -> Kept | None:
        """The server's cache's owner, or None with ``cache: false``."""
        kept = self.ls.part(Kept)
        return kept if kept.cache is not None else None

    async def begin(self) -> None:
        """Read each folder's kept map back (``server/mapstore.py``); the folders with one
        run only what changed since (``restored``), the others their baseline."""
        restored: dict[str, Restored] = {}
        t0 = time.monotonic()
        try:
            pool = await self.ls.twin_pool()
            test_files = [m["path"] for m in await self.ls.ask(stubs.run_discover())]
            t1 = time.monotonic()
            for root in self.roots():
                found = await self.read_kept(pool, root, test_files)
                if found is not None:
                    restored[root] = found
            log.info(
                "live tests: kept maps of %d of %d folders read (%d tests, %d files changed)"
                " in %.2f s (test discovery %.2f s)",
                len(restored),
                len(self.roots()),
                sum(len(r.map.test_file) for r in restored.values()),
                sum(len(r.changes) for r in restored.values()),
                time.monotonic() - t0,
                t1 - t0,
            )
        except Exception:  # no twin, a twin died: as without a cache
            log.exception("live tests: the kept map was not read")
        finally:
            self.restoring = False
        changes: dict[str, set[str] | None] = {}
        for root, found in restored.items():
            self.maps[root] = found.map
            self.results.update(found.results)
            self.restored += len(found.map.test_file)
            changes.update(found.changes)
        if restored:
            self.show_restored(restored)
        if not self.on():  # turned off meanwhile: nothing runs (the maps stay for later)
            return
        baseline = any(root not in restored for root in self.roots())
        self.launch(changes, "baseline" if baseline else "changed")
        if self.pending and self.timer is None:  # edits that came while reading
            self.timer = asyncio.get_running_loop().call_later(DEBOUNCE, self.fire)
        elif not baseline and not changes and self.ls.pool is not None:
            # Nothing runs: the files the first edit likely runs are collected now
            # (as after a run), so it is served warm as it would be in session 1.
            self.prewarm(self.ls.pool, self.ls.part(Runs))

    async def interpreter(self, pool: Any, root: str) -> tuple[str, list[str]] | None:
        """``root``'s twins' interpreter (the map's key) and the mtimes of its ``sys.path``
        folders outside the workspace (an install changes them: the map is not trusted)."""
        kept = self.kept()
        local = [t for t in pool.live(root) if t.host is None]
        parts = await kept.interpreter_parts(self.ls, pool, local[:1]) if kept and local else []
        if not parts:
            return None
        p, roots = parts[0], self.roots()
        outside = [e for e in p["path"] if e not in roots and not in_workspace(e, roots)]
        self.interpreters[root] = (f"{p['executable']} {p['version']}", path_stamps(outside))
        return self.interpreters[root]

    async def read_kept(self, pool: Any, root: str, test_files: list[str]) -> Restored | None:
        kept, found = self.kept(), await self.interpreter(pool, root)
        if kept is None or kept.cache is None or found is None:
            return None
        interpreter, stamps = found
        cache = kept.cache
        blob = await asyncio.to_thread(cache.get, NAMESPACE, key(root, interpreter))
        data = decode(blob, root) if blob is not None else None
        if data is None:
            if blob is not None:  # not a map of this format: removed
                cache.drop(NAMESPACE, key(root, interpreter))
            return None
        mine = [f for f in test_files if root_of(f, self.roots()) == root]
        return await asyncio.to_thread(
            restore, data, self.read, stamps, mine, self.roots(), self.listdir, self.disk_text
        )

    def show_restored(self, restored: dict[str, Restored]) -> None:
        """The kept outcomes land as a run's would (latest results, diagnostics, lens
        titles) and in one ``twinls/runResults`` (``restored``: the Testing view)."""
        pool = self.ls.pool
        if pool is None:
            return
        runs = self.ls.part(Runs)
        for root, found in restored.items():
            job = Run(pool, Target("folder", root))
            entries = list(found.results.values())
            for entry in entries:
                runs.record(job, entry)
            result = {
                "kind": "folder",
                "path": root,
                "runId": job.id,
                "outcome": results.overall(entries) if entries else "empty",
                "duration": 0.0,
                "tests": entries,
                "summary": results.summarize(entries),
                "exitcode": None,
                "message": None,
                "warnings": None,
                "session": True,
                "twins": [],
                "warm": [],
            }
            params: RunResults = {
                "live": True,
                "reason": "restored",
                "changed": [],
                "result": runs.public(result),
            }
            self.ls.protocol.notify(RUN_RESULTS, params)
        runs.schedule_refresh(now=True)

    # -- the map kept in the server's cache ---------------------------------------------

    def idle(self) -> bool:
        """Is every map the texts' (no edit waiting or owed, no run going)?"""
        return (
            self.on()
            and not self.restoring
            and not self.pending
            and not self.owed
            and self.timer is None
            and self.current is None
            and (self.task is None or self.task.done())
            and all(m.complete for m in self.maps.values())
        )

    def schedule_save(self) -> None:
        """Write the maps once live mode has been quiet for ``SAVE_DELAY`` (debounced)."""
        if self.kept() is None:
            return
        if self.save_timer is not None:
            self.save_timer.cancel()
        self.save_timer = asyncio.get_running_loop().call_later(
            SAVE_DELAY, lambda: asyncio.ensure_future(self.save())
        )

    def flush(self) -> None:
        """At shutdown: a write still waiting for its delay is done now (blocking: the
        session is over), with the interpreters as last asked."""
        kept = self.kept()
        if self.save_timer is None or kept is None or kept.cache is None or not self.idle():
            return
        self.save_timer.cancel()
        self.save_timer = None
        for root, m in self.maps.items():
            if root in self.interpreters:
                interpreter, stamps = self.interpreters[root]
                blob = encode(Snapshot.of(m, self.results, stamps), self.read, self.listdir)
                self.saved += int(kept.cache.put(NAMESPACE, key(root, interpreter), blob))

    async def save(self) -> None:
        """Each map, encoded and written off the event loop; not if an edit came
        meanwhile (its texts would not be the records'): the next run's end saves."""
        self.save_timer = None
        kept, pool = self.kept(), self.ls.pool
        if kept is None or kept.cache is None or pool is None or not self.idle():
            return
        for root, m in list(self.maps.items()):
            found = await self.interpreter(pool, root)
            if found is None or not self.idle():
                return
            interpreter, stamps = found
            edits = self.edits
            blob = await asyncio.to_thread(
                encode, Snapshot.of(m, self.results, stamps), self.read, self.listdir
            )
            if self.edits != edits:
                self.schedule_save()  # (an open, say, that no run follows)
                return
            if not self.idle():
                return  # the run going (or the edit waiting for one) saves when it ends
            if await asyncio.to_thread(kept.cache.put, NAMESPACE, key(root, interpreter), blob):
                self.saved += 1

    def launch(self, changes: dict[str, set[str] | None], reason: str) -> None:
        by_root: dict[str, dict[str, set[str] | None]] = {r: {} for r in self.roots()}
        for path, units in changes.items():
            by_root.setdefault(root_of(path, self.roots()), {})[path] = units
        selections = {}
        for root, mine in by_root.items():
            if reason == "baseline" or mine:
                sel = self.map_of(root).affected(mine)
                if sel:
                    selections[root] = sel
        if not selections and not (reason == "resumed" and self.owed):
            return
        previous = self.task
        self.task = asyncio.ensure_future(self.run(selections, changes, reason, previous))

    def spec(
        self, root: str, sel: Selection, skip: set[str] | None = None
    ) -> dict[str, Any] | None:
        pool = self.ls.pool
        files = set(sel.files) | {sel.tests_of[n] for n in sel.nodeids if n in sel.tests_of}
        exists = [f for f in files if pool is not None and pool.mirror.read_text(f) is not None]
        targets = sorted(sel.folders) + sorted(exists)
        if not targets:
            return None
        select = None
        if exists or sel.nodeids or skip:
            select = {
                "folders": sorted(sel.folders),
                "files": sorted(sel.files),
                "nodeids": sorted(sel.nodeids),
                "skip": sorted(skip or ()),
            }
        return {
            "kind": "tests",
            "path": targets[0],
            "root_hint": root,
            "targets": targets,
            "select": select,
            "record": True,
            "nice": NICE,
        }

    async def run(
        self,
        selections: dict[str, Selection],
        changes: dict[str, set[str] | None],
        reason: str,
        previous: asyncio.Task | None,
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # it was cancelled: one live run at a time
        owed, self.owed = self.owed, {}
        for root, sel in owed.items():
            selections[root] = selections[root].merged(sel) if root in selections else sel
        runs = self.ls.part(Runs)
        pool = await self.ls.twin_pool()
        specs = await self.specs(selections, changes)
        if not specs:
            return
        loop = asyncio.get_running_loop()
        streamed: set[str] = set()
        collected: set[str] = set()  # (a set's add from the children's threads: atomic)

        def listener(run: Run, msg: dict[str, Any]) -> None:
            if msg["k"] == "result":
                streamed.add(msg["test"]["nodeid"])
            elif msg["k"] == "collected":
                collected.update(i["nodeid"] for i in msg["items"])
            loop.call_soon_threadsafe(self.on_event, run, msg)

        job = LiveRun(
            pool, specs, self.most(), durations=runs.durations, listener=listener, homes=runs.homes
        )
        self.current = job
        try:
            job.start()
            result = await loop.run_in_executor(WAITERS, job.wait)
        finally:
            self.peak = max(self.peak, job.peak)
            self.ended += 1
            self.cancelled += int(job.cancelled)
            if self.current is job:
                self.current = None
        for entry in result["tests"]:
            self.results[entry["nodeid"]] = entry
            if entry["nodeid"] not in streamed:
                runs.record(job, entry)
        if job.cancelled:  # stale: what it did not finish is owed to the next live run
            done = {t["nodeid"] for t in result["tests"]}
            for root, sel in selections.items():
                left = Selection(sel.folders, sel.files, sel.nodeids - done, sel.tests_of)
                if left:
                    self.owed[root] = self.owed[root].merged(left) if root in self.owed else left
        if not job.cancelled and result.get("session"):
            for root, sel in selections.items():
                if root in sel.folders:
                    self.map_of(root).complete = True
                for nodeid in self.map_of(root).forget_gone(sel, collected, self.exists):
                    self.results.pop(nodeid, None)  # a test gone: no outcome kept of it
        runs.history.ended(job.id, result["duration"])
        runs.schedule_refresh(now=True)
        params: RunResults = {
            "live": True,
            "reason": reason,
            "changed": [
                {"uri": self.ls.uri_of(p), "units": sorted(u) if u is not None else None}
                for p, u in changes.items()
            ],
            "result": runs.public(result),
        }
        self.ls.protocol.notify(RUN_RESULTS, params)
        if self.yielded:
            loop.call_soon(self.resume)  # after this task is done
        elif not job.cancelled and self.timer is None and not self.pending:
            self.prewarm(pool, runs)
        loop.call_soon(self.schedule_save)  # after this task is done (``idle``)

    def prewarm(self, pool: Any, runs: Runs) -> None:
        """Have the test files the next edit most likely runs collected now, each in a
        zygote on the twin its runs go to (``plan.Homes``): the open test files, then those
        whose tests ran an open module, most tests first, at most ``warmMax``. Otherwise
        the first live run of each file after the baseline (a folder run: no zygotes)
        collects it, about a second on a big module; the twin only uses free places."""
        given = self.ls.options.get("warmMax")
        most = int(DEFAULTS["warmMax"] if given is None else given)
        wanted: list[str] = []
        docs = [p for p in reversed(list(pool.mirror.docs)) if in_workspace(p, self.roots())]
        for path in sorted(docs, key=lambda p: not is_test_module(p)):  # test files first
            if is_test_module(path):
                found = [path]
            else:
                test_map = self.maps.get(root_of(path, self.roots()))
                if test_map is None:
                    continue
                counts = Counter(test_map.test_file[n] for n in test_map.touching(path))
                found = sorted(counts, key=lambda f: (-counts[f], f))
            wanted += [f for f in found if f not in wanted]
        for path in wanted[:most]:
            spec = Target("file", path).spec()
            twin = runs.homes.twin_for(pool, spec) or pool.pick(path)
            if twin is None:
                continue
            pool.call(stubs.run_prewarm([path]), twin=twin)
            runs.homes.ran(spec, twin)

    async def specs(
        self, selections: dict[str, Selection], changes: dict[str, set[str] | None]
    ) -> list[dict[str, Any]]:
        """One spec per child. A selection of exact tests and files runs one child per test
        file (``testmap.by_file``: each served by its file's collection zygote, the edited
        test files and the smallest first); one that holds folders (the first run, a
        conftest's) is cut into up to ``most`` parts by test file (the twins' index lists a
        folder's test files), so they run side by side."""
        most = self.most()
        test_files: list[str] = []
        if most > 1 and any(sel.folders for sel in selections.values()):
            try:
                test_files = [m["path"] for m in await self.ls.ask(stubs.run_discover())]
            except Exception:  # a twin died meanwhile: the folders run uncut
                log.exception("live run: test discovery failed")
        edited = [p for p in changes if is_test_module(p)]
        files: list[tuple[str, Selection, set[str] | None]] = []
        folders: list[tuple[str, Selection, set[str] | None]] = []
        for root, sel in selections.items():
            if sel.folders:
                parts = [(p.sel, p.skip) for p in split(sel, test_files, most)]
                folders += [(root, part, skip) for part, skip in parts]
            else:
                sizes = self.map_of(root).tests_in
                files += [(root, one, None) for one in by_file(sel, edited, sizes)]
        specs = []
        for root, part, skip in files + folders:  # the folders' runs are the longest: last
            if (spec := self.spec(root, part, skip)) is not None:
                specs.append(spec)
        return specs

    def on_event(self, run: Run, msg: dict[str, Any]) -> None:
        """One event of a live run (on the event loop)."""
        kind = msg["k"]
        if kind == "executed":
            root = root_of(msg["file"], self.roots())
            # A stale run (cancelled by an edit) ran a text the overlay no longer has.
            self.map_of(root).record(msg, None if run.cancelled else self.read)
            for path in msg["units"]:
                if path not in self.before:  # its 'before' for the next edit of it
                    self.before[path] = self._parse(path)
        elif kind == "imports":
            for root in {root_of(t, self.roots()) for t in msg["tests"]}:
                self.map_of(root).record_imports(msg, self.read)
        else:
            if kind == "result":
                self.results[msg["test"]["nodeid"]] = msg["test"]
            self.ls.part(Runs).on_event(run, msg, [])

    def coverage(self) -> Coverage:
        """Per file the recorded tests touched: each unit and how many tests executed it, and
        its executable statements (``server/statements.py``) that ran and that did not."""
        counts: dict[str, dict[str, int]] = {}
        for m in self.maps.values():
            for per_file in m.executed.values():
                for path, units in per_file.items():
                    mine = counts.setdefault(path, {})
                    for unit in units:
                        mine[unit] = mine.get(unit, 0) + 1
            for path in m.collected:  # imported only: its functions may all be uncovered
                counts.setdefault(path, {})
        files: list[CoveredFile] = []
        for path in sorted(counts):
            parsed = self._parse(path)
            text = self.read(path)
            stmts = statements(text, path) if text is not None else None
            if parsed is None or stmts is None:
                continue
            ran = stmts.ran(self.map_of(root_of(path, self.roots())).ran(path, text))
            units: list[CoveredUnit] = [
                {
                    "name": span.qualname,
                    "startLine": span.start - 1,
                    "endLine": span.end - 1,
                    "tests": counts[path].get(span.qualname, 0),
                }
                for span in parsed.spans
            ]
            files.append(
                {
                    "uri": self.ls.uri_of(path),
                    "units": units,
                    "covered": sorted(n - 1 for n in ran),
                    "uncovered": sorted(n - 1 for n in stmts.lines - ran),
                    "statements": len(stmts.lines),
                }
            )
        return {"files": files}

    def test_files(self) -> list[str]:
        """Test files the map knows (recorded), for discovery."""
        return sorted({f for m in self.maps.values() for f in m.test_file.values()})


def setup(ls: TwinLanguageServer) -> None:
    ls.edit_listeners.append(ls.part(Live).on_edit)
    ls.shutdown_hooks.append(ls.part(Live).flush)
    ls.part(Running).listeners.append(ls.part(Live).on_search)


@app.command(COVERAGE)
async def coverage(ls: TwinLanguageServer, *args: Any) -> Coverage:
    """Which functions and classes the tests live mode recorded executed (per file)."""
    return ls.part(Live).coverage()


@app.command(TOGGLE)
async def toggle(ls: TwinLanguageServer, *args: Any) -> LiveState:
    """``[]`` flips live tests; ``[true]`` / ``[false]`` (or ``[{"on": bool}]``) sets them."""
    live = ls.part(Live)
    arg = args[0] if args else None
    if isinstance(arg, dict):
        arg = arg.get("on")
    value = (not live.on()) if not isinstance(arg, bool) else arg
    await ls.twin_pool()
    live.set(value)
    return {"liveTests": value}

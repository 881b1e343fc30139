"""Server: a run as the server and the terminal see it; one or more twin calls, merged.

A run of a file or a class with a history is split across the pool: the tests
whose durations earlier runs recorded are dealt out longest first to the shard
that would end soonest (:func:`deal_by_timings`), and the lightest shard also
takes every test it has never seen (new tests are never lost). Shards name exact
node ids; each shard's child collects the scope and keeps only its own.

Durations are kept per host that ran the test (this machine, or a remote's
gateway): a test takes on a twin what it took on that twin's host last time; on
a host that never ran it, its time elsewhere scaled by the hosts' speeds, which
come from the tests both ran (:func:`host_speeds`); a host that shares no test
with the others is rated by the current rule, its search speed and round trip
(``server/shards.py`` ``weights``). Durations stay in this process's memory,
never on disk.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..shared import checks
from ..shared.collect import one_test_file
from ..shared.paths import root_of
from ..shared.results import RUN_COUNTS, exit_code, failed, overall, summarize, test_entry
from ..shared.schema import DEFAULTS, Test
from . import stubs
from .pool import TwinPool
from .promise import Cancelled, Promise, TwinError

log = logging.getLogger(__name__)

Listener = Callable[["Run", dict[str, Any]], None]

#: Below this many recorded seconds a split costs more than it saves.
SPLIT_MIN = DEFAULTS["runSplitMin"]


@dataclass(frozen=True)
class Target:
    """What to run: a test or class (``qualname`` pytest-style), a file, or an example."""

    kind: str  # "test" | "class" | "file" | "folder" | "example"
    path: str  # a folder's (or the workspace's) own path for "folder"
    qualname: str = ""
    mode: str = "pytest"  # examples: "call" | "doctest"

    @property
    def public_kind(self) -> str:
        return {"example": "example", "file": "file", "folder": "folder"}.get(self.kind, "test")

    def nodeid(self, root: str) -> str:
        rel = os.path.relpath(self.path, root).replace(os.sep, "/")
        if self.kind == "folder" and rel == ".":
            return ""
        if not self.qualname:
            return rel
        return f"{rel}::{self.qualname}"

    def spec(self) -> dict[str, Any]:
        if self.kind == "example":
            return {
                "kind": "example",
                "path": self.path,
                "qualname": self.qualname,
                "mode": self.mode,
            }
        target = f"{self.path}::{self.qualname}" if self.qualname else self.path
        return {"kind": "tests", "path": self.path, "targets": [target]}


class Durations:
    """Seconds per test from earlier runs, per host that ran it, for dealing splits (memory
    only). A host is ``""`` for this machine, else its gateway spec."""

    def __init__(self) -> None:
        self._seconds: dict[str, tuple[str, str, dict[str, float]]] = {}
        self._lock = threading.Lock()

    def record(
        self, tests: list[dict[str, Any]], host_of: Callable[[int], str] | None = None
    ) -> None:
        with self._lock:
            for t in tests:
                if t.get("file"):
                    host = host_of(int(t.get("twin", -1))) if host_of is not None else ""
                    _, _, per_host = self._seconds.get(t["nodeid"], ("", "", {}))
                    per_host = {**per_host, host: float(t["duration"])}
                    self._seconds[t["nodeid"]] = (t["file"], t["qualname"], per_host)

    def timings(self, path: str, scope: str = "") -> dict[str, dict[str, float]]:
        """Recorded tests of ``path`` (within class ``scope``, if given): host -> seconds."""
        with self._lock:
            return {
                nodeid: dict(per_host)
                for nodeid, (file, qual, per_host) in self._seconds.items()
                if file == path and (not scope or qual == scope or qual.startswith(scope + "::"))
            }

    def known(self, path: str, scope: str = "") -> dict[str, float]:
        """Recorded tests of ``path``: seconds, at the speed of the host that ran most."""
        timings = self.timings(path, scope)
        return reference_seconds(timings, host_speeds(timings))


class Homes:
    """Which twin last ran each test file in one child. Its collection zygote lives there
    (``twin/warm_sessions.py``: one per file, per twin), so the next run of that file goes
    there too, not to whichever twin is least busy, which would collect the file again
    (seconds on a big module) and keep a second zygote of it (memory only)."""

    def __init__(self) -> None:
        self._slot: dict[str, int] = {}
        self._lock = threading.Lock()

    def twin_for(self, pool: TwinPool, spec: dict[str, Any]) -> Any:
        """The live local twin that holds ``spec``'s file's zygote, else None (any)."""
        path = one_test_file(spec)
        if path is None:
            return None
        with self._lock:
            slot = self._slot.get(path)
        for twin in pool.live(path):
            if twin.slot == slot and twin.host is None and pool.takes(twin, path):
                return twin
        return None

    def ran(self, spec: dict[str, Any], twin: Any) -> None:
        path = one_test_file(spec)
        if path is not None and twin is not None and getattr(twin, "host", None) is None:
            with self._lock:
                self._slot[path] = twin.slot


def host_speeds(timings: dict[str, dict[str, float]]) -> dict[str, float]:
    """Each host's speed relative to the one that ran the most tests (1.0), from the tests
    both ran; a host sharing no test with it (directly) is left out."""
    counts: dict[str, int] = {}
    for per_host in timings.values():
        for host in per_host:
            counts[host] = counts.get(host, 0) + 1
    if not counts:
        return {}
    ref = min(counts, key=lambda h: (-counts[h], h))
    speeds = {ref: 1.0}
    for host in counts:
        if host == ref:
            continue
        both = [p for p in timings.values() if ref in p and host in p]
        theirs = sum(p[host] for p in both)
        if both and theirs > 0:
            speeds[host] = sum(p[ref] for p in both) / theirs
    return speeds


def reference_seconds(
    timings: dict[str, dict[str, float]], speeds: dict[str, float]
) -> dict[str, float]:
    """Each test's seconds at the reference host's speed (the mean over hosts that ran it)."""
    out: dict[str, float] = {}
    for nodeid, per_host in timings.items():
        rated = [secs * speeds[h] for h, secs in per_host.items() if h in speeds]
        out[nodeid] = sum(rated) / len(rated) if rated else max(per_host.values(), default=0.0)
    return out


def deal_by_timings(
    timings: dict[str, dict[str, float]], twins: list[tuple[str, float]]
) -> list[list[str]]:
    """Tests (host -> seconds each) onto twins (``(host, share)`` each; ``share``: the
    current rule's, for a host without timings), aligned with ``twins``: longest first, each
    where it would end soonest, its cost on a twin being what it took on that twin's host,
    else its reference time over that host's speed."""
    speeds = host_speeds(timings)
    ref = reference_seconds(timings, speeds)
    loads = [0.0] * len(twins)
    groups: list[list[str]] = [[] for _ in twins]

    def cost(nodeid: str, j: int) -> float:
        host, share = twins[j]
        measured = timings[nodeid].get(host)
        if measured is not None:
            return measured
        return ref[nodeid] / (speeds.get(host) or max(share, 0.05))

    for nodeid in sorted(ref, key=lambda k: (-ref[k], k)):
        i = min(range(len(twins)), key=lambda j: (loads[j] + cost(nodeid, j), j))
        loads[i] += cost(nodeid, i)
        groups[i].append(nodeid)
    return groups


def shard(seconds: dict[str, float], n: int) -> list[list[str]]:
    """Longest first onto the least loaded of ``n`` groups; heaviest group first."""
    groups = shard_weighted(seconds, [1.0] * n)
    groups.sort(key=lambda g: -sum(seconds[k] for k in g))
    return [g for g in groups if g]


def shard_weighted(seconds: dict[str, float], speeds: list[float]) -> list[list[str]]:
    """Like :func:`shard`, each group for one twin of relative ``speeds`` (aligned, may be
    empty): a test goes where it would end soonest, so a slower twin (another host, a
    slow link) gets less."""
    loads = [0.0] * len(speeds)
    groups: list[list[str]] = [[] for _ in speeds]
    for nodeid in sorted(seconds, key=lambda k: (-seconds[k], k)):
        i = min(range(len(speeds)), key=lambda j: ((loads[j] + seconds[nodeid]) / speeds[j], j))
        loads[i] += seconds[nodeid]
        groups[i].append(nodeid)
    return groups


class Run:
    _ids = itertools.count(1)

    def __init__(
        self,
        pool: TwinPool,
        target: Target,
        durations: Durations | None = None,
        listener: Listener | None = None,
        split_min: float = SPLIT_MIN,
        extra: dict[str, Any] | None = None,
        homes: Homes | None = None,
    ) -> None:
        self.id = next(self._ids)
        self.pool = pool
        self.target = target
        self.durations = durations or Durations()
        self.homes = homes or Homes()
        self.listener = listener
        self.split_min = split_min
        self.extra = extra or {}  # more for the spec: ``debug`` (one child, never split)
        self.root = root_of(target.path, pool.roots)
        self.promises: list[tuple[int, Promise]] = []
        self.total = 0
        self.done = 0
        self.current: str | None = None
        self.cancelled = False
        self.started = 0.0
        self._lock = threading.Lock()

    # -- starting ---------------------------------------------------------------------

    def host_key(self, slot: int) -> str:
        """Where a slot's twin runs, for its tests' durations: "" here, else the gateway."""
        host = self.pool.host_of.get(slot)
        return "" if host is None else str(host.spec)

    def jobs(self) -> list[tuple[Any, dict[str, Any]]]:
        """(twin or None for "any", spec) per child this run needs."""
        spec = self.target.spec()
        if self.extra:
            return [(None, {**spec, **self.extra})]
        live = sorted(
            (t for t in self.pool.live(self.target.path) if self.pool.takes(t, self.target.path)),
            key=lambda t: t.in_flight,
        )
        if self.target.kind not in ("file", "class") or len(live) < 2:
            return [(None, spec)]
        timings = self.durations.timings(self.target.path, self.target.qualname)
        known = reference_seconds(timings, host_speeds(timings))
        if len(known) < 2 or sum(known.values()) < self.split_min:
            return [(None, spec)]
        from .shards import weights

        shares = weights(live)  # measured speed, else round trip: for hosts without timings
        live.sort(key=lambda t: (t.in_flight, -shares[t.slot]))
        twins = live[: min(len(live), len(known))]
        dealt = deal_by_timings(timings, [(self.host_key(t.slot), shares[t.slot]) for t in twins])
        pairs = [(t, g) for t, g in zip(twins, dealt, strict=True) if g]
        pairs.sort(key=lambda p: -sum(known[k] for k in p[1]))  # the lightest takes new tests
        if len(pairs) < 2:
            return [(None, spec)]
        jobs = [(t, {**spec, "include": g}) for t, g in pairs[:-1]]
        taken = [n for _, g in pairs[:-1] for n in g]
        jobs.append((pairs[-1][0], {**spec, "exclude": taken}))
        return jobs

    def start(self) -> Run:
        self.started = time.monotonic()
        for twin, spec in self.jobs():
            self.start_job(twin, spec)
        return self

    def start_job(self, twin: Any, spec: dict[str, Any]) -> Promise:
        """One child of this run (``twin`` None: the twin holding its file's zygote, else the
        least busy in the target's folder's Python)."""
        twin = twin or self.homes.twin_for(self.pool, spec) or self.pool.pick(self.target.path)
        promise = self.pool.call(stubs.run_start(spec), twin=twin)
        self.homes.ran(spec, promise.twin)
        slot = promise.twin.slot if promise.twin is not None else -1
        self.promises.append((slot, promise))
        promise.on_partial(lambda batch, slot=slot: self._events(batch, slot))
        return promise

    def _events(self, batch: list[dict[str, Any]], slot: int) -> None:
        for msg in batch:
            try:
                checks.check_message(msg, checks.RUN_EVENTS, "run → server")
                if msg["k"] == "result":
                    checks.check(msg["test"], Test, "run → server result")
            except checks.MessageError as exc:  # said, then skipped: the run goes on
                log.error("twin %s: malformed run event, skipped: %s", slot, exc)
                continue
            with self._lock:
                if msg["k"] == "collected":
                    self.total += len(msg["items"])
                elif msg["k"] == "start":
                    self.current = msg["nodeid"]
                elif msg["k"] == "result":
                    self.done += 1
                    msg["test"]["twin"] = slot
            if self.listener is not None:
                self.listener(self, msg)

    # -- ending -----------------------------------------------------------------------

    def cancel(self) -> None:
        self.cancelled = True
        for _, promise in self.promises:
            promise.cancel()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until every child answered; the merged result (paths, not URIs)."""
        tests: list[dict[str, Any]] = []
        codes: list[int | None] = []
        messages: list[str] = []
        warnings_text: list[str] = []
        extra = dict.fromkeys(RUN_COUNTS, 0)
        started = False
        warm: list[dict[str, Any]] = []  # the collection zygotes that served (issue 15)
        for slot, promise in self.promises:
            try:
                value = promise.result(timeout)
            except Cancelled:
                self.cancelled = True
                continue
            except (TwinError, TimeoutError) as exc:
                entry = test_entry(self.target.nodeid(self.root), self.target.path)
                entry.update(message=str(exc), twin=slot)
                tests.append(entry)
                codes.append(3)
                continue
            for t in value["tests"]:
                t["twin"] = slot
            tests.extend(value["tests"])
            codes.append(value.get("exitcode"))
            started = started or value.get("started", True)
            for key in RUN_COUNTS:
                extra[key] += int(value.get(key) or 0)
            if value.get("message") and value["message"] not in messages:
                messages.append(value["message"])
            if value.get("warnings_text"):
                warnings_text.append(value["warnings_text"])
            if value.get("warm"):
                warm.append(value["warm"])
        if len(self.promises) > 1:
            tests.sort(key=lambda t: (t.get("file") or "", t.get("line") or 0, t["nodeid"]))
        self.durations.record([t for t in tests if t["outcome"] != "error"], self.host_key)
        code = exit_code(codes, tests)
        result = {
            "kind": self.target.public_kind,
            "path": self.target.path,
            "runId": self.id,
            "outcome": "cancelled" if self.cancelled else run_outcome(tests, code, extra),
            "duration": time.monotonic() - self.started,
            "tests": tests,
            "summary": summarize(tests, extra),
            "exitcode": code,
            "message": "\n".join(messages) or None,
            "warnings": "\n".join(warnings_text) or None,
            "session": started or bool(tests),  # False: pytest stopped before a session
            "twins": sorted({slot for slot, _ in self.promises}),
            "warm": warm,
        }
        return result


def run_outcome(tests: list[dict[str, Any]], code: int, extra: dict[str, int]) -> str:
    """The run's one word: the tests' (``overall``), else why none ran."""
    if tests:
        worst = overall(tests)
        return "error" if code in (2, 3, 4) and not failed(worst) else worst
    if code == 5:
        return "deselected" if extra.get("deselected") else "empty"
    return "error"

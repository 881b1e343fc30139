"""Server: the search twins stopped while the interactive twin answers (issue 10).

On a machine the searches saturate (two search twins on two cores), the
interactive twin's hover or outline spent most of its time runnable but
waiting for a core: 11 ms of CPU took 30-50 ms (``docs/benchmarks.md``, eighth
session). Nicing the search for good cost it 1.5-2.5 times its time, as other
users' processes then win the cores too, and an unprivileged process cannot
take a nice back. So while an interactive call is in the interactive twin, the
busy search twins are stopped (``SIGSTOP``) and continued (``SIGCONT``) the moment
it settles: the search loses only the time the call takes.

Bounded, so that a slow or hung interactive twin never stalls a search: a
hold lasts at most ``bound`` seconds, and the twins are never kept stopped more
than :data:`SHARE` of any :data:`WINDOW` (a stream of interactive requests
slows a search, never stops it). A stopped twin whose server dies is
continued by the kernel: each twin leads its own process group
(``twin/main.py``), and a newly orphaned group with a stopped member gets
``SIGHUP`` and ``SIGCONT``, so it exits.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

#: The twins are stopped at most this share of any window of this many seconds.
SHARE = 0.5
WINDOW = 1.0


class SearchPause:
    """Holds on the search twins: stopped while any hold lasts, continued after the last."""

    def __init__(self, bound: float) -> None:
        self.bound = bound  # seconds a hold may last; 0: never stop anything
        self._lock = threading.Lock()
        self._holds: dict[int, float] = {}  # hold id -> its deadline (monotonic)
        self._ids = 0
        self._stopped: set[int] = set()  # pids stopped now
        self._since = 0.0  # when they were stopped
        self._past: deque[tuple[float, float]] = deque()  # (from, to) of earlier stops
        self._timer: threading.Timer | None = None
        self.count = 0  # holds that stopped something (``twinls.status``)
        self.stopped_for = 0.0  # seconds the search twins were stopped in all

    def hold(self, pids: Iterable[int]) -> Callable[[], None]:
        """Stop ``pids`` (local search twins) until the returned release is called, or
        the bound or the share runs out; releasing twice is harmless."""
        pids = set(pids)
        if self.bound <= 0 or not pids:
            return _nothing
        with self._lock:
            now = time.monotonic()
            allowed = min(self.bound, SHARE * WINDOW - self._used(now))
            if allowed <= 0:
                return _nothing
            self._ids += 1
            key = self._ids
            self._holds[key] = now + allowed
            if not self._stopped:
                self._since = now
            # One stopped by someone else (a debugger, a test) is left to them: never continued.
            fresh = [pid for pid in pids - self._stopped if not _stopped_already(pid)]
            for pid in fresh:
                if _signal(pid, signal.SIGSTOP):
                    self._stopped.add(pid)
            if not self._stopped:  # nothing of ours to stop
                del self._holds[key]
                return _nothing
            self.count += 1
            self._arm(now)
        return lambda: self._release(key)

    def resume_all(self) -> None:
        """Continue every stopped twin now (the pool closes, or restarts its twins)."""
        with self._lock:
            self._holds.clear()
            self._continue(time.monotonic())

    def _used(self, now: float) -> float:
        """Seconds stopped within the last window (the current stop included)."""
        while self._past and self._past[0][1] < now - WINDOW:
            self._past.popleft()
        used = sum(min(b, now) - max(a, now - WINDOW) for a, b in self._past)
        if self._stopped:
            used += now - max(self._since, now - WINDOW)
        return used

    def _release(self, key: int) -> None:
        with self._lock:
            if self._holds.pop(key, None) is not None and not self._holds:
                self._continue(time.monotonic())

    def _expire(self) -> None:
        with self._lock:
            now = time.monotonic()
            for key, deadline in list(self._holds.items()):
                if deadline <= now:
                    del self._holds[key]
            if self._holds:
                self._arm(now)
            else:
                self._continue(now)

    def _arm(self, now: float) -> None:
        """The timer for the earliest deadline (under the lock)."""
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, min(self._holds.values()) - now)
        self._timer = threading.Timer(delay, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _continue(self, now: float) -> None:
        """Continue what is stopped (under the lock)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._stopped:
            return
        for pid in self._stopped:
            _signal(pid, signal.SIGCONT)
        self._stopped.clear()
        self._past.append((self._since, now))
        self.stopped_for += now - self._since


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stopped_already(pid: int) -> bool:
    """Whether the process is stopped now (``T``) or traced (``t``); Linux's ``/proc``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] in (b"T", b"t")
    except (OSError, IndexError):
        return False


def _nothing() -> None:
    pass

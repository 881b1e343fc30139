"""Server: the runs in flight, by id and by the lens they make spin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ...plan import Run

#: A lens: (path, kind, qualname).
LensKey = tuple[str, str, str]


class InFlight:
    """Run id -> the run; lens -> how many of its runs are going."""

    def __init__(self) -> None:
        self.active: dict[int, Run] = {}
        self.running: dict[LensKey, int] = {}

    @contextmanager
    def track(self, job: Run, key: LensKey) -> Iterator[None]:
        """``job`` is in flight (and ``key``'s lens spins) while the block runs."""
        self.active[job.id] = job
        self.running[key] = self.running.get(key, 0) + 1
        try:
            yield
        finally:
            self.active.pop(job.id, None)
            self.running[key] -= 1
            if not self.running[key]:
                del self.running[key]

    def is_running(self, key: LensKey) -> bool:
        return bool(self.running.get(key))

    def newest(self) -> int | None:
        """The id of the newest run in flight."""
        return max(self.active, default=None)

    def cancel(self, ids: list[int]) -> list[int]:
        """Cancel the runs ``ids`` (none: every run in flight); the ids cancelled."""
        cancelled = []
        for run_id, job in list(self.active.items()):
            if not ids or run_id in ids:
                job.cancel()
                cancelled.append(run_id)
        return cancelled

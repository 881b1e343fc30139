"""Server: each lens's last finished run and the wall times of runs, for lens titles."""

from __future__ import annotations

from typing import Any

from .flight import LensKey

Entry = dict[str, Any]


class LensHistory:
    """Lens -> its last finished run (no tests kept); run id -> wall time, once it ended."""

    def __init__(self) -> None:
        self.last: dict[LensKey, dict[str, Any]] = {}
        self.walls: dict[int, float] = {}

    def ended(self, run_id: int, duration: float) -> None:
        self.walls[run_id] = duration

    def finished(self, key: LensKey, run_id: int, result: dict[str, Any], live: set[int]) -> None:
        """A lens's run ended; forget the wall times of runs no latest result came from
        (``live``: the runs that some do)."""
        self.ended(run_id, result["duration"])
        self.last[key] = {
            k: result[k] for k in ("runId", "outcome", "message", "summary", "duration")
        } | {"tests": len(result["tests"])}
        for run_id in [r for r in self.walls if r not in live]:
            del self.walls[run_id]

    def wall_of(self, key: LensKey, entries: list[Entry], run_of: dict[str, int]) -> float | None:
        """The wall time of this lens's own last run, if it produced all these results.

        (Results a bigger run brought, a file's for a test lens, show their own
        durations instead: the file's wall time is not the test's.)
        """
        last = self.last.get(key)
        runs = {run_of.get(e["nodeid"]) for e in entries}
        if last is None or runs != {last["runId"]}:
            return None
        return self.walls.get(last["runId"])

"""Server: the latest result of every test and example, by file, and the run it came from."""

from __future__ import annotations

from typing import Any

from ...plan import Target
from .scope import covers, in_scope

Entry = dict[str, Any]


class LatestResults:
    """Test file -> node id -> latest entry (tests); -> qualname -> entry (examples)."""

    def __init__(self) -> None:
        self.tests: dict[str, dict[str, Entry]] = {}
        self.examples: dict[str, dict[str, Entry]] = {}
        self.run_of: dict[str, int] = {}  # node id -> the run its latest result came from

    def record(self, file: str, entry: Entry, run_id: int, example: bool) -> None:
        if example:
            self.examples.setdefault(file, {})[entry["qualname"]] = entry
        else:
            self.tests.setdefault(file, {})[entry["nodeid"]] = entry
        self.run_of[entry["nodeid"]] = run_id

    def of_lens(self, path: str, kind: str, qualname: str) -> list[Entry]:
        """The latest entries a lens of ``kind`` on ``qualname`` in ``path`` sums up."""
        if kind == "example":
            entry = self.examples.get(path, {}).get(qualname)
            return [entry] if entry else []
        latest = self.tests.get(path, {}).values()
        return [e for e in latest if in_scope(e["qualname"], kind, qualname)]

    def forget(self, target: Target, seen: set[str]) -> None:
        """Drop the tests in ``target``'s scope that its run did not report."""
        for file in [f for f in self.tests if covers(target, f)]:
            latest = self.tests[file]
            for nodeid in [n for n, e in latest.items() if n not in seen]:
                if in_scope(latest[nodeid]["qualname"], target.kind, target.qualname):
                    del latest[nodeid]

    def runs(self) -> set[int]:
        """The runs some latest result still comes from."""
        return set(self.run_of.values())

"""Shared (twin, server, terminal): the shape of a run's result.

Outcomes and the summary follow pytest's own categories (``pytest_report_teststatus``),
so a summary counts what a plain ``pytest`` run would print on its last line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: pytest's summary categories, in the order its closing line uses (``KNOWN_TYPES``).
CATEGORIES = (
    "failed",
    "passed",
    "skipped",
    "deselected",
    "xfailed",
    "xpassed",
    "warnings",
    "error",
    "subtests passed",
    "subtests failed",
    "subtests skipped",
)

#: Counts a run reports that belong to no test (pytest's ``deselected``, ``warnings``).
RUN_COUNTS = ("deselected", "warnings")

#: pytest's exit codes (``pytest.ExitCode``), the most telling first when runs merge.
EXIT_PRIORITY = (3, 2, 4, 1, 0, 5)

Test = dict[str, Any]

#: Most characters a text field of a result keeps (cut in the run child, said so).
TEXT_LIMITS = {
    "stdout": 64 * 1024,
    "stderr": 64 * 1024,
    "traceback": 64 * 1024,
    "stack": 64 * 1024,
    "message": 8 * 1024,
    "value": 8 * 1024,
}


def bounded(text: Any, limit: int) -> Any:
    """``text`` cut to about ``limit`` characters: its start and its end, and a note.

    A test that prints 100 MB must not send 100 MB to the editor (or over the
    channel, whose frames have a cap): the end is what a failure usually needs.
    """
    if not isinstance(text, str) or len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    cut = len(text) - head - tail
    note = f"\n… [twinls: {cut} characters cut here; the whole text was {len(text)}] …\n"
    return text[:head] + note + text[-tail:]


def test_entry(nodeid: str, file: str | None, **fields: Any) -> Test:
    """One test's (or example's) result, every public key present.

    ``file`` is the test's own file; ``path``/``line`` locate the failure (or the
    test itself); the server turns paths into URIs.
    """
    entry: Test = {
        "nodeid": nodeid,
        "name": nodeid.rpartition("::")[2] or nodeid,
        "outcome": "error",
        "duration": 0.0,
        "stdout": "",
        "stderr": "",
        "message": None,
        "file": file,
        "path": file,
        "line": None,
        "value": None,
        "qualname": qualname_of(nodeid),
        "categories": [],
    }
    entry.update(fields)
    for key, limit in TEXT_LIMITS.items():
        entry[key] = bounded(entry.get(key), limit)
    if not entry["categories"]:
        entry["categories"] = [entry["outcome"]]
    return entry


def qualname_of(nodeid: str) -> str:
    """``tests/t.py::TestA::test_b[1]`` -> ``TestA::test_b``: what a lens is keyed by."""
    _, _, rest = nodeid.partition("::")
    return rest.split("[", 1)[0]


def combine(setup: str, call: str | None, teardown: str) -> str:
    """One outcome for a test from its phases' categories (pytest's words)."""
    outcome = call if call else (setup or "error")
    if teardown == "error" and outcome in ("passed", ""):
        outcome = "error"
    return outcome or "passed"


def overall(tests: Iterable[Test]) -> str:
    """A run's outcome: any failure wins, then errors; else what every test agrees on."""
    outcomes = [t["outcome"] for t in tests]
    if not outcomes:
        return "error"
    for worst in ("failed", "error"):
        if worst in outcomes:
            return worst
    if len(set(outcomes)) == 1:
        return outcomes[0]
    return "passed"


def summarize(tests: Iterable[Test], extra: dict[str, int] | None = None) -> dict[str, int]:
    """Counts per pytest category: each test's (and subtest's) plus the run's own
    (``extra``: deselected, warnings)."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for t in tests:
        for cat in t.get("categories") or [t["outcome"]]:
            if cat:
                counts[cat] = counts.get(cat, 0) + 1
    for key, n in (extra or {}).items():
        counts[key] = counts.get(key, 0) + n
    return counts


def _noun(count: int, noun: str) -> str:
    """pytest's ``pluralize``: only ``error`` and ``warnings`` change with the count."""
    if noun not in ("error", "warnings"):
        return noun
    noun = noun.replace("warnings", "warning")
    return noun + "s" if count != 1 else noun


def summary_line(summary: dict[str, int], seconds: float | None = None) -> str:
    """pytest's closing line: ``1 failed, 3 passed, 1 skipped, 1 warning in 0.12s``."""
    parts = [f"{n} {_noun(n, k)}" for k, n in summary.items() if n]
    text = ", ".join(parts) or "no tests ran"
    return f"{text} in {seconds:.2f}s" if seconds is not None else text


def exit_code(codes: Iterable[int | None], tests: Iterable[Test]) -> int:
    """pytest's exit code for a run made of several pytest sessions (shards, re-runs)."""
    tests = list(tests)
    known = {int(c) for c in codes if c is not None}
    if any(failed(t["outcome"]) for t in tests):
        known.add(1)
    elif tests:
        known.add(0)  # an example run: no pytest session, no code of its own
    for code in EXIT_PRIORITY:
        if code in known:
            return code
    return min(known) if known else 5


def failed(outcome: str) -> bool:
    return outcome in ("failed", "error")


# -- how a result reads in the terminal -------------------------------------------------


def duration_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def public(entry: Test) -> Test:
    """The entry as clients see it: internal bookkeeping keys dropped."""
    return {k: v for k, v in entry.items() if k not in ("categories", "file", "path")}

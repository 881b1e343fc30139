"""The shape of a run's result, shared by the twin, the server and the terminal.

Outcomes and the summary follow pytest's own categories (``pytest_report_teststatus``),
so a summary counts what a plain ``pytest`` run would print on its last line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: pytest's summary categories, in the order its closing line uses.
CATEGORIES = ("failed", "passed", "skipped", "xfailed", "xpassed", "error")

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


def summarize(tests: Iterable[Test]) -> dict[str, int]:
    counts = dict.fromkeys(CATEGORIES, 0)
    for t in tests:
        for cat in t.get("categories") or [t["outcome"]]:
            if cat:
                counts[cat] = counts.get(cat, 0) + 1
    return counts


def summary_line(summary: dict[str, int], seconds: float | None = None) -> str:
    """pytest's closing line: ``1 failed, 3 passed, 1 skipped in 0.12s``."""
    parts = [f"{n} {k if k != 'error' or n == 1 else 'errors'}" for k, n in summary.items() if n]
    text = ", ".join(parts) or "no tests ran"
    return f"{text} in {seconds:.2f}s" if seconds is not None else text


def failed(outcome: str) -> bool:
    return outcome in ("failed", "error")


# -- how a result reads in one line (lens titles, terminal) ---------------------------


def duration_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def shorten(text: str, limit: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def title(entries: list[Test], example: bool = False) -> str | None:
    """A lens title for the latest results of one lens (None: never run)."""
    if not entries:
        return None
    if len(entries) == 1:
        t = entries[0]
        out = t["outcome"]
        if failed(out):
            message = t.get("message") or out
            if message.startswith("assert "):  # pytest's rewritten assert names no type
                message = "AssertionError: " + message
            return "✗ " + shorten(message)
        if example and t.get("value") is not None:
            return "✓ → " + shorten(t["value"], 50)
        if out == "passed":
            return f"✓ {duration_text(t['duration'])}"
        if out == "skipped":
            return "⊘ skipped"
        return f"✓ {out}" if out in ("xfailed", "xpassed") else out
    counts = summarize(entries)
    seconds = sum(t["duration"] for t in entries)
    mark = "✗" if counts.get("failed") or counts.get("error") else "✓"
    return f"{mark} {summary_line(counts)} · {duration_text(seconds)}"


def public(entry: Test) -> Test:
    """The entry as clients see it: internal bookkeeping keys dropped."""
    return {k: v for k, v in entry.items() if k not in ("categories", "file", "path")}

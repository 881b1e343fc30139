"""Server: lens titles, what a lens says before, during and after its runs.

VS Code draws codicons (``$(pass)``, ``$(loading~spin)``) in lens titles;
other clients (Neovim) show a title as raw text, so they get plain marks
instead. Which one a client gets is decided from its ``clientInfo`` (or the
``lensIcons`` initialization option: ``"codicons"`` or ``"text"``). A lens
that ran says what happened, how long the run took (its wall time, not the
sum of test durations) and that clicking runs it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...shared.results import duration_text, failed, summarize, summary_line

#: clientInfo names (lower case, substrings) of editors that draw codicons in lens titles.
CODICON_CLIENTS = ("visual studio code", "code-server", "vscodium", "code - oss", "cursor")


@dataclass(frozen=True)
class Icons:
    run: str
    running: str
    passed: str
    failed: str
    skipped: str
    value: str
    again: str


CODICONS = Icons(
    run="$(play)",
    running="$(loading~spin)",
    passed="$(pass)",
    failed="$(error)",
    skipped="$(circle-slash)",
    value="$(arrow-right)",
    again="$(debug-rerun) Run again",
)
TEXT = Icons(
    run="▶",
    running="…",
    passed="✓",
    failed="✗",
    skipped="⊘",
    value="→",
    again="▶ Run again",
)

BASE = {"file": "Run file", "folder": "Run folder", "test": "Run test", "class": "Run test"}
BASE["example"] = "Run example"


def icons_for(client_name: str | None, option: Any = None) -> Icons:
    """Codicons for VS Code and its relatives, plain marks for everyone else."""
    if option in ("codicons", "text"):
        return CODICONS if option == "codicons" else TEXT
    name = (client_name or "").lower()
    return CODICONS if any(c in name for c in CODICON_CLIENTS) else TEXT


def base(icons: Icons, kind: str) -> str:
    return f"{icons.run} {BASE[kind]}"


def running(icons: Icons) -> str:
    return f"{icons.running} Running…"


def shorten(text: str, limit: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def after(icons: Icons, text: str) -> str:
    return f"{text} · {icons.again}"


def of_tests(
    icons: Icons, entries: list[dict[str, Any]], wall: float | None, example: bool = False
) -> str | None:
    """The title for one lens's latest results (None: never run).

    ``wall`` is the wall time of the run that produced them all, if one did.
    """
    if not entries:
        return None
    if len(entries) == 1:
        t = entries[0]
        out = t["outcome"]
        seconds = wall if wall is not None else t["duration"]
        if failed(out):
            message = t.get("message") or out
            if message.startswith("assert "):  # pytest's rewritten assert names no type
                message = "AssertionError: " + message
            return after(icons, f"{icons.failed} {shorten(message)}")
        if example and t.get("value") is not None:
            return after(icons, f"{icons.passed} {icons.value} {shorten(t['value'], 50)}")
        if out == "skipped":
            return after(icons, f"{icons.skipped} skipped")
        word = "" if out == "passed" else f"{out} "
        subtests = [s for s in t.get("subtests") or [] if s["outcome"] == "passed"]
        if subtests:
            word += f"{len(subtests)} subtests passed · "
        return after(icons, f"{icons.passed} {word}{duration_text(seconds)}")
    counts = summarize(entries)
    seconds = wall if wall is not None else sum(t["duration"] for t in entries)
    bad = any(failed(t["outcome"]) for t in entries)
    mark = icons.failed if bad else icons.passed
    return after(icons, f"{mark} {summary_line(counts)} · {duration_text(seconds)}")


def of_run(icons: Icons, last: dict[str, Any]) -> str:
    """The title for a lens whose last run ran no test: deselected, not found, refused."""
    if last["outcome"] == "deselected":
        return after(icons, f"{icons.skipped} {summary_line(last['summary'])}")
    if last["outcome"] == "empty":
        return after(icons, f"{icons.skipped} no tests ran")
    return after(icons, f"{icons.failed} {shorten(last.get('message') or last['outcome'])}")

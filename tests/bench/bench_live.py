"""Live tests on a real project: selection recall by mutation, and edit-to-result time.

For each of N single-function breaks (a ``raise`` put first in a function's body,
as an UNSAVED edit of the real project's source), over a real LSP pipe with
``liveTests: true``:

1. the live run that follows the edit: which tests it ran (``twinls/runResults``);
2. the truth: a run of the whole suite with the same unsaved text
   (``twinls.runFolder``: real pytest in a run child; tests/parity shows those
   runs match ``python -m pytest``), and which tests newly fail there;
3. a miss is a newly failing test the live run did not run. The bench reports
   misses (must be 0), the tests the live run ran against the suite's size, and
   the edit → ``twinls/runResults`` time (the live run's whole wall time, p50).

Then the break is undone (its live run is waited for too). The project comes
from tests/parity (pinned sdist, its own venv; nothing is written into it).

    .venv/bin/python tests/bench/bench_live.py                      # more-itertools, 30 breaks
    .venv/bin/python tests/bench/bench_live.py --mutants 10 --project packaging
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "parity")]

from harness import cache_dir, prepare  # noqa: E402
from projects import PROJECTS  # noqa: E402

from lsp_harness import lsp_session  # noqa: E402
from test_live import listen  # noqa: E402

#: Source files broken, per project (relative to its root).
SOURCES = {
    "more-itertools": ("more_itertools/more.py", "more_itertools/recipes.py"),
    "packaging": ("src/packaging/version.py", "src/packaging/specifiers.py"),
}
WAIT = 900.0
FAILED = ("failed", "error")


def mutants(text: str, count: int) -> list[tuple[str, str]]:
    """(function name, text with a ``raise`` first in its body), spread over the file."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    found = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        first = body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(body) > 1:
            first = body[1]  # after the docstring
        indent = " " * first.col_offset
        at = first.lineno - 1
        broken = [*lines[:at], f"{indent}raise RuntimeError('twinls mutant')\n", *lines[at:]]
        found.append((node.name, "".join(broken)))
    step = max(1, len(found) // max(count, 1))
    return found[::step][:count]


def failing(note_or_result: dict[str, Any]) -> set[str]:
    result = note_or_result.get("result", note_or_result)
    return {t["nodeid"] for t in result["tests"] if t["outcome"] in FAILED}


async def next_live(client: Any, notes: list[dict[str, Any]], start: int) -> dict[str, Any]:
    """The first finished (not cancelled) edit run reported after index ``start``."""
    done = await client.wait_for(
        lambda: next(
            (
                n
                for n in notes[start:]
                if n["reason"] == "edit" and n["result"]["outcome"] != "cancelled"
            ),
            None,
        ),
        timeout=WAIT,
        what="a live run",
    )
    return done


async def bench(project_name: str, count: int) -> int:
    project = next(p for p in PROJECTS if p.name == project_name)
    src, python = prepare(project, cache_dir())
    sources = SOURCES[project_name]
    options = {"liveTests": True, "python": str(python), "pool": 1, "runTimeout": 300}
    async with lsp_session(src, init_options=options) as client:
        notes = listen(client)
        originals = {}
        for rel in sources:
            originals[rel] = (src / rel).read_text()
            client.open(rel)
        await client.wait_for(lambda: notes, timeout=WAIT, what="the baseline live run")
        base = notes[0]["result"]
        suite = len(base["tests"])
        base_failed = failing(base)
        print(f"{project.sdist}: {suite} tests, {len(base_failed)} failing before any break")
        rows = []
        per_file = max(1, count // len(sources))
        for rel in sources:
            for name, text in mutants(originals[rel], per_file):
                start, t0 = len(notes), time.monotonic()
                client.replace_all(rel, text)
                live = await next_live(client, notes, start)
                seconds = time.monotonic() - t0
                ran = {t["nodeid"] for t in live["result"]["tests"]}
                full = await client.command("twinls.runFolder", client.uri("."))
                broke = failing(full) - base_failed
                missed = sorted(broke - ran)
                rows.append((f"{rel}:{name}", len(ran), len(broke), missed, seconds))
                print(
                    f"  {rel}:{name}: live ran {len(ran)}, {len(broke)} newly fail, "
                    f"missed {len(missed)} {missed[:3]} ({seconds:.2f} s)",
                    flush=True,
                )
                start = len(notes)
                client.replace_all(rel, originals[rel])
                await next_live(client, notes, start)
        misses = sum(len(r[3]) for r in rows)
        ran = [r[1] for r in rows]
        times = [r[4] for r in rows]
        print(
            f"\n{len(rows)} breaks, {misses} missed failing tests; live ran "
            f"{statistics.mean(ran):.1f} tests per edit on average (median "
            f"{statistics.median(ran):.0f}, max {max(ran)}) of {suite}; "
            f"edit -> twinls/runResults p50 {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s"
        )
        return 1 if misses else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="more-itertools", choices=sorted(SOURCES))
    parser.add_argument("--mutants", type=int, default=30)
    args = parser.parse_args(argv)
    return asyncio.run(bench(args.project, args.mutants))


if __name__ == "__main__":
    raise SystemExit(main())

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

``--restart``: the map kept in the server's cache (``server/mapstore.py``). Two
sessions on the project with ``cache: true`` and a private ``XDG_CACHE_HOME``:
the time from a live twin (the session's ``initialized`` answered and a twin up)
to "live is precise", in session 1 the baseline run's end (the map complete), in
session 2 the ``restored`` notification (nothing changed: no run); then in
session 2 one break of a function, its live run's tests and wall time.

``--latency``: edit to first live result instead. For each break, the time from
sending the ``didChange`` to the first diagnostic naming the break's exception
(the run child's ``failing`` event, published at once), p50/p95 over the
breaks; then the break is undone and its diagnostics are waited away. Run
twice in one go, with ``TWINLS_CODE_SWAP=0`` (an edit of the code under test
replaces the test file's collection zygote) and without (body-only edits keep
it, ``run/code_swap.py``).

    .venv/bin/python tests/bench/bench_live.py                      # more-itertools, 30 breaks
    .venv/bin/python tests/bench/bench_live.py --mutants 10 --project packaging
    .venv/bin/python tests/bench/bench_live.py --latency --mutants 20
    .venv/bin/python tests/bench/bench_live.py --latency --swap-only --against OLD/server --rounds 2
    .venv/bin/python tests/bench/bench_live.py --restart
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import statistics
import sys
import tempfile
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


MUTANT = "twinls mutant"
POLL = 0.002  # seconds between looks at the client's diagnostics (the clock's resolution)


def mutant_diagnostics(client: Any) -> int:
    return sum(MUTANT in d.message for ds in client.diagnostics.values() for d in ds)


async def until(predicate: Any, what: str) -> float:
    """Wait (finely) for ``predicate``; the monotonic time it first held."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)
    return time.monotonic()


async def latency(
    project_name: str, count: int, swap: bool, server: str | None = None
) -> list[tuple[str, float]]:
    """Edit -> first diagnostic of the break, per break (one session); ``server``: another
    checkout's ``server`` folder, first on the server's ``PYTHONPATH``."""
    project = next(p for p in PROJECTS if p.name == project_name)
    src, python = prepare(project, cache_dir())
    options = {"liveTests": True, "python": str(python), "pool": 1, "runTimeout": 300}
    env = {"TWINLS_CODE_SWAP": "1" if swap else "0"}
    if server is not None:
        env["PYTHONPATH"] = server
    rows = []
    async with lsp_session(src, init_options=options, env=env) as client:
        notes = listen(client)
        originals = {}
        for rel in SOURCES[project_name]:
            originals[rel] = (src / rel).read_text()
            client.open(rel)
        await client.wait_for(lambda: notes, timeout=WAIT, what="the baseline live run")
        per_file = max(1, count // len(originals))
        for rel, original in originals.items():
            for name, text in mutants(original, per_file):
                start, t0 = len(notes), time.monotonic()
                client.replace_all(rel, text)
                seen = await until(lambda: mutant_diagnostics(client), f"{name}'s diagnostic")
                rows.append((f"{rel}:{name}", seen - t0))
                run = (await next_live(client, notes, start))["result"]
                served = ", ".join(
                    f"{Path(w['file']).name}'s zygote {w['zygote']} run {w['run']}"
                    + (" swapped" if w["swapped"] else "")
                    for w in run.get("warm") or []
                )
                print(
                    f"  {rel}:{name}: {(seen - t0) * 1000:.0f} ms; the run: "
                    f"{len(run['tests'])} tests, {served or 'collected cold'}",
                    flush=True,
                )
                start = len(notes)
                client.replace_all(rel, original)
                await next_live(client, notes, start)
                await until(lambda: not mutant_diagnostics(client), f"{name}'s fix")
    return rows


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def latencies(
    project_name: str, count: int, swaps: tuple[bool, ...], against: str | None, rounds: int
) -> int:
    servers: list[str | None] = [None] if against is None else [against, None]
    for swap in swaps:
        for server in servers * rounds:
            await latency_row(project_name, count, swap, server)
    return 0


async def latency_row(project_name: str, count: int, swap: bool, server: str | None) -> None:
    rows = await latency(project_name, count, swap, server)
    times = [t for _, t in rows]
    label = f"{server}: " if server else ""
    print(
        f"{label}TWINLS_CODE_SWAP={int(swap)}: {len(rows)} breaks, edit -> first diagnostic "
        f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"(first {times[0] * 1000:.0f} ms)\n",
        flush=True,
    )


async def session(
    src: Path, options: dict[str, Any], env: dict[str, str], break_one: bool
) -> dict[str, Any]:
    """One session: seconds from a live twin to live being precise, and (``break_one``)
    the first break's live run."""
    out: dict[str, Any] = {}
    async with lsp_session(src, init_options=options, env=env) as client:
        t0 = time.monotonic()
        notes = listen(client)
        for rel in SOURCES["more-itertools"][:1]:
            client.open(rel)
        first = await client.wait_for(lambda: notes and notes[0], timeout=WAIT, what="a run")
        out["precise"] = time.monotonic() - t0
        out["reason"] = first["reason"]
        out["tests"] = len(first["result"]["tests"])
        for _ in range(int(WAIT / 0.1)):  # until the map is written (a bound, not a timing)
            live = (await client.status())["live"]
            if live["saved"] or not break_one and live["restored"]:
                break
            await asyncio.sleep(0.1)
        out["live"] = live
        if break_one:
            rel = SOURCES["more-itertools"][0]
            name, text = mutants((src / rel).read_text(), 3)[1]
            start, t1 = len(notes), time.monotonic()
            client.replace_all(rel, text)
            run = await next_live(client, notes, start)
            out["edit"] = (name, len(run["result"]["tests"]), time.monotonic() - t1)
    return out


async def restart(project_name: str) -> int:
    project = next(p for p in PROJECTS if p.name == project_name)
    src, python = prepare(project, cache_dir())
    options = {"liveTests": True, "python": str(python), "pool": 1, "runTimeout": 300}
    options["cache"] = True
    with tempfile.TemporaryDirectory(prefix="twinls-bench-cache-") as cache:
        env = {"XDG_CACHE_HOME": cache}
        one = await session(src, options, env, break_one=False)
        kept = sum(p.stat().st_size for p in Path(cache).glob("twinls/v*/livemap/*/*"))
        two = await session(src, options, env, break_one=True)
    print(
        f"{project.sdist}: session 1 {one['reason']} ({one['tests']} tests) precise after "
        f"{one['precise']:.2f} s; kept map {kept / 1024:.0f} KiB; session 2 {two['reason']} "
        f"({two['live']['restored']} tests restored) precise after {two['precise']:.2f} s; "
        f"its first break ({two['edit'][0]}) ran {two['edit'][1]} tests in {two['edit'][2]:.2f} s"
    )
    return 0 if two["reason"] == "restored" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="more-itertools", choices=sorted(SOURCES))
    parser.add_argument("--mutants", type=int, default=30)
    parser.add_argument("--latency", action="store_true", help="edit -> first diagnostic")
    parser.add_argument("--restart", action="store_true", help="the map kept across sessions")
    parser.add_argument("--swap-only", action="store_true", help="--latency: swapping on only")
    parser.add_argument(
        "--against", help="--latency: also another checkout's server folder, in turn with this one"
    )
    parser.add_argument("--rounds", type=int, default=1, help="--latency: turns of --against")
    args = parser.parse_args(argv)
    if args.restart:
        return asyncio.run(restart(args.project))
    if args.latency:
        swaps = (True,) if args.swap_only else (False, True)
        return asyncio.run(latencies(args.project, args.mutants, swaps, args.against, args.rounds))
    return asyncio.run(bench(args.project, args.mutants))


if __name__ == "__main__":
    raise SystemExit(main())

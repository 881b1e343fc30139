"""Hover and outline latency during a stdlib references search, with and without the lane twin.

    .venv/bin/python tests/bench/bench_interactive.py [--pool N] [--rounds 1] [--json out.json]
        [--query "re.compile"]

Each variant (``off``: ``interactiveTwin`` false; ``on``: true; ``on-nice``: true
and the search threads niced by 10, ``TWINLS_SEARCH_NICE``; ``pause``: the defaults,
the search twins stopped while the interactive twin answers, ``interactivePause``, and
answers kept in the server; ``pause-ask``: the same, every request asking a twin;
``pause-new``: that, and every hover at a place never hovered before;
``main``: the defaults of the checkout ``--main`` names, from its ``.venv``), ``--rounds`` times
interleaved so that a change of load falls on each, is a fresh twinls on the
standard library, cache off (``--cache``: on, from an empty cache dir), with
``shutil.py`` open. First ``IDLE`` hovers and outlines with no search (the
requests' own cost), then the cold first references search (index build
included) and ``WARM`` warm repeats of it, with a hover or a documentSymbol of
``shutil.py`` sent every ``GAP`` seconds (one at a time) while each search runs.
Reports p50/p95/max per phase and the peak RSS of the server's process tree
(server + twins, sampled every 50 ms, as ``bench_search.py``), and of its PSS
(shared pages split among the forks that share them), each search's answer's
hash (identical across variants) and how long the pauses stopped the search twins.
``--stages DIR``: each request's stages too (``stages.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import keyword
import os
import re
import statistics
import sys
import tempfile
import time
import tokenize
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_search import (  # noqa: E402
    STDLIB,
    STDLIB_QUERIES,
    PeakRss,
    ask,
    ended,
    rollup,
    session,
    target_position,
)

#: The searches a run may hover during: bench_search's, by the name they are of.
QUERIES = {
    name: next(q for q in STDLIB_QUERIES if f" {name} " in q.label)
    for name in ("re.compile", "os.path.join")
}
IDLE = [10]  # requests with no search running (``--idle``)
WARM = 4  # warm repeats of the search
GAP = 0.05  # seconds between one answer and the next request
HOVERED = STDLIB / "shutil.py"
NAN = float("nan")


def hover_spots() -> list[tuple[int, int]]:
    """Names in shutil.py worth a hover: ``os.path.<name>(`` calls, at the name."""
    spots = []
    for i, line in enumerate(HOVERED.read_text().splitlines()):
        m = re.search(r"os\.path\.(\w+)\(", line)
        if m:
            spots.append((i, m.start(1)))
    return spots[:: max(1, len(spots) // 8)][:8]


def new_spots() -> list[tuple[int, int]]:
    """For ``pause-new``: the last name (a token, not a keyword) of every code line of
    shutil.py, in order, so each hover of a run is a question not asked before (a run
    sends a few hundred)."""
    last: dict[int, int] = {}
    with HOVERED.open("rb") as f:
        for tok in tokenize.tokenize(f.readline):
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                last[tok.start[0] - 1] = tok.start[1]
    return sorted(last.items())


#: Every interactive request of the run, for ``--stages``: its method and monotonic times.
SENT: list[dict[str, Any]] = []
HOVERS = [0]  # hovers sent this run: the next one's spot
PHASE = ["idle"]  # the phase the requests being sent belong to


async def one(client, n: int, spots: list[tuple[int, int]]) -> float:
    """The n-th interactive request (hovers and outlines in turn); its latency."""
    from lsprotocol import types

    doc = types.TextDocumentIdentifier(uri=HOVERED.as_uri())
    start = time.perf_counter()
    sent = time.monotonic()
    if n % 2 == 0:
        line, col = spots[HOVERS[0] % len(spots)]
        HOVERS[0] += 1
        method = types.TEXT_DOCUMENT_HOVER
        await client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=types.Position(line, col))
        )
    else:
        method = types.TEXT_DOCUMENT_DOCUMENT_SYMBOL
        await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=doc)
        )
    SENT.append({"method": method, "c_send": sent, "c_recv": time.monotonic(), "phase": PHASE[0]})
    return time.perf_counter() - start


async def during(client, search: asyncio.Task, spots: list[tuple[int, int]]) -> list[float]:
    """Requests one after another while ``search`` runs; the latencies of those sent before
    it ended."""
    out: list[float] = []
    n = 0
    while not search.done():
        await asyncio.sleep(GAP)
        if search.done():
            break
        latency = await one(client, n, spots)
        n += 1
        out.append(latency)
    return out


#: name -> (initializationOptions, TWINLS_SEARCH_NICE for the twins' search threads)
VARIANTS: dict[str, tuple[dict[str, Any], str]] = {
    "off": ({"interactiveTwin": False, "interactivePause": 0}, "0"),
    "on": ({"interactiveTwin": True, "interactivePause": 0}, "0"),
    "on-nice": ({"interactiveTwin": True, "interactivePause": 0}, "10"),
    # The search twins stopped while the interactive twin answers (``server/pause.py``).
    "pause": ({"interactiveTwin": True}, "0"),
    # ... with every request asking a twin (no answers kept in the server: lsp/answers.py).
    "pause-ask": ({"interactiveTwin": True}, "0"),
    # ... and every hover at a place not hovered before (``new_spots``).
    "pause-new": ({"interactiveTwin": True}, "0"),
    # ``--main PATH``: the defaults of another checkout's twinls (its .venv), side by side.
    "main": ({}, "0"),
}
MAIN: list[Path] = []


async def run(
    variant: str, pool: int | None, query: str, cache: bool, stages: str | None = None
) -> dict[str, Any]:
    from lsprotocol import types

    options, nice = VARIANTS[variant]
    lane = options.get("interactiveTwin", True)
    python = str(MAIN[0] / ".venv" / "bin" / "python") if variant == "main" else sys.executable
    command = [python, "-m", "twinls"]
    if stages:  # the server's and twins' stage timestamps (``stages.py``)
        stages = tempfile.mkdtemp(prefix=f"{variant}-", dir=stages)
        command = [python, str(HERE / "stages.py"), stages]
    SENT.clear()
    PHASE[0] = "idle"
    init: dict[str, Any] = {"cache": cache, **options}
    if cache:  # the default, from an empty cache: the index is built once and shared
        os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="twinls-bench-")
    if pool:
        init["pool"] = pool
    os.environ["TWINLS_SEARCH_NICE"] = nice  # the server (and so its twins) inherit it
    os.environ["TWINLS_KEEP_ANSWERS"] = "0" if variant in ("pause-ask", "pause-new") else "1"
    client = await session(command, init)
    rss = PeakRss(client._server.pid)
    out: dict[str, Any] = {"variant": variant, "lane": lane}
    try:
        status = lambda: client.workspace_execute_command_async(  # noqa: E731
            types.ExecuteCommandParams(command="twinls.status")
        )
        st = await status()
        while lane and not st["lanes"]:
            await asyncio.sleep(0.05)
            st = await status()
        out["twins"] = len(st["twins"]) + len(st["lanes"])
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(
                    uri=HOVERED.as_uri(), language_id="python", version=1, text=HOVERED.read_text()
                )
            )
        )
        spots = new_spots() if variant == "pause-new" else hover_spots()
        HOVERS[0] = 0
        out["idle"] = [await one(client, n, spots) for n in range(IDLE[0])]
        q = QUERIES[query]
        path, line, col = target_position(q.rel, q.anchor, q.method)
        phases: dict[str, list[float]] = {"cold": [], "warm": []}
        totals: list[float] = []
        for i in range(1 + WARM):
            PHASE[0] = "cold" if i == 0 else "warm"
            search = asyncio.ensure_future(ask(client, "references", path, line, col, f"s{i}"))
            phases["cold" if i == 0 else "warm"] += await during(client, search, spots)
            result = await search
            totals.append(result.get("total", float("nan")))
            found = sorted(result.get("found", ()))
            out.setdefault("answers", []).append(hashlib.sha256(repr(found).encode()).hexdigest())
            if i == 0:
                out["found"] = len(found)
        out.update(phases)
        out["search_totals"] = totals
        st = await status()
        out["paused_s"] = st["pool"].get("paused_s")  # what the pauses took from the searches
        out["memory"] = {kind: [rollup(t["pid"]) for t in st[kind]] for kind in ("twins", "lanes")}
    finally:
        out["peak_rss"] = await ended(client, rss)
        out["peak_pss"] = rss.peak_pss
    if stages:
        import stages as stages_mod

        out["breakdown"] = stages_mod.breakdown(SENT, stages)
    return out


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def ms(x: float) -> str:
    return "—" if x != x else f"{x * 1000:.0f}"


def stage_cell(rows: list[dict[str, Any]], slow: list[dict[str, Any]], key: str) -> str:
    xs = [r["flat"][key] for r in rows if key in r["flat"]]
    tail = [r["flat"][key] for r in slow if key in r["flat"]]
    mean = statistics.fmean(tail) if tail else NAN
    return f"{ms(pct(xs, 0.5))} / {ms(pct(xs, 0.95))} / {ms(mean)}"


def print_stages(results: list[dict[str, Any]]) -> None:
    """Per variant and phase: each stage's p50 and p95, and its mean over the slowest
    tenth of the requests (where the p95 goes)."""
    import stages as stages_mod

    names = [name for name, _, _ in stages_mod.STAGES]
    extra = ["twin cpu", "twin runnable", "loop cpu", "loop runnable"]
    print("\nStages, ms: p50 / p95 / mean of the slowest tenth")
    print("\n| variant | phase | n | total | " + " | ".join(names + extra) + " |")
    print("|---|---|---|---|" + "---|" * (len(names) + len(extra)))
    for res in results:
        rows = res.get("breakdown", [])
        for phase in ("idle", "cold", "warm"):
            mine = [r for r in rows if r["phase"] == phase]
            if not mine:
                continue
            for r in mine:
                r["flat"] = {
                    **r["stages"],
                    "total": r["total"],
                    "twin cpu": r["twin"].get("cpu", NAN),
                    "twin runnable": r["twin"].get("runnable", NAN),
                    "loop cpu": r["loop_cpu"],
                    "loop runnable": r["loop_runnable"],
                }
            slow = sorted(mine, key=lambda r: r["total"])[-max(1, len(mine) // 10) :]

            cells = " | ".join(stage_cell(mine, slow, k) for k in ["total"] + names + extra)
            print(f"| {res['variant']} | {phase} | {len(mine)} | {cells} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=None, help="search twins (default: sized)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--idle", type=int, default=IDLE[0], help="requests before the search")
    parser.add_argument("--query", default="re.compile", choices=sorted(QUERIES))
    parser.add_argument("--json", default=None)
    parser.add_argument("--cache", action="store_true", help="cache on, from empty (default off)")
    parser.add_argument("--variants", default="off,on,on-nice", help=f"of {sorted(VARIANTS)}")
    parser.add_argument("--main", default=None, help="the checkout the 'main' variant runs")
    parser.add_argument(
        "--stages", default=None, help="a folder: time each request's stages (stages.py)"
    )
    args = parser.parse_args()
    if args.main:
        MAIN.append(Path(args.main).resolve())
    results = []
    for _ in range(args.rounds):  # interleaved: a change of load falls on every variant
        for variant in args.variants.split(","):
            IDLE[0] = args.idle
            res = asyncio.run(run(variant, args.pool, args.query, args.cache, args.stages))
            results.append(res)
            answers = sorted(set(res.get("answers", [])))
            print(
                f"{variant}: done ({res.get('found')} found; answers {answers}; "
                f"search twins stopped {res.get('paused_s')} s)",
                file=sys.stderr,
            )
    print(f"load average {os.getloadavg()[0]:.2f} at the end; query {args.query}")
    print(
        "\n| variant | twins | phase | requests | p50 ms | p95 ms | max ms | search s "
        "| peak RSS | peak PSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for res in results:
        for phase in ("idle", "cold", "warm"):
            xs = res.get(phase, [])
            totals = res.get("search_totals", [])
            took = (
                "—"
                if phase == "idle" or not totals
                else f"{totals[0]:.1f}"
                if phase == "cold"
                else f"{statistics.median(totals[1:]):.2f}"
            )
            print(
                f"| {res['variant']} | {res.get('twins')} | {phase} | {len(xs)} "
                f"| {ms(pct(xs, 0.5))} | {ms(pct(xs, 0.95))} | {ms(max(xs, default=NAN))} "
                f"| {took} | {res['peak_rss'] / 2**20:.0f} MiB "
                f"| {res['peak_pss'] / 2**20:.0f} MiB |"
            )
    print("\n| variant | search twins' RSS / PSS after | interactive twin's RSS / PSS after |")
    print("|---|---|---|")
    for res in results:
        mem = res.get("memory", {})

        def mib(rows: list[dict[str, int]]) -> str:
            return ", ".join(f"{r['rss'] / 2**20:.0f} / {r['pss'] / 2**20:.0f}" for r in rows)

        lanes = mib(mem.get("lanes", [])) or "—"
        print(f"| {res['variant']} | {mib(mem.get('twins', []))} | {lanes} |")
    if args.stages:
        print_stages(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

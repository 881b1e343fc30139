"""The first streamed references result, each query on a fresh server (issue 10).

    .venv/bin/python tests/bench/bench_first.py [--rounds 2] [--ask-at def|use]
        [--queries SUBSTRING,...] [--total]
    # another checkout's code, for a side-by-side run:
    PYTHONPATH=/tmp/main-src/server .venv/bin/python tests/bench/bench_first.py ...

``bench_search.py``'s "cold first" is a fresh server's for its first query only
(the index is built and jedi warm for the next). Here every query gets a fresh
twinls (default settings, an empty server cache), asked once after
``twinls.status`` as ``bench_search.py`` asks, at the same positions; printed:
the time to the first ``$/progress`` batch, what that batch holds, and with
``--total`` the whole answer's time and size (so a faster first result that
changes the answer shows).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_search as B  # noqa: E402


async def first_result(label: str, kind: str, path: Path, line: int, col: int, total: bool):
    from lsprotocol import types

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="twinls-first-")
    client = await B.session([sys.executable, "-m", "twinls"], None)
    try:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="twinls.status")
        )
        token = f"first-{label}"
        start = time.perf_counter()
        asked = asyncio.ensure_future(B.ask(client, kind, path, line, col, token))
        while not client.progress_times.get(token) and not asked.done():
            await asyncio.sleep(0.001)
        times = client.progress_times.get(token)
        out = {"first": (times[0] if times else time.perf_counter()) - start}
        batch = (client.progress_values.get(token) or [[]])[0]
        out["batch"] = sorted({B._path_of(loc["uri"]).rsplit("/", 1)[-1] for loc in batch})
        out["size"] = len(batch)
        if total:
            done = await asked
            out["total"], out["count"] = done["total"], len(done["found"])
        else:
            asked.cancel()
        return out
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 30)
        finally:
            await client.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="fresh servers per query")
    parser.add_argument("--ask-at", choices=["def", "use"], default="def")
    parser.add_argument("--queries", default="references", help="labels holding one of these")
    parser.add_argument("--total", action="store_true", help="also wait for the whole answer")
    args = parser.parse_args()
    B.ASK_AT[0] = args.ask_at
    wanted = args.queries.split(",")
    asks = [
        a for a in B.asks() if a[1].kind == B.REFS and any(w in a[0] for w in wanted)
    ]  # the stdlib's queries (bench_search's --project default), asked where --ask-at says
    print(f"asked at: {args.ask_at}; load average {os.getloadavg()[0]:.1f}")
    print("| query | first result, each round | first batch | total, count |")
    print("|---|---|---|---|")
    for label, query, path, line, col in asks:
        runs = [
            asyncio.run(first_result(label, query.kind, path, line, col, args.total))
            for _ in range(args.rounds)
        ]
        firsts = " ".join(B._ms(r["first"]) for r in runs)
        batch = f"{runs[-1]['size']} in {', '.join(runs[-1]['batch'])}"
        totals = " ".join(f"{B._ms(r['total'])}, {r['count']}" for r in runs if "total" in r)
        print(f"| {label} | {firsts} | {batch} | {totals or '—'} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())

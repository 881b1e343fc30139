"""Run on purpose: references recall on a PyPI project, a few hundred names chosen at random.

Usage: .venv/bin/python tests/bench/bench_recall_project.py [--names 300] [--seed N]
           [--servers twinls,pyright,basedpyright,jls] [--truth-cache F] [--json F]

The workspace is the sdist of ``recall_truth.PROJECT`` (click: src layout,
tests), fetched with pip into ``.bench-tools/sdist``. The names are sampled
(seeded) from its definitions; the truth is plain jedi, a ``Script`` per file
(``recall_truth.truth_references``). Each server gets a fresh session and every
name twice (``references``, declaration included); per server it prints the
true locations found of all the truth's (micro recall), the names answered
completely, false hits, whether the two passes agreed, the total time of each
pass, and on how many names twinls found at least the best peer's true hits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/
sys.path.insert(0, str(HERE))

import bench_search as B  # noqa: E402

from recall_truth import fetch_sdist, sample_names, truth_references  # noqa: E402

Name = tuple[str, int, int, str]


async def run(server: str, command: list[str], init: Any, root: Path, names: list[Name]):
    from lsprotocol import types

    client = await B.session(command, init, root)
    rss = B.PeakRss(client._server.pid)
    passes: list[dict[str, Any]] = []
    try:
        opened: set[str] = set()
        for _ in range(2):
            started, found = time.perf_counter(), {}
            for rel, line, col, _name in names:
                path = root / rel
                if server != "twinls" and rel not in opened:
                    opened.add(rel)
                    client.text_document_did_open(
                        types.DidOpenTextDocumentParams(
                            types.TextDocumentItem(
                                uri=path.as_uri(), language_id="python", version=1,
                                text=path.read_text(),
                            )
                        )
                    )  # fmt: skip
                got = await B.ask(client, B.REFS, path, line, col, f"{server}-{rel}-{line}")
                found[(rel, line, col)] = {
                    (str(Path(p).relative_to(root)) if p.startswith(str(root)) else p, ln, c)
                    for p, ln, c in got.get("found", ())
                }
            passes.append({"seconds": time.perf_counter() - started, "found": found})
    finally:
        peak = rss.stop()
        try:
            await asyncio.wait_for(client.shutdown_session(), 30)
        finally:
            await client.stop()
    return {"passes": passes, "peak_rss": peak}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--servers", default="twinls,pyright,basedpyright,jls")
    ap.add_argument("--truth-cache", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    root = fetch_sdist(B.ROOT / ".bench-tools" / "sdist").resolve()
    names = sample_names(root, args.names, args.seed)
    cache = Path(args.truth_cache) if args.truth_cache else None
    truth: dict[str, list] = json.loads(cache.read_text()) if cache and cache.exists() else {}
    started = time.perf_counter()
    for rel, line, col, _ in names:
        key = f"{rel}:{line}:{col}"
        if key not in truth:
            truth[key] = sorted(truth_references(root, rel, line, col))
            if cache:
                cache.write_text(json.dumps(truth))
    print(f"ground truth for {len(names)} names in {time.perf_counter() - started:.0f} s")
    commands = {
        "twinls": ([sys.executable, "-m", "twinls"], None),
        "pyright": ([str(B.PYRIGHT), "--stdio"], None),
        "basedpyright": ([str(B.BASEDPYRIGHT), "--stdio"], None),
        "jls": ([B.ensure_jls()], None) if "jls" in args.servers else ([], None),
    }
    results = {}
    for server in args.servers.split(","):
        command, init = commands[server]
        results[server] = asyncio.run(run(server, command, init, root, names))
    true = {(r, ln, c): {tuple(x) for x in truth[f"{r}:{ln}:{c}"]} for r, ln, c, _ in names}
    total = sum(len(t) for t in true.values())
    hits = {
        s: {k: len(res["passes"][-1]["found"][k] & true[k]) for k in true}
        for s, res in results.items()
    }
    print(f"\n{root.name}: {len(names)} names (seed {args.seed}), {total} true locations")
    print("| server | true found | names complete | false hits | passes agree | "
          "pass 1 / pass 2 | peak RSS |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for s, res in results.items():
        last = res["passes"][-1]["found"]
        false = sum(len(last[k] - true[k]) for k in true)
        complete = sum(1 for k in true if true[k] <= last[k])
        agree = all(p["found"] == res["passes"][0]["found"] for p in res["passes"])
        times = " / ".join(f"{p['seconds']:.1f} s" for p in res["passes"])
        print(
            f"| {s} | {sum(hits[s].values())} of {total} ({sum(hits[s].values()) / total:.1%}) "
            f"| {complete} of {len(true)} | {false} | {'yes' if agree else 'NO'} | {times} | "
            f"{res['peak_rss'] / 2**20:.0f} MiB |"
        )
    if "twinls" in hits and len(hits) > 1:
        peers = [s for s in hits if s != "twinls"]
        ok = sum(1 for k in true if hits["twinls"][k] >= max(hits[p][k] for p in peers))
        print(f"\ntwinls found at least the best peer's true hits on {ok} of {len(true)} names")
    if args.json:
        missed = {
            s: {f"{r}:{ln}:{c}": sorted(true[(r, ln, c)] - res["passes"][-1]["found"][(r, ln, c)])
                for r, ln, c in true}
            for s, res in results.items()
        }  # fmt: skip
        Path(args.json).write_text(json.dumps({"missed": missed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

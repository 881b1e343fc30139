"""Session 2 on the stdlib: document symbols while the kept index entries travel to the twins.

    .venv/bin/python tests/bench/bench_kept.py --cache-dir DIR [--asks 40]

``DIR`` is an ``XDG_CACHE_HOME`` a first session filled (``bench_search.py
--sessions 2 --cache-dir DIR``, or this script's ``--fill``). A fresh server
starts on it; once a twin is up, one references request (answered from the
cache) makes the server send every twin the kept index entries (megabytes),
and ``--asks`` ``textDocument/documentSymbol`` requests follow back to back on
a small file: their latencies while the entries are read, sent and decoded,
then the same once every twin's index is built (idle). Every answer's count
is checked against the first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_search import STDLIB, ask, session, target_position  # noqa: E402


async def symbols(client, path: Path) -> tuple[float, int]:
    from lsprotocol import types

    start = time.perf_counter()
    found = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(path.as_uri()))
    )
    return time.perf_counter() - start, len(found or [])


async def index_built(client) -> bool:
    from lsprotocol import types

    st = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="twinls.status")
    )
    twins = st["twins"]
    return len(twins) > 1 and all(t["index"].get("files") for t in twins)


async def run(asks: int, pool: int) -> dict[str, object]:
    from lsprotocol import types

    client = await session([sys.executable, "-m", "twinls"], {"pool": pool})
    small = STDLIB / "colorsys.py"
    try:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="twinls.status")
        )
        path, line, col = target_position("shutil.py", "def copyfileobj(", None)
        refs = await ask(client, "references", path, line, col, "kept-refs")
        during = [await symbols(client, small) for _ in range(asks)]
        for _ in range(6000):  # a bound, not a timing: until both twins' indexes are built
            if await index_built(client):
                break
            await asyncio.sleep(0.05)
        idle = [await symbols(client, small) for _ in range(asks)]
    finally:
        await asyncio.wait_for(client.shutdown_session(), 30)
        await client.stop()
    counts = {n for _, n in during + idle}
    return {
        "refs_total": refs.get("total"),
        "refs_found": len(refs.get("found", ())),
        "during": [t for t, _ in during],
        "idle": [t for t, _ in idle],
        "counts_identical": len(counts) == 1,
    }


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:.1f} ms, "
        f"max {max(values) * 1000:.1f} ms (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", required=True, help="XDG_CACHE_HOME a first session filled")
    parser.add_argument("--asks", type=int, default=40)
    parser.add_argument("--pool", type=int, default=2)
    args = parser.parse_args()
    os.environ["XDG_CACHE_HOME"] = args.cache_dir
    out = asyncio.run(run(args.asks, args.pool))
    print(f"references (kept): {out['refs_found']} locations in {out['refs_total'] * 1000:.0f} ms")
    print(f"documentSymbol while the kept entries travel: {_ms(out['during'])}")
    print(f"documentSymbol once both indexes are built:  {_ms(out['idle'])}")
    print(f"every answer's count identical: {out['counts_identical']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

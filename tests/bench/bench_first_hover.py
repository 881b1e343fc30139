"""The first hovers after a document opens, with the interactive twin warmed or not (issue 10).

    .venv/bin/python tests/bench/bench_first_hover.py --against OLD/server [--rounds 3]

A fresh twinls (default settings) on a folder holding a copy of the standard library's
``shutil.py``; it is opened, the interactive twin comes up, then the bench waits
``--settle`` seconds (a user reading before hovering; the warm-up, ``search.hover_warm``,
runs meanwhile) and hovers the first ``os.path.<name>`` use of each of 5 lines, one
after the other. ``--against``: another checkout's ``server`` folder (first on the
server's ``PYTHONPATH``), in turn with this one. Printed: each hover's ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from lsp_harness import lsp_session  # noqa: E402
from test_interactive_lane import lane_up  # noqa: E402


async def hovers(server: str | None, settle: float) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="twinls-first-hover-") as root:
        src = Path(shutil.__file__)
        (Path(root) / "shutil.py").write_text(src.read_text())
        env = {"XDG_CACHE_HOME": os.path.join(root, ".cache")}
        if server:
            env["PYTHONPATH"] = server
        lines = src.read_text().splitlines()
        asks = [(i, ln.index("os.path.") + 8) for i, ln in enumerate(lines) if "os.path." in ln]
        async with lsp_session(Path(root), env=env) as client:
            client.open("shutil.py")
            await lane_up(client)
            await asyncio.sleep(settle)
            out = []
            for line, col in asks[:5]:
                start = time.perf_counter()
                await client.text_document_hover_async(
                    types.HoverParams(
                        text_document=types.TextDocumentIdentifier(uri=client.uri("shutil.py")),
                        position=types.Position(line, col),
                    )
                )
                out.append((time.perf_counter() - start) * 1000)
            return out


async def run(against: str | None, rounds: int, settle: float) -> None:
    for _ in range(rounds):
        for server in ([against] if against else []) + [None]:
            ms = await hovers(server, settle)
            label = server or "this checkout"
            print(f"{label}: hovers {', '.join(f'{m:.0f}' for m in ms)} ms", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=None, help="another checkout's server folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before the hovers")
    args = parser.parse_args()
    asyncio.run(run(args.against, args.rounds, args.settle))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Debug runs (run on purpose: `python tests/bench/bench_debug.py [--repeat N]`).

What a Debug run costs over a plain run of the same test, through a real server over
LSP and a DAP client (tests/dap_client.py, what an editor's debugger does): the time
until `twinls.debug` answers with the address (a warm child forked, debugpy imported
and listening), until the breakpoint stops (initialize, attach, setBreakpoints on a
line only the editor's text has, configurationDone), and from `continue` to DAP's
`terminated`. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from figures import ms_p99  # noqa: E402

from dap_client import DapClient  # noqa: E402
from lsp_harness import lsp_session  # noqa: E402
from test_debug import IN_EDITOR, ON_DISK, TEST  # noqa: E402


def attach(host: str, port: int, path: str) -> tuple[float, float]:
    """Seconds until stopped at the breakpoint, and from `continue` to `terminated`."""
    start = time.perf_counter()
    dap = DapClient(host, port)
    try:
        dap.request("initialize", adapterID="python", clientID="bench", pathFormat="path",
                    linesStartAt1=True, columnsStartAt1=True)  # fmt: skip
        seq = dap.send("attach", justMyCode=False)
        dap.event("initialized")
        dap.request("setBreakpoints", source={"path": path}, breakpoints=[{"line": 4}])
        dap.request("configurationDone")
        dap.response(seq)
        stopped = dap.event("stopped")
        at_stop = time.perf_counter()
        dap.request("continue", threadId=stopped["threadId"])
        dap.event("terminated")
        return at_stop - start, time.perf_counter() - at_stop
    finally:
        dap.close()


async def bench(root: Path, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in ("run", "address", "stopped", "ended")}
    async with lsp_session(root) as client:
        client.open("calc.py", IN_EDITOR)
        uri = client.open("test_calc.py")
        path = str(root / "calc.py")
        await client.command("twinls.runAt", uri, {"line": 4, "character": 0})  # warm
        for _ in range(repeat):
            start = time.perf_counter()
            result = await client.command("twinls.runAt", uri, {"line": 4, "character": 0})
            times["run"].append(time.perf_counter() - start)
            assert result["outcome"] == "passed", result
            start = time.perf_counter()
            where = await client.command("twinls.debug", uri, {"line": 4})
            times["address"].append(time.perf_counter() - start)
            stop, end = await asyncio.to_thread(attach, where["host"], where["port"], path)
            times["stopped"].append(stop)
            times["ended"].append(end)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "calc.py").write_text(ON_DISK)
        (root / "test_calc.py").write_text(TEST)
        times = asyncio.run(bench(root, args.repeat))
    print("| what | median (p99) |\n|---|---|")
    print(f"| a plain run of the test (`twinls.runAt`) | {ms_p99(times['run'])} |")
    print(f"| `twinls.debug` until the address | {ms_p99(times['address'])} |")
    print(f"| attach until stopped at the breakpoint | {ms_p99(times['stopped'])} |")
    print(f"| `continue` until `terminated` | {ms_p99(times['ended'])} |")


if __name__ == "__main__":
    main()

"""Edit sync and twin start-up, measured (run on purpose: `python tests/bench/bench_sync.py`).

- edit -> twin: a one-character edit in a 5,000-line file, from the server's
  ``pool.apply`` until a call ordered after it completes in the twin (so the
  figure is an upper bound that includes the answer's way back);
- LSP throughput: didChange notifications through a real stdio server, until a
  request sent after them is answered with the twin's matching hash;
- start-up: fork to first answer, warm (imports done in the server) and cold
  (a fresh interpreter, imports included), and restart after kill -9.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raw_lsp import initialize, message, read_response  # noqa: E402
from twinls.server.pool import TwinPool, preload  # noqa: E402

LINES = 5000


def big_text() -> str:
    return "".join(
        f"def f{i}(x):  # a line of ordinary code, about sixty characters\n" for i in range(LINES)
    )


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def bench_edit_latency(root: str, n: int = 2000) -> dict[str, float]:
    t0 = time.perf_counter()
    preload()  # what the server does once, before its first fork
    imports = time.perf_counter() - t0
    pool = TwinPool([root], size=1)
    t0 = time.perf_counter()
    pool.start(wait=True)
    pool.call("status").result(30)
    start_warm = time.perf_counter() - t0
    path = os.path.join(root, "big.py")
    pool.apply({"op": "open", "path": path, "text": big_text(), "version": 0})
    pool.call("status").result(30)
    lat = []
    for i in range(n):
        line = (i * 37) % LINES
        t = time.perf_counter()
        pool.apply(
            {"op": "change", "path": path, "version": i + 1, "edits": [[line, 4, line, 4, "x"]]}
        )
        pool.call("read", "/nonexistent").result(30)
        lat.append(time.perf_counter() - t)
    # Throughput at the pool: edits back to back, then one ordered call.
    t = time.perf_counter()
    for i in range(n):
        line = (i * 53) % LINES
        pool.apply(
            {"op": "change", "path": path, "version": n + i + 1, "edits": [[line, 4, line, 4, "y"]]}
        )
    pool.call("status").result(60)
    pool_tput = n / (time.perf_counter() - t)
    # Restart after kill -9, until the new twin answers.
    twin = pool.live()[0]
    t = time.perf_counter()
    os.kill(twin.pid, signal.SIGKILL)
    while not pool.live() or pool.live()[0] is twin:
        time.sleep(0.001)
    pool.call("status").result(30)
    restart = time.perf_counter() - t
    pool.close()
    return {
        "p50": statistics.median(lat),
        "p99": pct(lat, 0.99),
        "pool_tput": pool_tput,
        "start_warm": start_warm,
        "restart": restart,
        "imports": imports,
    }


def bench_cold_start(root: str) -> float:
    code = (
        "import time; t=time.perf_counter(); from twinls import Twin; "
        f"tw=Twin.start({root!r}); tw.status(); print(time.perf_counter()-t); tw.close()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def bench_lsp_throughput(root: str, n: int = 20000) -> float:
    """didChange through a real stdio server: the client's bytes are framed up front,
    so the figure is the server's (and its twin's), not a client library's."""
    uri = Path(root, "big.py").as_uri()

    def status(msg_id: int) -> bytes:
        return message(
            id=msg_id,
            method="workspace/executeCommand",
            params={"command": "twinls.status", "arguments": []},
        )

    proc = subprocess.Popen(
        [sys.executable, "-m", "twinls"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        proc.stdin.write(initialize(root) + message(method="initialized", params={}))
        proc.stdin.write(
            message(
                method="textDocument/didOpen",
                params={
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": 1,
                        "text": big_text(),
                    }
                },
            )
        )
        proc.stdin.write(status(2))
        proc.stdin.flush()
        read_response(proc.stdout, 2)
        edits = b"".join(
            message(
                method="textDocument/didChange",
                params={
                    "textDocument": {"uri": uri, "version": i + 2},
                    "contentChanges": [
                        {
                            "range": {
                                "start": {"line": (i * 37) % LINES, "character": 4},
                                "end": {"line": (i * 37) % LINES, "character": 4},
                            },
                            "text": "z",
                        }
                    ],
                },
            )
            for i in range(n)
        )
        t = time.perf_counter()
        proc.stdin.write(edits + status(3))
        proc.stdin.flush()
        result = read_response(proc.stdout, 3)["result"]
        elapsed = time.perf_counter() - t
        assert result["twins"][0]["hashes"] == result["server"]["hashes"]
        return n / elapsed
    finally:
        proc.kill()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        r = bench_edit_latency(tmp)
        cold = bench_cold_start(tmp)
        lsp_tput = bench_lsp_throughput(tmp)
    print(f"| edit -> twin applied, p50 (5,000-line file) | {r['p50'] * 1e3:.3f} ms |")
    print(f"| edit -> twin applied, p99 | {r['p99'] * 1e3:.3f} ms |")
    print(f"| edits/s at the pool (apply + send, twin keeps up) | {r['pool_tput']:,.0f} |")
    print(f"| edits/s through LSP stdio (didChange -> twin) | {lsp_tput:,.0f} |")
    print(f"| server's one-time preload (jedi, pytest, queries) | {r['imports'] * 1e3:.0f} ms |")
    print(f"| twin start after preload (fork -> first answer) | {r['start_warm'] * 1e3:.0f} ms |")
    print(f"| twin start, fresh interpreter (imports included) | {cold * 1e3:.0f} ms |")
    print(f"| restart after kill -9 -> first answer | {r['restart'] * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()

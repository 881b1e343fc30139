"""Warm test re-runs vs a cold pytest (run on purpose: `python tests/bench/bench_run.py`).

One test of a small project whose code under test imports a heavy library at
module level (numpy when this interpreter has it, else jedi) is re-run N times
each way, interleaved so both see the same machine load:

- **twinls**: ``workspace/executeCommand twinls.runTest`` over a real stdio LSP
  connection to ``python -m twinls`` (a client that accepts server-created
  progress and lens refreshes, as editors do), timed from request to response;
- **cold**: ``python -m pytest test_heavy.py::test_mean`` as a fresh process
  from the project folder, which is what editor test explorers run.

Twice: with the plugins this interpreter has installed, and bare
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`` for both the server and the cold runs),
the cheapest a cold run can be.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raw_lsp import message, read_message  # noqa: E402

LIB = """\
import {lib}


def mean(values):
    return sum(values) / len(values)
"""

TEST = """\
from heavy_lib import mean


def test_mean():
    assert mean([1, 2, 3]) == 2
"""


class Client:
    """A minimal LSP client over stdio that answers the server's own requests."""

    def __init__(self, root: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "twinls"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env={**os.environ, **env},
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: BinaryIO = self.proc.stdin
        self.stdout: BinaryIO = self.proc.stdout
        self.ids = iter(range(1, 1_000_000))

    def notify(self, method: str, params: Any) -> None:
        self.stdin.write(message(method=method, params=params))
        self.stdin.flush()

    def request(self, method: str, params: Any) -> Any:
        msg_id = next(self.ids)
        self.stdin.write(message(id=msg_id, method=method, params=params))
        self.stdin.flush()
        while True:
            msg = read_message(self.stdout)
            if "method" in msg and "id" in msg:  # progress create, lens refresh: accept
                self.stdin.write(message(id=msg["id"], result=None))
                self.stdin.flush()
            elif msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg.get("result")

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()


def start_client(root: str, env: dict[str, str]) -> Client:
    client = Client(root, env)
    uri = Path(root).as_uri()
    client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "bench"}],
            "capabilities": {
                "window": {"workDoneProgress": True},
                "workspace": {"codeLens": {"refreshSupport": True}},
            },
            "initializationOptions": {"pool": 1},
        },
    )
    client.notify("initialized", {})
    client.request("workspace/executeCommand", {"command": "twinls.status", "arguments": []})
    return client


def cold_run(root: str, env: dict[str, str]) -> tuple[float, bool]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "test_heavy.py::test_mean"],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - t0, proc.returncode == 0


def warm_run(client: Client, uri: str) -> tuple[float, bool]:
    arg = {"uri": uri, "nodeid": "test_heavy.py::test_mean", "qualname": "test_mean"}
    t0 = time.perf_counter()
    result = client.request(
        "workspace/executeCommand", {"command": "twinls.runTest", "arguments": [arg]}
    )
    return time.perf_counter() - t0, result["outcome"] == "passed"


def import_seconds(lib: str) -> float:
    code = f"import time; t = time.perf_counter(); import {lib}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def stats(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {
        "median": statistics.median(ms),
        "p90": ms[min(len(ms) - 1, int(0.9 * len(ms)))],
        "min": ms[0],
    }


def measure(root: str, n: int, env: dict[str, str]) -> tuple[float, list[float], list[float]]:
    """(first twinls run, warm re-runs, cold runs), interleaved."""
    uri = Path(root, "test_heavy.py").as_uri()
    client = start_client(root, env)
    try:
        first, ok = warm_run(client, uri)  # the first run also preloads what it imported
        assert ok, "the benchmark's test should pass through twinls"
        warm_run(client, uri)
        cold_run(root, env)  # lets pytest write its caches once, as a user's machine has them
        warm: list[float] = []
        cold: list[float] = []
        for _ in range(n):
            seconds, ok = warm_run(client, uri)
            assert ok
            warm.append(seconds)
            seconds, ok = cold_run(root, env)
            assert ok, "the benchmark's test should pass under plain pytest"
            cold.append(seconds)
    finally:
        client.close()
    return first, warm, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="re-runs each way")
    default_lib = "numpy" if importlib.util.find_spec("numpy") else "jedi"
    parser.add_argument("--lib", default=default_lib, help="heavy library the code imports")
    args = parser.parse_args()
    import pytest

    report: dict[str, Any] = {"lib": args.lib, "import_s": import_seconds(args.lib)}
    table = []
    scenarios = [("installed plugins", {}), ("bare", {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})]
    for label, env in scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.realpath(tmp)
            Path(root, "heavy_lib.py").write_text(LIB.format(lib=args.lib))
            Path(root, "test_heavy.py").write_text(TEST)
            first, warm, cold = measure(root, args.n, env)
        w, c = stats(warm), stats(cold)
        report[label] = {"first_twinls_s": first, "warm_ms": w, "cold_ms": c}
        table.append((label, w, c))
    print(json.dumps(report, indent=2))
    print()
    print(
        f"Python {platform.python_version()}, pytest {pytest.__version__}, "
        f"{os.cpu_count()} cores, n={args.n}, heavy library: {args.lib}"
    )
    print()
    print("| plugins | one re-run of `test_heavy.py::test_mean` | median | p90 | min |")
    print("|---|---|---|---|---|")
    for label, w, c in table:
        print(
            f"| {label} | twinls (`twinls.runTest` over LSP, warm twin) "
            f"| {w['median']:.0f} ms | {w['p90']:.0f} ms | {w['min']:.0f} ms |"
        )
        print(
            f"| {label} | cold `python -m pytest test_heavy.py::test_mean` "
            f"| {c['median']:.0f} ms | {c['p90']:.0f} ms | {c['min']:.0f} ms |"
        )
        print(f"| {label} | speed-up (median) | {c['median'] / w['median']:.1f}x | | |")


if __name__ == "__main__":
    main()

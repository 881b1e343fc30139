"""What the hardening costs: edits and runs, this tree next to an older one.

Run on purpose: `python tests/bench/bench_harden.py --before DIR` where DIR holds
an older checkout's ``server/`` (e.g. ``git archive a4ce319 server | tar -x -C DIR``).
Both servers run from this venv (the older one by ``PYTHONPATH``), interleaved
round by round so they see the same machine load:

- didChange throughput through a real stdio server (``bench_sync``'s figure:
  the stricter framing loop and the encode-before-apply are on this path);
- one re-run of a passing test over LSP (``bench_run``'s figure: the run's
  sweep, the pidfd watch and the executor's descriptor and limit set-up are on
  this path).

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_run  # noqa: E402
import bench_sync  # noqa: E402

TEST = "def test_quick():\n    assert 1 + 1 == 2\n"


def throughput(root: str, pythonpath: str | None) -> float:
    saved = os.environ.get("PYTHONPATH")
    if pythonpath:
        os.environ["PYTHONPATH"] = pythonpath
    try:
        return bench_sync.bench_lsp_throughput(root, n=10000)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def reruns(root: str, pythonpath: str | None, n: int) -> list[float]:
    env = {"PYTHONPATH": pythonpath} if pythonpath else {}
    client = bench_run.start_client(root, env)
    uri = Path(root, "test_quick.py").as_uri()
    arg = {"uri": uri, "nodeid": "test_quick.py::test_quick", "qualname": "test_quick"}
    try:
        times = []
        for i in range(n + 2):
            t0 = time.perf_counter()
            result = client.request(
                "workspace/executeCommand", {"command": "twinls.runTest", "arguments": [arg]}
            )
            assert result["outcome"] == "passed", result
            if i >= 2:  # the first two warm the twin
                times.append(time.perf_counter() - t0)
        return times
    finally:
        client.close()


PEAK = """
import os, sys, tempfile
from twinls import Twin
mb = int(sys.argv[1])
line = "def f(x):  # a line of ordinary code, about sixty characters long\\n"
text = line * (mb * 1024 * 1024 // len(line))
with tempfile.TemporaryDirectory() as tmp, Twin.start(tmp) as twin:
    twin.open(os.path.join(tmp, "big.py"), text)
    twin.call("search.implementors", "f", "utf-16").result(600)
    pid = twin.status()[0]["pid"]
    status = open(f"/proc/{pid}/status").read()
    print(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1])
"""


def index_peak(pythonpath: str | None, mb: int) -> float:
    """A twin's peak memory (MiB) after indexing an open document of ``mb`` MB."""
    import subprocess

    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(mb)], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a folder holding an older server/")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=10, help="re-runs per round")
    parser.add_argument("--index-mb", type=int, default=48, help="0 skips the memory figure")
    args = parser.parse_args()
    trees = {"before": str(Path(args.before, "server").resolve()), "after": None}
    tput: dict[str, list[float]] = {k: [] for k in trees}
    runs: dict[str, list[float]] = {k: [] for k in trees}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_quick.py").write_text(TEST)
        for _ in range(args.rounds):
            for name, path in trees.items():
                tput[name].append(throughput(tmp, path))
                runs[name].extend(reruns(tmp, path, args.n))
    peaks = {k: index_peak(p, args.index_mb) for k, p in trees.items()} if args.index_mb else {}
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("| what | before | after |")
    print("|---|---|---|")
    print(
        "| didChange/s through LSP stdio (range over rounds) | "
        + " | ".join(f"{min(tput[k]):,.0f}–{max(tput[k]):,.0f}" for k in trees)
        + " |"
    )
    for label, fn in (("median", statistics.median), ("min", min)):
        print(
            f"| one re-run of a passing test over LSP, {label} | "
            + " | ".join(f"{fn(runs[k]) * 1000:.0f} ms" for k in trees)
            + " |"
        )
    if peaks:
        print(
            f"| a twin's peak memory after indexing an open {args.index_mb} MB document | "
            + " | ".join(f"{peaks[k]:,.0f} MiB" for k in trees)
            + " |"
        )


if __name__ == "__main__":
    main()

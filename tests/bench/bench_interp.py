"""Twins in another interpreter vs forked from the server (run on purpose:
`python tests/bench/bench_interp.py`).

For the server's own interpreter (twins forked from the server) and each project
venv of scripts/setup-interp.sh (twins forked from a zygote in that CPython), N
times, interleaved so all see the same machine load:

- **first twin**: a new pool until its twin has answered ``status`` (for a zygote
  this includes starting the interpreter, the bootstrap and the preload);
- **restart**: ``kill -9`` of the twin until a new one answers ``status``
  (includes the pool's first 100 ms backoff);
- **call**: one ``status`` round trip to a warm twin (median of 20).

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "server"))

from figures import ms_range  # noqa: E402

from twinls.server.interpreter import Interpreter  # noqa: E402
from twinls.server.pool import TwinPool  # noqa: E402


def wait_new_twin(pool: TwinPool, old_pid: int | None, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = pool.live()
        if live and live[0].pid != old_pid:
            try:
                return pool.call("status", twin=live[0]).result(30)["pid"]
            except Exception:
                pass
        time.sleep(0.002)
    raise RuntimeError("no twin came up")


def measure(root: str, interp: Interpreter | None) -> dict[str, float]:
    t0 = time.perf_counter()
    pool = TwinPool([root], size=1, interpreter=interp)
    pool.start(wait=False)
    pid = wait_new_twin(pool, None)
    first = time.perf_counter() - t0
    calls = []
    for _ in range(20):
        c0 = time.perf_counter()
        pool.call("status").result(30)
        calls.append(time.perf_counter() - c0)
    r0 = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    wait_new_twin(pool, pid)
    restart = time.perf_counter() - r0
    pool.close()
    return {"first": first, "restart": restart, "call": statistics.median(calls)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    targets: dict[str, Interpreter | None] = {f"server's own {sys.version.split()[0]} (fork)": None}
    for v in ("3.10", "3.12", "3.13"):
        exe = REPO / ".test-envs" / f"py{v}" / "bin" / "python"
        if exe.exists():
            targets[f"project venv {v} (zygote)"] = Interpreter(str(exe), "setting")
    results: dict[str, list[dict[str, float]]] = {k: [] for k in targets}
    with tempfile.TemporaryDirectory() as root:
        Path(root, "a.py").write_text("x = 1\n")
        for _ in range(args.repeat):
            for name, interp in targets.items():
                results[name].append(measure(root, interp))
    print(f"{args.repeat} runs each, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")
    print("| interpreter | first twin answers | restart after kill -9 | status round trip |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        call = statistics.median(r["call"] * 1000 for r in runs)
        first, restart = ms_range(runs, "first"), ms_range(runs, "restart")
        print(f"| {name} | {first} | {restart} | {call:.2f} ms |")


if __name__ == "__main__":
    main()

"""Workspace folders in different interpreters (run on purpose:
`python tests/bench/bench_folders.py`).

Two folders, ``a`` in the 3.10 project venv and ``b`` in the 3.12 one (scripts/
setup-interp.sh), one twin per interpreter, against one folder in 3.10 alone, N times
interleaved so both see the same machine load:

- **served**: a new pool until every folder has a twin of its interpreter answering
  ``status`` (both zygotes start side by side);
- **switch one folder**: ``b`` moves to 3.13 until its new twin answers; ``a``'s twin
  must be the same process after it (checked, not timed).

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "server"))

from figures import ms_range  # noqa: E402

from twinls.server.interpreter import Interpreter  # noqa: E402
from twinls.server.pool import TwinPool  # noqa: E402


def venv(v: str) -> Interpreter:
    exe = REPO / ".test-envs" / f"py{v}" / "bin" / "python"
    if not exe.exists():
        sys.exit(f"no project venv for {v}: run scripts/setup-interp.sh")
    return Interpreter(str(exe), "setting")


def served(pool: TwinPool, want: dict[str, str], timeout: float = 180) -> dict[str, int]:
    """Each folder's twin pid once one of its interpreter's version answers status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids: dict[str, int] = {}
        for root, version in want.items():
            for twin in pool.live(os.path.join(root, "x.py")):
                try:
                    st = pool.call("status", twin=twin).result(30)
                except Exception:
                    continue
                if st["python"]["version"].startswith(version + "."):
                    pids[root] = st["pid"]
        if len(pids) == len(want):
            return pids
        time.sleep(0.005)
    raise RuntimeError(f"the folders were not served as {want}")


def measure(a: str, b: str, two: bool) -> dict[str, float]:
    choices = {a: venv("3.10"), b: venv("3.12")} if two else {a: venv("3.10")}
    want = {a: "3.10", b: "3.12"} if two else {a: "3.10"}
    t0 = time.perf_counter()
    pool = TwinPool(list(choices), size=1, interpreters=choices)
    pool.start(wait=False)
    pids = served(pool, want)
    out = {"served": time.perf_counter() - t0}
    if two:
        s0 = time.perf_counter()
        pool.set_interpreters({b: venv("3.13")})
        after = served(pool, {a: "3.10", b: "3.13"})
        out["switch"] = time.perf_counter() - s0
        assert after[a] == pids[a], "a's twin was restarted by b's switch"
    pool.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        for folder in (a, b):
            os.mkdir(folder)
            Path(folder, "m.py").write_text("x = 1\n")
        for _ in range(args.repeat):
            for two in (False, True):
                runs[two].append(measure(a, b, two))
    print(f"{args.repeat} runs each, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")
    print("| workspace | every folder served | switch one folder (3.12 → 3.13) |")
    print("|---|---|---|")
    print(f"| one folder (3.10) | {ms_range(runs[False], 'served')} | – |")
    two = runs[True]
    print(f"| two folders (3.10, 3.12) | {ms_range(two, 'served')} | {ms_range(two, 'switch')} |")


if __name__ == "__main__":
    main()

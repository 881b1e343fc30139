"""Live tests' tracer: what recording costs a real project's test run, per interpreter.

The run child's recorder (``run/trace.py``) in three modes, on a real suite
(more-itertools, the pinned sdist tests/parity unpacked into its cache; read,
never written):

- ``none``: plain pytest, no recorder;
- ``functions``: the recorder with function records only (what the map needs);
- ``lines``: functions and line coverage (what live runs record).

Each mode runs the suite in a fresh interpreter (``pytest.main`` timed inside
it, so interpreter start-up is left out), ``--repeat`` times; the table gives
the median and the overhead per test against ``none``. 3.11 runs the
``sys.settrace`` tracer, 3.12 ``sys.monitoring``.

    nice -n 10 .venv/bin/python tests/bench/bench_trace.py              # 3.11 and 3.12
    nice -n 10 .venv/bin/python tests/bench/bench_trace.py --repeat 5 --python 3.12
    nice -n 10 .venv/bin/python tests/bench/bench_trace.py --python 3.11 --server ../main/server
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from twinls.server import launch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE.parent / "parity")]

from harness import cache_dir  # noqa: E402
from projects import PROJECTS  # noqa: E402

MODES = ("none", "functions", "lines")
#: The interpreters: this venv's (3.11) and the project venv tests/test_interpreter.py uses.
PYTHONS = {
    "3.11": REPO / ".venv" / "bin" / "python",
    "3.12": REPO / ".test-envs" / "py3.12" / "bin" / "python",
}

#: Runs in the child interpreter: the suite under one mode, its time and event counts.
CHILD = """
import json, sys, time
import pytest
from twinls.run import trace

mode, src, tests = sys.argv[1], sys.argv[2], sys.argv[3]
events = {"executed": 0, "lines": 0}

def emit(event):
    if event["k"] == "executed":
        events["executed"] += 1
        events["lines"] += sum(len(n) for n in event.get("lines", {}).values())

plugins = []
if mode != "none":
    rec = trace.Recorder(emit, lambda p: open(p, encoding="utf-8").read(), [src])
    if mode == "functions":
        rec.codes = trace.Codes()  # no file's lines wanted: function records only
    plugins.append(rec)
started = time.perf_counter()
code = pytest.main(["-q", "-p", "no:cacheprovider", "-x", tests], plugins=plugins)
seconds = time.perf_counter() - started
print("BENCH " + json.dumps({"seconds": seconds, "exit": int(code), **events}))
"""


def run_once(
    python: Path, mode: str, src: Path, own: str, server: Path = REPO / "server"
) -> dict[str, float]:
    """One run of the suite under ``mode``; ``own``: a folder holding twinls's own pure
    dependencies (cloudpickle, msgpack's fallback) for an interpreter without them."""
    path = [str(src), str(server), own]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    proc = subprocess.run(
        [str(python), "-c", CHILD, mode, str(src), str(src / "tests")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(
            f"{python} {mode}: no result\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    got = json.loads(line[6:])
    if got["exit"] != 0:
        raise RuntimeError(f"{python} {mode}: pytest exit {got['exit']}\n{proc.stdout[-2000:]}")
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python", action="append", choices=sorted(PYTHONS))
    parser.add_argument(
        "--server", type=Path, default=REPO / "server", help="another checkout's server/"
    )
    args = parser.parse_args(argv)
    project = next(p for p in PROJECTS if p.name == "more-itertools")
    src = cache_dir() / "src" / f"{project.name}-{project.version}"
    if not src.exists():
        print(f"no {src}: run tests/parity once (it unpacks the pinned sdist)", file=sys.stderr)
        return 2
    own = tempfile.mkdtemp(prefix="twinls-bench-trace-")  # symlinks only, removed after
    for name in ("cloudpickle", "msgpack"):
        folder = launch.folder_of(name)
        if folder is not None:
            os.symlink(os.path.join(folder, name), os.path.join(own, name))
    print(
        f"{project.name} {project.version}, load {os.getloadavg()[0]:.2f}, {args.repeat} runs each"
    )
    print(
        "| Python | tracer | mode | suite (median s) | tests | lines recorded | overhead per test |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    for version in args.python or sorted(PYTHONS):
        python = PYTHONS[version]
        if not python.exists():
            print(f"| {version} | (no interpreter at {python}) | | | | | |")
            continue
        tracer = "sys.monitoring" if version >= "3.12" else "sys.settrace"
        medians: dict[str, float] = {}
        for mode in MODES:
            runs = [run_once(python, mode, src, own, args.server) for _ in range(args.repeat)]
            medians[mode] = statistics.median(r["seconds"] for r in runs)
            tests = runs[0]["executed"]
            base = medians["none"]
            per_test = ""
            if mode != "none" and tests:
                extra = (medians[mode] - base) / tests * 1e3
                per_test = f"{extra:.2f} ms ({medians[mode] / base - 1:+.0%})"
            used = tracer if mode != "none" else "-"
            lines = runs[0]["lines"] if mode == "lines" else "-"
            print(
                f"| {version} | {used} | {mode} | {medians[mode]:.2f} | "
                f"{tests or '-'} | {lines} | {per_test} |",
                flush=True,
            )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(own)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

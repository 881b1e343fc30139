"""Warm collection: one test of a 51,000-case parametrized module, re-run from its lens vs cold.

A module with ``@pytest.mark.parametrize("n", range(51_000))`` (the issue's
case); one case is re-run N times each way, interleaved so both see the same
machine load:

- **warm**: ``twinls.runTest`` over a real LSP pipe (``tests/lsp_harness.py``),
  timed from request to answer; the first run collects the module in a new
  collection zygote (reported apart), each later one is a fork of it (the
  answer's ``warm`` says so; the bench fails if one is not);
- **cold**: ``python -m pytest test_big.py::test_case[K] -p no:cacheprovider``,
  a fresh process from the project folder, as editor test explorers run it.

    .venv/bin/python tests/bench/bench_warm.py            # 51,000 cases, 7 runs each
    .venv/bin/python tests/bench/bench_warm.py --cases 5000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lsp_harness import lsp_session  # noqa: E402

MODULE = """\
import pytest


@pytest.mark.parametrize("n", range({cases}))
def test_case(n):
    assert n * 2 == n + n
"""


def cold(root: Path, case: int) -> float:
    t0 = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            f"test_big.py::test_case[{case}]",
            "-p",
            "no:cacheprovider",
        ],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - t0


async def bench(cases: int, runs: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_big.py").write_text(MODULE.format(cases=cases))
        async with lsp_session(root, init_options={"runTimeout": 600}) as client:
            uri = client.uri("test_big.py")

            async def warm(case: int) -> tuple[float, dict]:
                t0 = time.monotonic()
                answer = await client.command(
                    "twinls.runTest", {"uri": uri, "qualname": f"test_case[{case}]"}
                )
                assert [t["outcome"] for t in answer["tests"]] == ["passed"], answer
                return time.monotonic() - t0, answer

            first, answer = await warm(0)
            zygote = answer["warm"][0]["zygote"]
            warm_s, cold_s = [], []
            for i in range(1, runs + 1):
                case = (i * 7919) % cases
                seconds, answer = await warm(case)
                assert answer["warm"] == [{"zygote": zygote, "run": i + 1}], answer["warm"]
                warm_s.append(seconds)
                cold_s.append(cold(root, case))
    w, c = statistics.median(warm_s), statistics.median(cold_s)
    print(f"{cases} cases; first lens run (collects, forks the zygote) {first:.2f} s")
    print("| run | p50 | min | max |\n|---|---|---|---|")
    for name, times in (("warm lens re-run", warm_s), ("cold `pytest FILE::test_case[K]`", cold_s)):
        p50, low, high = statistics.median(times), min(times), max(times)
        print(f"| {name} | {p50:.3f} s | {low:.3f} s | {high:.3f} s |")
    print(f"\nwarm is {c / w:.1f}x faster at p50 ({runs} runs each, interleaved)")
    return 0 if c / w >= 10 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=51_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    return asyncio.run(bench(args.cases, args.runs))


if __name__ == "__main__":
    raise SystemExit(main())

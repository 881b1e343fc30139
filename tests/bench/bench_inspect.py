"""Live results (run on purpose: `python tests/bench/bench_inspect.py [--repeat N]`).

Through the Python API's pool (what `twinls run --inspect` uses): an example
run with parking on and off (what keeping the run child costs the run), then
`run.inspect` round trips against the parked child: one level of a dict, a
page of 100 items of a 10**10-long lazy sequence at its far end, the three
levels an editor expands first; and the parked child's resident memory.
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import ms_p99  # noqa: E402

from twinls.api import Twin  # noqa: E402
from twinls.server.plan import Run, Target  # noqa: E402

SHAPES = """\
class Lazy:
    def __len__(self):
        return 10**10

    def __getitem__(self, i):
        return i


def example_value():
    return {"rows": [{"id": i, "tags": ["a", "b"]} for i in range(1000)], "lazy": Lazy()}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "shapes.py").write_text(SHAPES)
        target = Target("example", str(root / "shapes.py"), "example_value", "call")
        rows = []
        for park in (0, 4):
            with Twin.start(root, settings={"parkMax": park}) as twin:
                walls = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    result = Run(twin.pool, target).start().wait(60)
                    walls.append(time.perf_counter() - start)
                rows.append((f"example run, parkMax {park}", ms_p99(walls)))
                if not park:
                    continue
                handle = result["tests"][0]["handle"]
                (t,) = twin.pool.live()

                def ask(h: str, offset: int = 0, t: object = t) -> dict:
                    return twin.pool.call("run.inspect", h, offset, 100, twin=t).result(60)

                top = ask(handle)
                lazy = next(c for c in top["items"] if c["name"] == "'lazy'")["handle"]
                rows_h = next(c for c in top["items"] if c["name"] == "'rows'")["handle"]
                one, page, three = [], [], []
                for _ in range(args.repeat):
                    s = time.perf_counter()
                    ask(handle)
                    one.append(time.perf_counter() - s)
                    s = time.perf_counter()
                    ask(lazy, 10**10 - 100)
                    page.append(time.perf_counter() - s)
                    s = time.perf_counter()
                    first = ask(rows_h)["items"][0]["handle"]
                    ask(ask(first)["items"][1]["handle"])
                    three.append(time.perf_counter() - s)
                (info,) = twin.pool.call("run.parked", 0, twin=t).result(60)
                rows += [
                    ("`run.inspect`: one level of the dict", ms_p99(one)),
                    ("a page of 100 of a 10**10-long sequence, at its end", ms_p99(page)),
                    ("three levels (rows › rows[0] › its tags)", ms_p99(three)),
                    ("the parked child's resident memory", f"{info['rss'] / 1024:.1f} MiB"),
                ]
    print("| what | median (p99) |\n|---|---|")
    for what, figure in rows:
        print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()

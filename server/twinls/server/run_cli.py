"""Server: ``twinls run [FILE[::TEST] | FOLDER]``, a run from the terminal, through a twin.

Results print as they arrive, then pytest's warnings summary, its closing line
and any run-level error in pytest's words; the exit status is pytest's
(0 passed, 1 failed, 2 interrupted, 3 internal error, 4 usage, 5 no tests).
With no target the whole workspace runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from ..cli import subcommand
from ..shared import results
from . import stubs
from .plan import Run, Target

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "pytest.ini", "tox.ini", ".git")

WORDS = {
    "passed": "PASSED",
    "failed": "FAILED",
    "error": "ERROR",
    "skipped": "SKIPPED",
    "xfailed": "XFAIL",
    "xpassed": "XPASS",
}


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        nargs="?",
        default=None,
        help="a file, FILE::TEST (a test, class or example) or a folder (default: the workspace)",
    )
    p.add_argument("--root", default=None, help="workspace folder (default: found from FILE)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per test (default 60)")
    p.add_argument(
        "--inspect",
        nargs="?",
        type=int,
        const=2,
        default=0,
        metavar="DEPTH",
        help="print the top levels (default 2) of each example's value and failure's frames",
    )


def find_root(path: str) -> str:
    """The nearest folder at or above ``path`` with a project marker; else its folder."""
    start = path if os.path.isdir(path) else os.path.dirname(path)
    folder = start
    while True:
        if any(os.path.exists(os.path.join(folder, m)) for m in ROOT_MARKERS):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent


def target_for(units: list[dict[str, Any]], path: str, qualname: str) -> Target:
    """What ``FILE::NAME`` names: a test or class (pytest-style), or an example (dotted)."""
    if not qualname:
        return Target("file", path)
    for unit in units:
        if unit["qualname"] == qualname and unit["kind"] != "file":
            if unit["kind"] == "example":
                return Target("example", path, qualname, unit["mode"])
            return Target(unit["kind"], path, qualname)
    return Target("test", path, qualname)  # e.g. a parametrized id: pytest resolves it


class Printer:
    """Prints each result as it arrives (from the channel's thread)."""

    def __init__(self, out: TextIO, root: str) -> None:
        self.out = out
        self.root = root

    def __call__(self, run: Run, msg: dict[str, Any]) -> None:
        if msg["k"] != "result":
            return
        t = msg["test"]
        word = WORDS.get(t["outcome"], t["outcome"].upper())
        line = f"{word} {t['nodeid']} ({results.duration_text(t['duration'])})"
        if t.get("value") is not None:
            line += f" → {t['value']}"
        for sub in t.get("subtests") or []:
            if sub["outcome"] == "failed":  # pytest's SUBFAILED lines
                print(f"SUBFAILED{sub['name']} {t['nodeid']}", file=self.out)
                self.location(sub)
                for text in (sub.get("message") or "").splitlines():
                    print(f"    {text}", file=self.out)
        print(line, file=self.out, flush=True)
        if results.failed(t["outcome"]):
            self.location(t)
            for text in (t.get("message") or "").splitlines():
                print(f"    {text}", file=self.out)
            for error in (t.get("errors") or [])[1:]:  # a teardown error after a failure
                print(f"    error in {error['when']}:", file=self.out)
                for text in (error.get("message") or "").splitlines():
                    print(f"      {text}", file=self.out)
            if t.get("stack"):
                print("    stack when killed:", file=self.out)
                for text in t["stack"].splitlines():
                    print(f"      {text}", file=self.out)
            for label in ("stdout", "stderr"):
                if t.get(label):
                    print(f"    captured {label}:", file=self.out)
                    for text in t[label].splitlines():
                        print(f"      {text}", file=self.out)
            self.out.flush()

    def location(self, t: dict[str, Any]) -> None:
        if t.get("path") and t.get("line") is not None:
            where = os.path.relpath(t["path"], self.root)
            print(f"    at {where}:{t['line'] + 1}", file=self.out)


@subcommand("run", _configure)
def run(args: argparse.Namespace) -> int:
    """Run a test file, test, class, example, folder or the whole workspace through a warm twin."""
    from ..api import Twin

    file, _, qualname = (args.target or "").partition("::")
    path = os.path.abspath(file or os.curdir)
    if not os.path.exists(path):
        print(f"ERROR: file or directory not found: {file}", file=sys.stderr)
        return 4
    if args.root:
        root = os.path.abspath(args.root)
    elif args.target is None:
        root = find_root(path)
        path = root
    else:
        root = find_root(path)
    settings: dict[str, Any] = {"runTimeout": args.timeout} if args.timeout else {}
    settings["parkMax"] = 64 if args.inspect else 0  # live results only when asked for
    with Twin.start(
        root, size=args.pool or 1, settings=settings, python=args.python, discover=True
    ) as twin:
        if os.path.isdir(path):
            target = Target("folder", path)
        else:
            units = twin.call(stubs.lenses(path)).result(60)
            target = target_for(units, path, qualname)
        job = Run(twin.pool, target, listener=Printer(sys.stdout, root)).start()
        try:
            result = job.wait()
        except KeyboardInterrupt:
            job.cancel()
            print("cancelled", file=sys.stderr)
            return 2
        if args.inspect:
            _inspect(twin.pool, result["tests"], args.inspect)
    if result.get("warnings"):
        print(" warnings summary ".center(60, "="), file=sys.stdout)
        print(result["warnings"], file=sys.stdout)
    if result.get("session", True):
        print(results.summary_line(result["summary"], result["duration"]), flush=True)
    if result.get("message"):
        print(result["message"], file=sys.stderr, flush=True)
    return int(result["exitcode"])


def _inspect(pool: Any, tests: list[dict[str, Any]], depth: int) -> None:
    """Each live result's top levels, asked of the twin that holds it."""
    from ..shared.inspect_schema import HandleParts
    from .inspect_cli import print_tree

    for t in tests:
        if not t.get("handle"):
            continue
        pid = HandleParts.parse(t["handle"]).twin
        twin = next((x for x in pool.live() if x.pid == pid), None)

        def ask(handle: str, twin: Any = twin) -> Any:
            if twin is None:
                return {"gone": True, "error": "its twin is gone"}
            return pool.call(stubs.run_inspect(handle, 0, 100), twin=twin).result(60)

        print(f"inspect {t['nodeid']}:", flush=True)
        print_tree(ask, t["handle"], depth, sys.stdout)
    sys.stdout.flush()

"""``twinls run FILE[::TEST]``: a run from the terminal, through a twin like the editor's.

Results print as they arrive; the exit status is 1 when anything failed or
errored, 0 otherwise (pytest's convention).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from ..cli import subcommand
from . import results
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
    p.add_argument("target", help="a file, or FILE::TEST (a test, class or example)")
    p.add_argument("--root", default=None, help="workspace folder (default: found from FILE)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per test (default 60)")


def find_root(path: str) -> str:
    """The nearest folder above ``path`` with a project marker; else the file's folder."""
    folder = os.path.dirname(path)
    while True:
        if any(os.path.exists(os.path.join(folder, m)) for m in ROOT_MARKERS):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.dirname(path)
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
        print(line, file=self.out, flush=True)
        if results.failed(t["outcome"]):
            if t.get("path") and t.get("line") is not None:
                where = os.path.relpath(t["path"], self.root)
                print(f"    at {where}:{t['line'] + 1}", file=self.out)
            for text in (t.get("message") or "").splitlines():
                print(f"    {text}", file=self.out)
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


@subcommand("run", _configure)
def run(args: argparse.Namespace) -> int:
    """Run a test file, test, class or example through a warm twin."""
    from ..api import Twin

    file, _, qualname = args.target.partition("::")
    path = os.path.abspath(file)
    if not os.path.isfile(path):
        print(f"twinls run: no such file: {file}", file=sys.stderr)
        return 4
    root = os.path.abspath(args.root) if args.root else find_root(path)
    settings = {"runTimeout": args.timeout} if args.timeout else {}
    with Twin.start(
        root, size=args.pool or 1, settings=settings, python=args.python, discover=True
    ) as twin:
        units = twin.call("run.lenses", path).result(60)
        target = target_for(units, path, qualname)
        job = Run(twin.pool, target, listener=Printer(sys.stdout, root)).start()
        try:
            result = job.wait()
        except KeyboardInterrupt:
            job.cancel()
            print("cancelled", file=sys.stderr)
            return 2
    print(results.summary_line(result["summary"], result["duration"]), flush=True)
    return 1 if results.failed(result["outcome"]) else 0

"""Server: ``twinls implementors NAME [ROOT]`` and ``twinls references FILE:LINE:COL``.

The same twin queries the editor uses, printed as ``path:line:col: text`` (1-based,
columns in characters) as they stream in, so a terminal, grep or an editor's
quickfix list can read them. Like grep, the exit code is 1 when nothing is found.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
import time
from typing import Any

from ..cli import subcommand
from . import stubs

#: Terminal columns are characters: the twin's code-point columns as they are.
ENCODING = "utf-32"


def _print(row: list[Any], text: str) -> None:
    path, line, col = row[0], row[1], row[2]
    print(f"{os.path.relpath(path)}:{line + 1}:{col + 1}: {text}", flush=True)


def _implementors_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="function or method name")
    p.add_argument("root", nargs="?", default=".", help="workspace folder (default: here)")


@subcommand("implementors", _implementors_args)
def implementors(args: argparse.Namespace) -> int:
    """Every function or method called NAME under ROOT (Smalltalk's implementors)."""
    from ..api import Twin

    with Twin.start(args.root, size=args.pool or 1, python=args.python, discover=True) as twin:
        promise = twin.call(stubs.implementors(args.name, ENCODING))
        count = 0
        for batch in promise.partials():
            for row in batch:
                _print(row, row[5])
            count += len(batch)
    print(f"{count} implementors of {args.name}", file=sys.stderr)
    return 0 if count else 1


def _references_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("where", metavar="FILE:LINE:COL", help="a name's position (1-based)")
    p.add_argument(
        "--root", default=None, help="workspace folder (default: here, if FILE is under it)"
    )


def _parse_where(where: str) -> tuple[str, int, int]:
    try:
        path, line, col = where.rsplit(":", 2)
        return os.path.abspath(path), int(line) - 1, int(col) - 1
    except ValueError:
        raise SystemExit(f"twinls references: expected FILE:LINE:COL, got {where!r}") from None


@subcommand("references", _references_args)
def references(args: argparse.Namespace) -> int:
    """Every use of the name at FILE:LINE:COL, resolved by jedi across the workspace."""
    from ..api import Twin
    from .pool import default_size

    path, line, col = _parse_where(args.where)
    if not os.path.isfile(path):
        raise SystemExit(f"twinls references: no such file {path}")
    root = args.root or (
        os.getcwd() if path.startswith(os.getcwd() + os.sep) else os.path.dirname(path)
    )
    started = time.monotonic()
    seen: set[tuple] = set()
    files: set[str] = set()
    lock = threading.Lock()  # batches come from the pool's reader threads

    def show(batch: list[list[Any]]) -> None:
        with lock:
            for row in batch:
                if tuple(row) not in seen:
                    seen.add(tuple(row))
                    files.add(row[0])
                    _print(row, _line_text(row[0], row[1]))

    with Twin.start(
        root, size=args.pool or default_size(), python=args.python, discover=True
    ) as twin:
        # What syntax alone makes certain, printed while jedi finds the target (as in the
        # editor: ``search.refs_first``'s rows are a part of the answer).
        first = twin.call(stubs.refs_first(path, line, max(0, col), ENCODING, True))
        first.on_partial(show)
        plan = twin.call(stubs.refs_plan(path, line, max(0, col), ENCODING)).result()
        if not plan:
            first.result()  # jedi has no target: what syntax made certain is the answer
            if not seen:
                print(f"no name at {args.where}", file=sys.stderr)
                return 1
        else:
            promise = twin.pool.call_sharded(
                stubs.refs_in(
                    plan["files"],
                    plan["name"],
                    plan["keys"],
                    ENCODING,
                    True,
                    None,
                    plan.get("search"),
                )
            )
            promise.on_partial(show)
            promise.result()
    print(
        f"{len(seen)} references to {plan['name'] if plan else args.where} in {len(files)} files "
        f"({time.monotonic() - started:.2f} s)",
        file=sys.stderr,
    )
    return 0 if seen else 1


@functools.lru_cache(maxsize=64)
def _lines(path: str) -> list[str]:
    from ..shared.overlay import decode_source
    from ..shared.textbuf import split_lines

    try:
        with open(path, "rb") as f:
            return split_lines(decode_source(f.read()))
    except OSError:
        return []


def _line_text(path: str, line0: int) -> str:
    lines = _lines(path)
    return lines[line0].strip() if 0 <= line0 < len(lines) else ""

"""Where one cold references search spends its time, in one process (issue 10).

Runs what a twin runs for every candidate file (``references.in_file``: the
``ast`` binding lane, then parso and jedi for the deferred uses) over the
standard library, without the LSP and with one ``JediWorld``; prints the
candidate files, the lane's counts, the deferred attribute uses grouped by
syntactic shape, and a cProfile of the whole (cProfile inflates the seconds:
compare the shares). Usage:

    nice -n 10 .venv/bin/python tests/bench/profile_refs.py join      # os.path.join
    nice -n 10 .venv/bin/python tests/bench/profile_refs.py compile   # re.compile
        [--shapes-only]
"""

from __future__ import annotations

import argparse
import ast
import collections
import cProfile
import io
import pstats
import re
import sys
import time
from pathlib import Path

from bench_search import STDLIB, stdlib_files

from twinls.shared.overlay import Overlay
from twinls.twin.queries import jedi_world, references
from twinls.twin.queries.jedi_world import Lines, key_of

#: name -> (file under the stdlib, the def's line starts with)
TARGETS = {"join": ("posixpath.py", "def join("), "compile": ("re/__init__.py", "def compile(")}
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def shape(node: ast.Attribute, parents: dict[ast.AST, ast.AST]) -> str:
    """A deferred ``<receiver>.name``'s syntactic shape, and the scope it is in."""
    scope, up = "module", node
    while up in parents:
        up = parents[up]
        if isinstance(up, (*_FUNCS, ast.ClassDef)):
            scope = "function" if isinstance(up, _FUNCS) else "class"
            break
    base = node.value
    if isinstance(base, ast.Constant):
        kind = "a literal"
    elif isinstance(base, ast.Name):
        kind = "NAME, " + receiver(base.id, up if scope == "function" else None, parents)
    elif isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
        head = "self" if base.value.id == "self" else "NAME"
        kind = f"{head}.{base.attr if base.attr in ('path', 'sep') else 'x'}"
    elif isinstance(base, ast.Call):
        kind = "call()"
    else:
        kind = type(base).__name__
    return f"{kind}.{node.attr} in a {scope}"


def receiver(name: str, function: ast.AST | None, parents: dict[ast.AST, ast.AST]) -> str:
    """What binds a receiver name in the function around the use."""
    if function is None:
        return "module-level"
    binds = [
        n
        for n in ast.walk(function)
        if (isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load))
        or (isinstance(n, ast.arg) and n.arg == name)
        or (
            isinstance(n, (ast.Import, ast.ImportFrom))
            and any((a.asname or a.name.split(".")[0]) == name for a in n.names)
        )
    ]
    if any(isinstance(n, ast.arg) for n in binds):
        return "a parameter"
    if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in binds):
        return "a local import"
    if binds and all(
        isinstance(parents.get(n), ast.Assign) and isinstance(parents[n].value, ast.Constant)  # type: ignore[attr-defined]
        for n in binds
    ):
        return "a local bound only to literals"
    return "a local bound otherwise" if binds else "module-level"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=sorted(TARGETS))
    parser.add_argument("--shapes-only", action="store_true")
    args = parser.parse_args()
    name = args.name
    rel, anchor = TARGETS[name]
    overlay = Overlay(roots=[str(STDLIB)])
    world = jedi_world.JediWorld(overlay, [str(STDLIB)])
    path = str(STDLIB / rel)
    text_lines = Path(path).read_text().splitlines()
    line = next(i for i, t in enumerate(text_lines) if t.startswith(anchor))
    lines = Lines(overlay, "utf-16")
    found = world.session().name_at_cursor(path, line, text_lines[line].index(name), lines)
    assert found is not None
    target = {k for k in map(key_of, references.defining(*found)) if k is not None}
    word = re.compile(rf"\b{name}\b")
    files = [f for f in stdlib_files() if word.search(Path(f).read_text(errors="replace"))]
    print(f"candidate files: {len(files)}")
    lane = world.lane()
    assert lane is not None, "the lane is off (TWINLS_BINDINGS=0)"
    start = time.perf_counter()
    verdicts = {f: lane.decide(f, name, target) for f in files}
    print(
        f"lane alone: {time.perf_counter() - start:.1f} s, "
        f"decided {sum(len(d) for d, _ in verdicts.values())}, "
        f"files whole {sum(w for _, w in verdicts.values())}"
    )
    shapes: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    for file, (decided, whole) in verdicts.items():
        if whole:
            continue
        try:
            tree = ast.parse(Path(file).read_text())
        except (SyntaxError, ValueError, UnicodeDecodeError):
            shapes["a file ast cannot read"] += 1
            continue
        parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == name and node.end_lineno:
                pos = (node.end_lineno, (node.end_col_offset or 0) - len(name))
                if pos not in decided:
                    kind = shape(node, parents)
                    shapes[kind] += 1
                    if len(examples[kind]) < 3:
                        where = Path(file).relative_to(STDLIB)
                        examples[kind].append(f"{where}:{node.lineno} {ast.unparse(node)}")
            elif isinstance(node, ast.Name) and node.id == name:
                shapes["a plain name"] += (node.lineno, node.col_offset) not in decided
    print("deferred, by shape:")
    for kind, count in shapes.most_common():
        print(f"{count:6d}  {kind}  {examples.get(kind, [])}")
    if args.shapes_only:
        return
    fresh = jedi_world.JediWorld(overlay, [str(STDLIB)])
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    hits = sum(len(references.in_file(fresh, f, name, target, True, lines, "s")) for f in files)
    profile.disable()
    print(f"in_file: {time.perf_counter() - start:.1f} s, {hits} results, {fresh.lane_counts}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
    print(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())

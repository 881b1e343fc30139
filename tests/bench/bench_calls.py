"""Call hierarchy, side by side: twinls vs pyright on the same functions of a real project.

    .venv/bin/python tests/bench/bench_calls.py [--root DIR] [--n 40] [--seed 14]

The project is pytest's own package (``_pytest`` in this venv) unless ``--root``
names another. ``--n`` functions and methods are drawn at random (``--seed``)
among those the project defines; for each, both servers are asked
``callHierarchy/incomingCalls`` (after ``prepareCallHierarchy`` at its name) and
the answers compared as sets of call sites (file, line, column). pyright is
installed with npm into ``.test-out/pyright`` if it is not there.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_lang import default_root, session  # noqa: E402
from bench_search import _path_of  # noqa: E402

PYRIGHT_DIR = HERE.parents[1] / ".test-out" / "pyright"


def ensure_pyright() -> str:
    exe = PYRIGHT_DIR / "node_modules" / ".bin" / "pyright-langserver"
    if not exe.exists():
        PYRIGHT_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "pyright@1"],
            cwd=PYRIGHT_DIR,
            check=True,
        )
    return str(exe)


def functions(root: Path, n: int, seed: int) -> list[tuple[Path, int, int, str]]:
    """(file, line0, col of the name, qualname) of ``n`` random defs."""
    found = []
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except SyntaxError:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()

        def walk(node: ast.AST, prefix: str, path: Path = path, lines: list = lines) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    line = child.lineno - 1
                    text = lines[line]
                    col = text.find(child.name, text.find("def " if "def " in text else "class "))
                    if not isinstance(child, ast.ClassDef) and col >= 0 and text.isascii():
                        found.append((path, line, col, prefix + child.name))
                    walk(child, prefix + child.name + ".")

        walk(tree, "")
    return random.Random(seed).sample(found, n)


async def incoming(client, path: Path, line: int, col: int):
    from lsprotocol import types

    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    start = time.perf_counter()
    items = await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(text_document=doc, position=types.Position(line, col))
    )
    sites: set[tuple[str, int, int]] = set()
    for item in items or []:
        for call in (
            await client.call_hierarchy_incoming_calls_async(
                types.CallHierarchyIncomingCallsParams(item=item)
            )
            or []
        ):
            for r in call.from_ranges:
                sites.add((_path_of(call.from_.uri), r.start.line, r.start.character))
    return time.perf_counter() - start, sites


async def run(command: list[str], root: Path, init, defs):
    from lsprotocol import types

    client = await session(command, root, init)
    out = []
    try:
        if init is not None:
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="twinls.status")
            )
        for path, line, col, _ in defs:
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    types.TextDocumentItem(
                        uri=path.as_uri(),
                        language_id="python",
                        version=1,
                        text=path.read_text(encoding="utf-8"),
                    )
                )
            )
            out.append(await incoming(client, path, line, col))
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 60)
        finally:
            await client.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=None)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    root = (args.root or default_root()).resolve()
    defs = functions(root, args.n, args.seed)
    twin = asyncio.run(run([sys.executable, "-m", "twinls"], root, {"pool": 2}, defs))
    pyright = asyncio.run(run([ensure_pyright(), "--stdio"], root, None, defs))
    same = only_t = only_p = 0
    t_sites = p_sites = both_sites = 0
    print(f"project {root} · incoming calls of {len(defs)} functions and methods")
    for (path, _line, _col, qual), (_, a), (_, b) in zip(defs, twin, pyright, strict=True):
        t_sites, p_sites, both_sites = t_sites + len(a), p_sites + len(b), both_sites + len(a & b)
        if a == b:
            same += 1
            continue
        only_t += bool(a - b)
        only_p += bool(b - a)
        rel = path.relative_to(root)
        print(
            f"  {rel} {qual}: both {len(a & b)}, only twinls {len(a - b)}, "
            f"only pyright {len(b - a)}"
        )
        for site in sorted(a - b)[:3]:
            print(f"      twinls only  {Path(site[0]).name}:{site[1] + 1}:{site[2]}")
        for site in sorted(b - a)[:3]:
            print(f"      pyright only {Path(site[0]).name}:{site[1] + 1}:{site[2]}")
    print(
        f"same call sites for {same}/{len(defs)} functions; call sites: twinls {t_sites}, "
        f"pyright {p_sites}, both {both_sites}"
    )
    for name, rows in (("twinls", twin), ("pyright", pyright)):
        times = sorted(t for t, _ in rows)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(
            f"{name:8} latency (prepare + incoming) p50 {statistics.median(times) * 1000:.0f} ms "
            f"p95 {p95 * 1000:.0f} ms, first {rows[0][0] * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Searches, side by side: twinls vs jedi-language-server on this machine's standard library.

    .venv/bin/python tests/bench/bench_search.py [--pool N] [--repeat 5] [--json out.json]

Installs jedi-language-server into this venv if it is missing (the ``bench``
extra). For each server: ``textDocument/references`` on a popular name
(``re.compile``) and a rare one (``shutil.copyfileobj``), and
``textDocument/implementation`` on ``ast.NodeVisitor.visit`` and
``logging.Handler.emit``; the first request after start ("cold", twinls's
includes building its index) and the best and median of ``--repeat`` more
("warm"). Time to the first result is the first ``$/progress`` batch (twinls
streams; jedi-language-server answers once, so its first result is its total).

Recall is counted against a grep-and-check ground truth computed here with
plain jedi, one ``Script`` per file: every whole-word occurrence of the name in
the files twinls indexes, kept if ``goto`` lands on the target; for
implementation, every class defining the method whose bases, inferred by jedi
one level at a time, lead to the target class.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the LSP test harness
sys.path.insert(0, str(HERE.parents[1] / "server"))

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()

#: (label, kind, file, 0-based line of the def, name)
REFS, IMPL = "references", "implementation"
QUERIES = [
    ("references re.compile (popular)", REFS, "re/__init__.py", "def compile(", None),
    ("references shutil.copyfileobj (rare)", REFS, "shutil.py", "def copyfileobj(", None),
    ("implementation ast.NodeVisitor.visit", IMPL, "ast.py", "class NodeVisitor", "visit"),
    ("implementation logging.Handler.emit", IMPL, "logging/__init__.py", "class Handler(", "emit"),
]


#: jedi-language-server with jedi's reference-search limits (2,000 files opened, 30
#: parsed) lifted: what the same recall costs it.
UNLIMITED_JLS = [
    sys.executable,
    "-c",
    "import jedi.inference.references as r; "
    "r._OPENED_FILE_LIMIT = r._PARSED_FILE_LIMIT = 10**9; "
    "from jedi_language_server.cli import cli; cli()",
]


def ensure_jls() -> str:
    """jedi-language-server's command, installing it into this venv if need be."""
    if importlib.util.find_spec("jedi_language_server") is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "jedi-language-server>=0.45"], check=True
        )
    exe = Path(sys.executable).with_name("jedi-language-server")
    return str(exe)


# -- where the queries point ----------------------------------------------------------------


def target_position(rel: str, anchor: str, method: str | None) -> tuple[Path, int, int]:
    """0-based (line, column) of the def's name, or of ``method`` inside the class."""
    path = STDLIB / rel
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(anchor))
    if method is None or anchor.startswith("def "):
        name = anchor.split()[1].rstrip("(")
        return path, start, lines[start].index(name)
    for i in range(start + 1, len(lines)):
        if re.match(rf"\s+def {method}\(", lines[i]):
            return path, i, lines[i].index(method)
    raise LookupError(f"{method} not found in {rel}")


# -- ground truth -----------------------------------------------------------------------------


def stdlib_files() -> list[str]:
    from twinls.overlay.store import Overlay

    return list(Overlay(roots=[str(STDLIB)]).python_files())


def truth_references(path: Path, line: int, col: int) -> set[tuple[str, int, int]]:
    import jedi

    env = jedi.InterpreterEnvironment()
    project = jedi.Project(STDLIB)
    script = jedi.Script(path=str(path), project=project, environment=env)
    target = {
        (str(d.module_path), d.line, d.column)
        for d in script.goto(line + 1, col, follow_imports=True)
    }
    word = path.read_text().splitlines()[line][col:].split("(")[0]
    pattern = re.compile(rf"\b{re.escape(word)}\b")
    found = set()
    for file in stdlib_files():
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if word not in text:
            continue
        script = jedi.Script(text, path=file, project=project, environment=env)
        for n, line_text in enumerate(text.splitlines()):
            for m in pattern.finditer(line_text):
                try:
                    defs = script.goto(n + 1, m.start(), follow_imports=True)
                except Exception:
                    continue
                if any((str(d.module_path), d.line, d.column) in target for d in defs):
                    found.add((file, n, m.start()))
    return found


def truth_implementation(path: Path, line: int, method: str) -> set[tuple[str, int, int]]:
    """Classes defining ``method`` whose jedi-inferred bases lead to the class at ``line``."""
    import jedi

    env = jedi.InterpreterEnvironment()
    project = jedi.Project(STDLIB)
    target_class = _class_at(path, line)
    target = (str(path), target_class.lineno)
    memo: dict[tuple[str, int], bool] = {}
    scripts: dict[str, Any] = {}

    def script(file: str):
        if file not in scripts:
            scripts[file] = jedi.Script(path=file, project=project, environment=env)
        return scripts[file]

    def leads_to_target(file: str, node: ast.ClassDef, depth: int = 0) -> bool:
        key = (file, node.lineno)
        if key == target:
            return True
        if key in memo or depth > 30:
            return memo.get(key, False)
        memo[key] = False
        for base in node.bases:
            spot = base.value if isinstance(base, ast.Subscript) else base
            end_line, end_col = spot.end_lineno, spot.end_col_offset
            try:
                inferred = script(file).infer(end_line, max(0, end_col - 1))
            except Exception:
                continue
            for d in inferred:
                if d.type != "class" or d.module_path is None or d.line is None:
                    continue
                parent = _class_at(Path(d.module_path), d.line - 1, quiet=True)
                if parent is not None and leads_to_target(str(d.module_path), parent, depth + 1):
                    memo[key] = True
                    return True
        return False

    found = set()
    for file in stdlib_files():
        try:
            tree = ast.parse(Path(file).read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef) or (file, node.lineno) == target:
                continue
            for item in node.body:
                if (
                    isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and item.name == method
                ):
                    if node.bases and leads_to_target(file, node):
                        found.add((file, item.lineno - 1, item.col_offset + 4))
    return found


def _class_at(path: Path, line0: int, quiet: bool = False) -> ast.ClassDef | None:
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.lineno - 1 == line0:
            return node
    if quiet:
        return None
    raise LookupError(f"no class at {path}:{line0 + 1}")


# -- the LSP side -----------------------------------------------------------------------------


async def session(command: list[str], init_options: dict[str, Any] | None):
    from lsprotocol import types
    from pytest_lsp import ClientServerConfig

    from lsp_harness import capabilities, make_client

    client = await ClientServerConfig(server_command=command, client_factory=make_client).start()
    client.progress_times = {}  # type: ignore[attr-defined]
    original = client.protocol.fm.features[types.PROGRESS]

    def progress(params: types.ProgressParams) -> None:
        client.progress_times.setdefault(params.token, []).append(time.perf_counter())
        original(params)

    client.protocol.fm.features[types.PROGRESS] = progress
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            root_uri=STDLIB.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=STDLIB.as_uri(), name="stdlib")],
            initialization_options=init_options,
        )
    )
    return client


async def ask(client, kind: str, path: Path, line: int, col: int, token: str):
    from lsprotocol import types

    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    pos = types.Position(line, col)
    start = time.perf_counter()
    try:
        if kind == "references":
            result = await client.text_document_references_async(
                types.ReferenceParams(
                    text_document=doc,
                    position=pos,
                    context=types.ReferenceContext(include_declaration=True),
                    partial_result_token=token,
                )
            )
        else:
            result = await client.text_document_implementation_async(
                types.ImplementationParams(
                    text_document=doc, position=pos, partial_result_token=token
                )
            )
    except Exception as exc:
        return {"error": type(exc).__name__ + ": " + str(exc)[:80]}
    total = time.perf_counter() - start
    locations = [
        (loc["uri"], loc["range"]["start"]["line"], loc["range"]["start"]["character"])
        for batch in client.progress_values.get(token, [])
        for loc in batch
    ] + [(loc.uri, loc.range.start.line, loc.range.start.character) for loc in result or []]
    times = client.progress_times.get(token, [])
    batches = client.progress_values.get(token, [])
    timeline = [
        (t - start, [(_path_of(loc["uri"]), loc["range"]["start"]["line"]) for loc in batch])
        for t, batch in zip(times, batches, strict=False)
    ]
    return {
        "total": total,
        "first": (times[0] - start) if times else total,
        "found": {(_path_of(uri), line, col) for uri, line, col in locations},
        "timeline": timeline or [(total, [(p, line) for p, line, _ in locations])],
    }


def _path_of(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(uri).path)


async def run_server(
    name: str, command: list[str], init: dict[str, Any] | None, repeat: int, open_docs: bool
) -> dict[str, Any]:
    client = await session(command, init)
    out: dict[str, Any] = {}
    try:
        if name == "twinls":
            await client.workspace_execute_command_async(
                __import__("lsprotocol").types.ExecuteCommandParams(command="twinls.status")
            )
        for label, kind, rel, anchor, method in QUERIES:
            path, line, col = target_position(rel, anchor, method)
            if open_docs:
                from lsprotocol import types

                client.text_document_did_open(
                    types.DidOpenTextDocumentParams(
                        types.TextDocumentItem(
                            uri=path.as_uri(),
                            language_id="python",
                            version=1,
                            text=path.read_text(),
                        )
                    )
                )
            runs = []
            for i in range(repeat + 1):
                runs.append(await ask(client, kind, path, line, col, f"{name}-{label}-{i}"))
                if "error" in runs[-1]:
                    break
            out[label] = runs
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 30)
        finally:
            await client.stop()
    return out


# -- report -------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def parity_time(run: dict[str, Any], true_lines: set, needed: int) -> float | None:
    """When the streamed results first held ``needed`` true hits (None: never)."""
    got: set = set()
    for at, lines in run["timeline"]:
        got |= set(lines) & true_lines
        if len(got) >= needed:
            return at
    return None


def summarize(
    label: str, runs: list[dict[str, Any]], truth: set, rival_hits: int | None = None
) -> dict[str, Any]:
    if "error" in runs[0]:
        return {"query": label, "error": runs[0]["error"]}
    cold, warm = runs[0], runs[1:] or runs[:1]
    found = warm[-1]["found"]
    true_cols = {(p, line) for p, line, _ in truth}
    hits = {(p, line) for p, line, _ in found} & true_cols
    parity = None
    if rival_hits:
        times = [parity_time(r, true_cols, rival_hits) for r in warm]
        parity = min((t for t in times if t is not None), default=None)
    return {
        "hits": len(hits),
        "parity": parity,
        "query": label,
        "cold_first": cold["first"],
        "cold_total": cold["total"],
        "warm_first": min(r["first"] for r in warm),
        "warm_total_best": min(r["total"] for r in warm),
        "warm_total_median": statistics.median(r["total"] for r in warm),
        "results": len(found),
        "truth": len(truth),
        "recall": len(hits) / len(true_cols) if true_cols else 1.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=None, help="twins (default: cores, max 4)")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per query")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument(
        "--truth-cache", default=None, help="keep the ground truth in this file between runs"
    )
    args = parser.parse_args()
    jls = ensure_jls()

    started = time.perf_counter()
    truth: dict[str, set] = {}
    cache = Path(args.truth_cache) if args.truth_cache else None
    if cache is not None and cache.exists():
        truth = {k: {tuple(x) for x in v} for k, v in json.loads(cache.read_text()).items()}
    for label, kind, rel, anchor, method in QUERIES:
        if label in truth:
            continue
        path, line, col = target_position(rel, anchor, method)
        if kind == "references":
            truth[label] = truth_references(path, line, col)
        else:
            truth[label] = truth_implementation(path, _class_line(path, anchor), method)
        print(f"truth: {label}: {len(truth[label])}", file=sys.stderr)
    print(f"ground truth in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if cache is not None:
        cache.write_text(json.dumps({k: sorted(v) for k, v in truth.items()}))

    pool = {"pool": args.pool} if args.pool else {}
    twin = asyncio.run(
        run_server("twinls", [sys.executable, "-m", "twinls"], pool, args.repeat, False)
    )
    jedi_ls = asyncio.run(run_server("jls", [jls], None, args.repeat, True))
    unlimited = asyncio.run(run_server("jls-all", UNLIMITED_JLS, None, args.repeat, True))

    rows = []
    rival = {label: summarize(label, runs, truth[label]) for label, runs in jedi_ls.items()}
    for label, runs in twin.items():
        hits = rival[label].get("hits")
        rows.append({"server": "twinls", **summarize(label, runs, truth[label], hits)})
    rows += [{"server": "jedi-language-server", **r} for r in rival.values()]
    for label, runs in unlimited.items():
        if label.startswith(REFS):
            row = summarize(label, runs, truth[label])
            rows.append({"server": "jedi-language-server, file limits lifted", **row})
    print(f"\nstdlib: {STDLIB} ({len(stdlib_files())} files), pool={args.pool or 'default'}")
    print(
        "| query | server | first result (warm) | jls's recall reached (warm) | "
        "total (warm, best / median) | cold first / total | results | recall |"
    )
    print("|" + "---|" * 8)
    for r in rows:
        if "error" in r:
            what = "not supported" if "MethodNotFound" in r["error"] else f"fails: {r['error']}"
            print(f"| {r['query']} | {r['server']} | — | — | {what} | — | — | — |")
            continue
        parity = _ms(r["parity"]) if r.get("parity") is not None else "—"
        print(
            f"| {r['query']} | {r['server']} | {_ms(r['warm_first'])} | {parity} | "
            f"{_ms(r['warm_total_best'])} / {_ms(r['warm_total_median'])} | "
            f"{_ms(r['cold_first'])} / {_ms(r['cold_total'])} | {r['results']} | "
            f"{r['recall']:.0%} of {r['truth']} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


def _class_line(path: Path, anchor: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines) if line.startswith(anchor))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())

"""Language features, side by side: twinls vs jedi-language-server on a real project.

    .venv/bin/python tests/bench/bench_lang.py [--root DIR] [--n 300] [--seed 14] [--json out.json]

The project is pytest's own package (``_pytest`` as installed in this venv) unless
``--root`` names another. ``--n`` positions are drawn at random (``--seed``) from
every identifier in its files; at each, both servers are asked
``textDocument/definition``; at ``--n // 2`` others, inside an identifier (the
part before the cursor typed), ``textDocument/completion``. Each server gets
the same documents opened (``didOpen``) before it is asked. Reported:

- agreement where both answer: definitions as sets of (file, line); completions
  as label sets (exact, and whether the identifier really there is offered);
  the disagreements, listed;
- latency p50/p95 idle, and while a references search keeps running (one on a
  popular name is restarted as soon as it ends, on the same connection).

Installs jedi-language-server into this venv if it is missing (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import keyword
import random
import statistics
import sys
import time
import tokenize
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_search import _path_of, ensure_jls  # noqa: E402

#: A name used all over pytest: the search that keeps running "during a search".
SEARCH_NAME = ("config/__init__.py", "class Config:", "Config")


def default_root() -> Path:
    import _pytest

    return Path(_pytest.__file__).resolve().parent


def identifiers(root: Path) -> list[tuple[Path, int, int, str, bool]]:
    """(file, line0, col, name, after a dot) of every identifier token (no keywords)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError):
            continue
        lines = text.splitlines()
        prev = None
        for tok in tokens:
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                line = tok.start[0] - 1
                if lines[line].isascii():  # columns: same in every encoding
                    dotted = prev is not None and prev.string == "."
                    out.append((path, line, tok.start[1], tok.string, dotted))
            if tok.type not in (tokenize.NL, tokenize.COMMENT):
                prev = tok
    return out


def pick(root: Path, n: int, seed: int):
    rng = random.Random(seed)
    names = identifiers(root)
    defs = rng.sample(names, n)
    long_enough = [x for x in names if len(x[3]) >= 3 and x not in defs]
    comps = rng.sample(long_enough, n // 2)
    return defs, comps


async def session(command: list[str], root: Path, init: dict[str, Any] | None):
    from lsprotocol import types
    from pytest_lsp import ClientServerConfig

    from lsp_harness import capabilities, make_client

    client = await ClientServerConfig(server_command=command, client_factory=make_client).start()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=init,
        )
    )
    return client


async def definition(client, path: Path, line: int, col: int):
    from lsprotocol import types

    start = time.perf_counter()
    try:
        result = await client.text_document_definition_async(
            types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=types.Position(line, col),
            )
        )
    except Exception as exc:  # a server's internal error: no answer, counted
        client.errors.append(f"definition {path.name}:{line + 1}:{col}: {exc}"[:200])
        return time.perf_counter() - start, set()
    took = time.perf_counter() - start
    if result is None:
        result = []
    elif not isinstance(result, list):
        result = [result]
    found = set()
    for loc in result:
        uri = getattr(loc, "uri", None) or getattr(loc, "target_uri", None)
        rng = getattr(loc, "range", None) or getattr(loc, "target_selection_range", None)
        found.add((_path_of(uri), rng.start.line))
    return took, found


async def completion(client, path: Path, line: int, col: int):
    from lsprotocol import types

    start = time.perf_counter()
    try:
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=types.Position(line, col),
            )
        )
    except Exception as exc:  # a server's internal error: no answer, counted
        client.errors.append(f"completion {path.name}:{line + 1}:{col}: {exc}"[:200])
        return time.perf_counter() - start, set()
    took = time.perf_counter() - start
    items = result.items if hasattr(result, "items") else (result or [])
    return took, {i.label for i in items}


async def keep_searching(client, path: Path, line: int, col: int, stop: asyncio.Event) -> int:
    from lsprotocol import types

    count = 0
    while not stop.is_set():
        try:
            await client.text_document_references_async(
                types.ReferenceParams(
                    text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                    position=types.Position(line, col),
                    context=types.ReferenceContext(include_declaration=True),
                )
            )
        except Exception as exc:  # counted like the others
            client.errors.append(f"references: {exc}"[:200])
        count += 1
    return count


async def run_server(name: str, command: list[str], root: Path, init, defs, comps):
    from lsprotocol import types

    client = await session(command, root, init)
    client.errors = []
    out: dict[str, Any] = {"def": [], "comp": [], "def_busy": [], "comp_busy": []}
    try:
        if name == "twinls":
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="twinls.status")
            )
        opened: set[Path] = set()

        def ensure_open(path: Path) -> None:
            if path not in opened:
                opened.add(path)
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

        for path, line, col, _name, _dot in defs:
            ensure_open(path)
            out["def"].append(await definition(client, path, line, col))
        for path, line, col, word, _dot in comps:
            ensure_open(path)
            out["comp"].append(await completion(client, path, line, col + len(word) // 2 + 1))

        # The same again while a references search keeps running.
        rel, anchor, word = SEARCH_NAME
        spath = root / rel
        sline = next(
            i for i, t in enumerate(spath.read_text().splitlines()) if t.startswith(anchor)
        )
        ensure_open(spath)
        stop = asyncio.Event()
        searches = asyncio.ensure_future(
            keep_searching(client, spath, sline, anchor.index(word), stop)
        )
        await asyncio.sleep(0.2)  # the first search is under way
        for path, line, col, _name, _dot in defs:
            out["def_busy"].append(await definition(client, path, line, col))
        for path, line, col, word, _dot in comps:
            out["comp_busy"].append(await completion(client, path, line, col + len(word) // 2 + 1))
        stop.set()
        out["searches"] = await searches
        out["errors"] = client.errors
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 60)
        finally:
            await client.stop()
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def latency(rows: list[tuple[float, Any]]) -> str:
    times = [t for t, _ in rows]
    return f"p50 {statistics.median(times) * 1000:6.1f} ms  p95 {pct(times, 0.95) * 1000:7.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=None)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--pool", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    root = (args.root or default_root()).resolve()
    defs, comps = pick(root, args.n, args.seed)
    servers = {
        "twinls": ([sys.executable, "-m", "twinls"], {"pool": args.pool}),
        "jedi-language-server": ([ensure_jls()], None),
    }
    results = {}
    for name, (command, init) in servers.items():
        start = time.perf_counter()
        results[name] = asyncio.run(run_server(name, command, root, init, defs, comps))
        print(f"{name}: {time.perf_counter() - start:.1f} s in all", flush=True)

    t, j = results["twinls"], results["jedi-language-server"]
    print(f"\nproject {root} · {len(defs)} definition and {len(comps)} completion positions")
    for label, key in [
        ("definition idle", "def"),
        ("definition during a search", "def_busy"),
        ("completion idle", "comp"),
        ("completion during a search", "comp_busy"),
    ]:
        print(f"{label:28}  twinls {latency(t[key])}   jls {latency(j[key])}")
    print(f"searches run meanwhile: twinls {t['searches']}, jls {j['searches']}")
    for name, r in (("twinls", t), ("jls", j)):
        print(f"{name} request errors: {len(r['errors'])}")
        for line in r["errors"][:5]:
            print(f"  {line}")

    both = agree = 0
    only_t = only_j = 0
    disagreements = []
    for pos, (_, a), (_, b) in zip(defs, t["def"], j["def"], strict=True):
        if a and b:
            both += 1
            if a == b:
                agree += 1
            else:
                disagreements.append((pos, sorted(a), sorted(b)))
        elif a:
            only_t += 1
        elif b:
            only_j += 1
    print(
        f"\ndefinition: both answer {both}, agree {agree} ({100 * agree / max(1, both):.1f} %), "
        f"only twinls {only_t}, only jls {only_j}"
    )
    for (path, line, col, word, _), a, b in disagreements:
        print(
            f"  {path.relative_to(root)}:{line + 1}:{col} {word}: twinls {_short(a, root)} "
            f"jls {_short(b, root)}"
        )

    cboth = cexact = t_has = j_has = 0
    jacc = []
    cdis = []
    for pos, (_, a), (_, b) in zip(comps, t["comp"], j["comp"], strict=True):
        word = pos[3]
        t_has += word in a
        j_has += word in b
        if a and b:
            cboth += 1
            cexact += a == b
            jacc.append(len(a & b) / len(a | b))
            if a != b:
                cdis.append((pos, sorted(a - b)[:5], sorted(b - a)[:5]))
    print(
        f"\ncompletion: both answer {cboth}, same label set {cexact} "
        f"({100 * cexact / max(1, cboth):.1f} %), mean Jaccard {statistics.mean(jacc or [0]):.3f}; "
        f"the real identifier offered: twinls {t_has}/{len(comps)}, jls {j_has}/{len(comps)}"
    )
    for (path, line, col, word, _), a, b in cdis[:20]:
        print(f"  {path.relative_to(root)}:{line + 1}:{col} {word}: only twinls {a} only jls {b}")

    if args.json:
        args.json.write_text(json.dumps(_plain(results), default=str))
    return 0


def _plain(value: Any) -> Any:
    """Sets and tuples as sorted lists, for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def _short(found: list[tuple[str, int]], root: Path) -> str:
    out = []
    for path, line in found:
        p = Path(path)
        out.append(f"{p.relative_to(root) if p.is_relative_to(root) else p.name}:{line + 1}")
    return ", ".join(out)


if __name__ == "__main__":
    raise SystemExit(main())

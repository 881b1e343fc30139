"""Searches, side by side: twinls vs pyright, basedpyright, jedi-language-server.

    bash tests/bench/setup.sh     # the peers: pyright (npm), basedpyright, jedi-language-server
    .venv/bin/python tests/bench/bench_search.py [--pool N] [--repeat 5] [--json out.json]
        [--servers twinls,pyright,basedpyright,jls] [--queries SUBSTRING] [--ask-at use]
        [--project stdlib|pyparsing|click] [--truth-cache F]

Every server is started fresh, gets the same requests, and is measured the
same way; the count, recall and hits beyond the ground truth of EVERY repeat
are kept and printed (``counts``, ``recalls``, ``beyond``; ``stable``: every
repeat found exactly the first answer's set). Peak RSS is the sum over the
server's process tree (twinls: server + twins), sampled every 50 ms; "hover
during search" is a hover sent 50 ms into the cold first query, answered
before or after the search (and how long it took). The first request of a
query ("cold"; the first query's includes twinls building its index), then the
best and median of ``--repeat`` more ("warm"). Time to the first result is the
first ``$/progress`` batch (twinls streams; the peers answer once, so their
first result is their total); "best peer's true hits reached" is when twinls's
stream first held as many true hits as the best peer's answer.

The workspace (``--project``): the standard library (``STDLIB_QUERIES``:
references on ``re.compile``, ``os.path.join`` at ``posixpath.join``,
``shutil.copyfileobj``; implementation of ``ast.NodeVisitor.visit`` and
``logging.Handler.emit``), or a pinned PyPI sdist fetched into
``.bench-tools/sdist`` as ``recall_truth`` does: pyparsing (the issue's
``parse_string`` and ``ParserElement.parseImpl``, a popular class and two rare
names; implementation of ``parseImpl`` and of a class) or click. On a project
every references query is asked at its def and again at a use
(``--ask-at both``, the label ends in ``@use``); the use's "cold" is its first
ask, after the def's.

The peers are told this interpreter explicitly (``workspace/configuration``'s
``python.pythonPath`` for pyright and basedpyright, started from ``/``: see
``peer_interpreter``; ``workspace.environmentPath`` for jedi-language-server).

Recall is counted against a grep-and-check ground truth computed here with
plain jedi, one ``Script`` per file: every whole-word occurrence of the name in
the files twinls indexes, kept if ``goto`` lands on the target (on a project:
``recall_truth.truth_references``); for implementation, every class defining
the method (or every class, on a class) whose bases, inferred by jedi one level
at a time, lead to the target class. ``--truth-cache`` keeps it (a project's
beside the bench, ``tests/bench/truth/``, paths relative to the sdist).
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the LSP test harness
sys.path.insert(0, str(HERE.parents[1] / "server"))

from recall_truth import PROJECT, fetch_sdist, jedi_project  # noqa: E402
from recall_truth import truth_references as project_truth  # noqa: E402

ROOT = HERE.parents[1]

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()

REFS, IMPL = "references", "implementation"


class Query(NamedTuple):
    """One request: ``kind`` at the def of ``method`` in ``anchor``'s class (or at the
    ``def``/``class`` on the ``anchor`` line itself) in ``rel``; ``method`` None on a
    class anchor asks about the class. ``use``: a use in another file, as a user asks
    (file, its text up to the name's end: the name is the last word of it)."""

    label: str
    kind: str
    rel: str
    anchor: str
    method: str | None = None
    use: tuple[str, str] | None = None


#: pyright and basedpyright read a stdlib module's uses through typeshed's stub, so from
#: the def in the ``.py`` they find only that file's own uses; from a call site (``use``)
#: they find the stub's.
STDLIB_QUERIES = [
    Query("references re.compile (popular)", REFS, "re/__init__.py", "def compile(", None,
          ("textwrap.py", "re.compile")),
    Query("references os.path.join (posixpath.join)", REFS, "posixpath.py", "def join(", None,
          ("glob.py", "os.path.join")),
    Query("references shutil.copyfileobj (rare)", REFS, "shutil.py", "def copyfileobj(", None,
          ("test/test_shutil.py", "shutil.copyfileobj")),
    Query("implementation ast.NodeVisitor.visit", IMPL, "ast.py", "class NodeVisitor", "visit"),
    Query("implementation logging.Handler.emit", IMPL, "logging/__init__.py", "class Handler(",
          "emit"),
]  # fmt: skip

#: The issue's third-party project: pyparsing, flat layout, examples and tests in the sdist.
PYPARSING_QUERIES = [
    Query("references ParserElement.parse_string (popular)", REFS, "pyparsing/core.py",
          "class ParserElement(", "parse_string",
          ("examples/LAparser.py", "equation.parse_string")),
    Query("references ParserElement.parseImpl", REFS, "pyparsing/core.py",
          "class ParserElement(", "parseImpl",
          ("pyparsing/core.py", "loc, tokens = self.parseImpl")),
    Query("references Word (popular class)", REFS, "pyparsing/core.py", "class Word(", None,
          ("examples/LAparser.py", "number = Word")),
    Query("references ParserElement.enable_packrat (rare)", REFS, "pyparsing/core.py",
          "class ParserElement(", "enable_packrat", ("examples/eval_arith.py",
          "ParserElement.enable_packrat")),
    Query("references srange (rare)", REFS, "pyparsing/core.py", "def srange(", None,
          ("examples/inv_regex.py", "set(srange")),
    Query("implementation ParserElement.parseImpl", IMPL, "pyparsing/core.py",
          "class ParserElement(", "parseImpl"),
    Query("implementation Token (class)", IMPL, "pyparsing/core.py", "class Token(", None),
]  # fmt: skip

#: click (src layout, pytest tests): ``recall_truth.PROJECT``, the recall bench's project.
CLICK_QUERIES = [
    Query("references Context.fail (a name many classes define)", REFS, "src/click/core.py",
          "class Context:", "fail", ("src/click/core.py", "ctx.fail")),
    Query("references echo (popular)", REFS, "src/click/utils.py", "def echo(", None,
          ("tests/test_utils.py", "click.echo")),
    Query("references make_pass_decorator (rare)", REFS, "src/click/decorators.py",
          "def make_pass_decorator(", None, ("tests/test_context.py", "click.make_pass_decorator")),
    Query("implementation ParamType.convert", IMPL, "src/click/types.py", "class ParamType:",
          "convert"),
    Query("implementation Parameter (class)", IMPL, "src/click/core.py", "class Parameter:", None),
]  # fmt: skip


@dataclass(frozen=True)
class Workspace:
    """The folder the servers are opened on, its queries, and the file hovered mid-search."""

    name: str
    queries: list[Query]
    hover: str
    sdist: tuple[str, str] | None = None  # (PyPI name, pinned version), fetched like recall_truth

    @property
    def root(self) -> Path:
        if self.sdist is None:
            return STDLIB
        return fetch_sdist(ROOT / ".bench-tools" / "sdist", self.sdist).resolve()


WORKSPACES = {
    "stdlib": Workspace("stdlib", STDLIB_QUERIES, "shutil.py"),
    "pyparsing": Workspace("pyparsing", PYPARSING_QUERIES, "pyparsing/helpers.py",
                           ("pyparsing", "3.3.3")),
    "click": Workspace("click", CLICK_QUERIES, "src/click/termui.py", PROJECT),
}  # fmt: skip
#: The workspace of this run (``--project``); the module's functions ask it.
WS = [WORKSPACES["stdlib"]]
#: Where the queries are asked: "def" (the target's def), "use" (the query's ``use``,
#: the def where it has none) or "both" (every query with a ``use`` asked at each).
ASK_AT = ["def"]


#: jedi-language-server with jedi's reference-search limits (2,000 files opened, 30
#: parsed) lifted: what the same recall costs it.
UNLIMITED_JLS = [
    sys.executable,
    "-c",
    "import jedi.inference.references as r; "
    "r._OPENED_FILE_LIMIT = r._PARSED_FILE_LIMIT = 10**9; "
    "from jedi_language_server.cli import cli; cli()",
]


PYRIGHT = ROOT / ".bench-tools/pyright/node_modules/.bin/pyright-langserver"
BASEDPYRIGHT = Path(sys.executable).with_name("basedpyright-langserver")


def ensure_jls() -> str:
    """jedi-language-server's command, installing it into this venv if need be."""
    if importlib.util.find_spec("jedi_language_server") is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "jedi-language-server>=0.45"], check=True
        )
    exe = Path(sys.executable).with_name("jedi-language-server")
    return str(exe)


# -- where the queries point ----------------------------------------------------------------


def asks() -> list[tuple[str, Query, Path, int, int]]:
    """(label, query, file, 0-based line, column) of every request, as ``--ask-at`` says."""
    out = []
    for q in WS[0].queries:
        at_def = (q.label, q, *target_position(q.rel, q.anchor, q.method))
        if q.use is None or ASK_AT[0] == "def":
            out.append(at_def)
            continue
        if ASK_AT[0] == "both":
            out.append(at_def)
        label = f"{q.label} @use" if ASK_AT[0] == "both" else q.label
        out.append((label, q, *use_position(q)))
    return out


def use_position(q: Query) -> tuple[Path, int, int]:
    """The first line of ``q.use``'s file holding its text, at the text's last word."""
    assert q.use is not None
    use_rel, text = q.use
    path = WS[0].root / use_rel
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines) if text in t)
    name = re.findall(r"\w+", text)[-1]
    return path, line, lines[line].index(text) + len(text) - len(name)


def target_position(rel: str, anchor: str, method: str | None) -> tuple[Path, int, int]:
    """0-based (line, column) of the def's name, or of ``method`` inside the class."""
    path = WS[0].root / rel
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(anchor))
    if method is None or anchor.startswith("def "):
        name = re.findall(r"\w+", anchor)[1]
        return path, start, lines[start].index(name)
    for i in range(start + 1, len(lines)):
        if re.match(rf"\s+def {method}\(", lines[i]):
            return path, i, lines[i].index(method)
    raise LookupError(f"{method} not found in {rel}")


# -- ground truth -----------------------------------------------------------------------------


def stdlib_files() -> list[str]:
    """The files twinls indexes in this run's workspace (the stdlib unless ``--project``)."""
    from twinls.shared.overlay import Overlay

    return list(Overlay(roots=[str(WS[0].root)]).python_files())


def truth_references(path: Path, line: int, col: int) -> set[tuple[str, int, int]]:
    import jedi

    import twinls.twin.queries.jedi_compat  # noqa: F401 - platform branches as on this platform

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


def truth_of(q: Query) -> set[tuple[str, int, int]]:
    """The ground truth of ``q``: plain jedi, computed here, never by a server."""
    path, line, col = target_position(q.rel, q.anchor, q.method)
    if q.kind == IMPL:
        return truth_implementation(path, _class_line(path, q.anchor), q.method)
    if WS[0].sdist is None:
        return truth_references(path, line, col)
    root = WS[0].root
    return {(str(root / rel), n, c) for rel, n, c in project_truth(root, q.rel, line, col)}


def truth_implementation(path: Path, line: int, method: str | None) -> set[tuple[str, int, int]]:
    """Classes defining ``method`` whose jedi-inferred bases lead to the class at ``line``
    (``method`` None: every such class, at its name)."""
    import jedi

    env = jedi.InterpreterEnvironment()
    project = jedi_project(WS[0].root)
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
            if method is None:
                if node.bases and leads_to_target(file, node):
                    found.add((file, node.lineno - 1, node.col_offset + len("class ")))
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


def peer_interpreter() -> str:
    """This interpreter, started from ``/``: what the peers are told to probe.

    pyright and basedpyright ask the interpreter for its ``sys.path`` with a snippet that
    first drops the working directory from ``sys.path`` (so a local ``json.py`` cannot
    shadow the stdlib's), then imports ``json``. basedpyright runs it in the workspace
    root, which here IS the standard library: the stdlib leaves ``sys.path``, the probe
    fails with ``No module named 'json'`` and basedpyright searches without the
    interpreter's paths. Started from ``/``, the same interpreter answers.
    """
    import tempfile

    shim = Path(tempfile.mkdtemp(prefix="bench-python-")) / "python"
    shim.write_text(f'#!/bin/sh\ncd / && exec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    return str(shim)


#: What a peer is told when it asks ``workspace/configuration``: this interpreter, named
#: explicitly (pyright's ``python.pythonPath``), so no peer guesses one from ``PATH``.
PEER_SETTINGS: dict[str, Any] = {
    "python": {"pythonPath": sys.executable},  # main() puts peer_interpreter() here
    "python.analysis": {},
    "pyright": {},
    "basedpyright": {},
    "basedpyright.analysis": {},
}


def _configuration(params: Any) -> list[Any]:
    return [PEER_SETTINGS.get(item.section or "", {}) for item in params.items]


async def session(
    command: list[str], init_options: dict[str, Any] | None, root: Path | None = None
):
    from lsprotocol import types
    from pytest_lsp import ClientServerConfig

    from lsp_harness import capabilities, make_client

    client = await ClientServerConfig(server_command=command, client_factory=make_client).start()
    client.protocol.fm.features[types.WORKSPACE_CONFIGURATION] = _configuration
    client.progress_times = {}  # type: ignore[attr-defined]
    original = client.protocol.fm.features[types.PROGRESS]

    def progress(params: types.ProgressParams) -> None:
        client.progress_times.setdefault(params.token, []).append(time.perf_counter())
        original(params)

    client.protocol.fm.features[types.PROGRESS] = progress
    root = root or STDLIB
    caps = capabilities()
    caps.workspace.configuration = True  # type: ignore[union-attr]  # PEER_SETTINGS
    await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=init_options,
        )
    )
    return client


#: Seconds a request may take before the bench gives up on it (``--timeout``): a
#: server that never answers (jedi-language-server once, on click) is reported as
#: failing that query instead of stalling the run.
TIMEOUT = [600.0]


async def ask(client, kind: str, path: Path, line: int, col: int, token: str):
    from lsprotocol import types

    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    pos = types.Position(line, col)
    start = time.perf_counter()
    try:
        if kind == "references":
            request = client.text_document_references_async(
                types.ReferenceParams(
                    text_document=doc,
                    position=pos,
                    context=types.ReferenceContext(include_declaration=True),
                    partial_result_token=token,
                )
            )
        else:
            request = client.text_document_implementation_async(
                types.ImplementationParams(
                    text_document=doc, position=pos, partial_result_token=token
                )
            )
        result = await asyncio.wait_for(request, TIMEOUT[0])
    except Exception as exc:  # TimeoutError included
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


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rollup(pid: int) -> dict[str, int]:
    """A process's Rss and Pss (its shared pages split among their sharers) in bytes; empty
    if it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    out[key.lower()] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def tree_rss(pid: int) -> tuple[int, int]:
    """(resident bytes, proportional bytes) of ``pid`` and all its descendants.

    RSS counts a page shared by forked processes (the twins are forks of the server,
    copy-on-write) once in every process; PSS splits it among them, so its sum is what
    the tree takes from the machine."""
    rss = pss = 0
    for p in tree_pids(pid):
        got = rollup(p)
        rss += got.get("rss", 0)
        pss += got.get("pss", 0)
    return rss, pss


class PeakRss:
    """Samples a process tree's RSS and PSS every 50 ms in a thread; ``peak`` (RSS) and
    ``peak_pss`` in bytes, each the highest sum of one sample."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid, self.peak, self.peak_pss = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            rss, pss = tree_rss(self.pid)
            self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


async def hover_during(client, first: asyncio.Task, path: Path) -> dict[str, Any]:
    """A hover 50 ms into a search: its latency, and whether it beat the search."""
    from lsprotocol import types

    await asyncio.sleep(0.05)
    start = time.perf_counter()
    hover = client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(0, 0),
        )
    )
    try:
        await asyncio.wait_for(hover, TIMEOUT[0])
    except TimeoutError:
        pass  # its latency: the timeout
    return {"latency": time.perf_counter() - start, "before_search_end": not first.done()}


async def run_server(
    name: str, command: list[str], init: dict[str, Any] | None, repeat: int, open_docs: bool
) -> dict[str, Any]:
    client = await session(command, init, WS[0].root)
    server_pid = client._server.pid
    rss = PeakRss(server_pid)
    out: dict[str, Any] = {}
    try:
        if name.startswith("twinls"):
            await client.workspace_execute_command_async(
                __import__("lsprotocol").types.ExecuteCommandParams(command="twinls.status")
            )
        stuck = False  # a request timed out: the server is not asked again
        for label, q, path, line, col in asks():
            if stuck:
                out[label] = [{"error": "not asked: an earlier request timed out"}]
                continue
            if open_docs:
                from lsprotocol import types

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
            runs = []
            for i in range(repeat + 1):
                asked = asyncio.ensure_future(
                    ask(client, q.kind, path, line, col, f"{name}-{label}-{i}")
                )
                if i == 0 and "hover" not in out:
                    out["hover"] = await hover_during(client, asked, WS[0].root / WS[0].hover)
                runs.append(await asked)
                if "error" in runs[-1]:
                    stuck = runs[-1]["error"].startswith("TimeoutError")
                    break
            out[label] = runs
        if name.startswith("twinls"):  # what the twins' jedi and binding lane did, summed
            status = await client.workspace_execute_command_async(
                __import__("lsprotocol").types.ExecuteCommandParams(command="twinls.status")
            )
            jedi: dict[str, int] = {}
            for twin in (status or {}).get("twins", []):
                for key, value in (twin.get("jedi") or {}).items():
                    jedi[key] = jedi.get(key, 0) + value
            out["jedi"] = jedi
    finally:
        out["peak_rss"] = await ended(client, rss)
        out["peak_pss"] = rss.peak_pss
    return out


async def ended(client, rss: PeakRss) -> int:
    """Stop sampling, then shut the server down; its peak RSS (bytes)."""
    peak = rss.stop()
    try:
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        await client.stop()
    return peak


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


#: What ``run_server`` gives beside each query's runs.
NOT_QUERIES = ("hover", "peak_rss", "peak_pss", "jedi")


def summarize(
    label: str, runs: list[dict[str, Any]], truth: set, rival_hits: int | None = None
) -> dict[str, Any]:
    if "error" in runs[0]:
        return {"query": label, "error": runs[0]["error"]}
    cold, warm = runs[0], runs[1:] or runs[:1]
    found = warm[-1]["found"]
    true_cols = {(p, line) for p, line, _ in truth}
    hits = {(p, line) for p, line, _ in found} & true_cols
    parity = cold_parity = None
    if rival_hits:
        times = [parity_time(r, true_cols, rival_hits) for r in warm]
        parity = min((t for t in times if t is not None), default=None)
        cold_parity = parity_time(cold, true_cols, rival_hits)
    lines_of = [{(p, line) for p, line, _ in r["found"]} for r in runs]
    return {
        "hits": len(hits),
        "parity": parity,
        "cold_parity": cold_parity,
        "query": label,
        "cold_first": cold["first"],
        "cold_total": cold["total"],
        "warm_first": min(r["first"] for r in warm),
        "warm_total_best": min(r["total"] for r in warm),
        "warm_total_median": statistics.median(r["total"] for r in warm),
        "results": len(found),
        "truth": len(truth),
        "recall": len(hits) / len(true_cols) if true_cols else 1.0,
        "counts": [len(r["found"]) for r in runs],
        "recalls": [
            len(lines & true_cols) / len(true_cols) if true_cols else 1.0 for lines in lines_of
        ],
        "beyond": [len(lines - true_cols) for lines in lines_of],
        # for --json: what each run missed and found beyond the truth, (file, 0-based line)
        "missed": [sorted(true_cols - lines) for lines in lines_of],
        "extra": [sorted(lines - true_cols) for lines in lines_of],
        "stable": all(r["found"] == runs[0]["found"] for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=None, help="twins (default: cores, max 4)")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per query")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument(
        "--truth-cache", default=None, help="keep the ground truth in this file between runs"
    )
    parser.add_argument("--servers", default="twinls,pyright,basedpyright,jls")
    parser.add_argument(
        "--sessions",
        type=int,
        default=1,
        help="twinls sessions, one after the other, sharing one server cache (issue 10): "
        "session 2's cold answers come from what session 1 kept",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="twinls's XDG_CACHE_HOME (default: a fresh empty folder, so session 1 is cold)",
    )
    parser.add_argument(
        "--queries", default="", help="only queries whose label holds one of these (a,b,...)"
    )
    parser.add_argument(
        "--ask-at",
        choices=["def", "use", "both"],
        default=None,
        help="ask at the target's def, at a use (``Query.use``), or both (the use's label ends "
        "in '@use'); the ground truth is the same (default: def; both with --project)",
    )
    parser.add_argument(
        "--project",
        choices=sorted(WORKSPACES),
        default="stdlib",
        help="the workspace: the stdlib, or a pinned PyPI sdist (.bench-tools/sdist)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before a request counts as failed"
    )
    args = parser.parse_args()
    TIMEOUT[0] = args.timeout
    WS[0] = WORKSPACES[args.project]
    ASK_AT[0] = args.ask_at or ("def" if WS[0].sdist is None else "both")
    servers = [s.replace("jedi-language-server", "jls") for s in args.servers.split(",")]
    jls = ensure_jls() if "jls" in servers else ""
    wanted = args.queries.split(",")
    WS[0] = replace(WS[0], queries=[q for q in WS[0].queries if any(w in q.label for w in wanted)])

    started = time.perf_counter()
    cache = Path(args.truth_cache) if args.truth_cache else None
    truth = load_truth(cache)
    for q in WS[0].queries:
        if q.label not in truth:
            truth[q.label] = truth_of(q)
            print(f"truth: {q.label}: {len(truth[q.label])}", file=sys.stderr)
    print(f"ground truth in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if cache is not None:
        save_truth(cache, truth)
    asked = {label: q.label for label, q, *_ in asks()}  # what each label's truth is

    PEER_SETTINGS["python"]["pythonPath"] = peer_interpreter()
    pool = {"pool": args.pool} if args.pool else {}
    commands = {
        "twinls": ([sys.executable, "-m", "twinls"], pool, False),
        "pyright": ([str(PYRIGHT), "--stdio"], None, True),
        "basedpyright": ([str(BASEDPYRIGHT), "--stdio"], None, True),
        # jedi-language-server runs in this venv; name this interpreter to it as to the others
        "jls": ([jls], {"workspace": {"environmentPath": sys.executable}}, True),
    }
    import tempfile

    os.environ["XDG_CACHE_HOME"] = args.cache_dir or tempfile.mkdtemp(prefix="twinls-bench-")
    print(f"twinls's cache: {os.environ['XDG_CACHE_HOME']}/twinls", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    for server in servers:  # one at a time: each gets the machine to itself
        command, init, open_docs = commands[server]
        sessions = args.sessions if server == "twinls" else 1
        for n in range(1, sessions + 1):
            name = server if n == 1 else f"{server} (session {n})"
            results[name] = asyncio.run(run_server(name, command, init, args.repeat, open_docs))

    rows = []
    peers = [s for s in servers if s != "twinls"]
    summaries = {
        server: {
            label: summarize(label, runs, truth[asked[label]])
            for label, runs in results[server].items()
            if label not in NOT_QUERIES
        }
        for server in peers
    }
    for name in [n for n in results if n.startswith("twinls")]:
        for label, runs in results[name].items():
            if label in NOT_QUERIES:
                continue
            best = max((summaries[p][label].get("hits") or 0 for p in peers), default=None)
            rows.append(
                {"server": name, **summarize(label, runs, truth[asked[label]], best or None)}
            )
    for server in peers:
        rows += [{"server": server, **r} for r in summaries[server].values()]
    print(
        f"\n{WS[0].name}: {WS[0].root} ({len(stdlib_files())} files), "
        f"pool={args.pool or 'default'}, asked at: {ASK_AT[0]}"
    )
    print(
        "| query | server | first result (warm) | best peer's true hits reached (cold / warm) | "
        "total (warm, best / median) | cold first / total | results (every run) | "
        "recall (every run) | beyond the truth (every run) | every repeat identical |"
    )
    print("|" + "---|" * 10)
    for r in rows:
        if "error" in r:
            what = "not supported" if "MethodNotFound" in r["error"] else f"fails: {r['error']}"
            print(f"| {r['query']} | {r['server']} | — | — | {what} | — | — | — | — | — |")
            continue
        parity = " / ".join(
            _ms(r[k]) if r.get(k) is not None else "—" for k in ("cold_parity", "parity")
        )
        recalls = " ".join(f"{x:.0%}" for x in r["recalls"])
        print(
            f"| {r['query']} | {r['server']} | {_ms(r['warm_first'])} | {parity} | "
            f"{_ms(r['warm_total_best'])} / {_ms(r['warm_total_median'])} | "
            f"{_ms(r['cold_first'])} / {_ms(r['cold_total'])} | "
            f"{' '.join(map(str, r['counts']))} | {recalls} of {r['truth']} | "
            f"{' '.join(map(str, r['beyond']))} | {'yes' if r['stable'] else 'NO'} |"
        )
    print(
        "\n| server | peak RSS (process tree) | peak PSS (process tree) "
        "| hover 50 ms into the cold first search |"
    )
    print("|---|---|---|---|")
    for server, res in results.items():
        hover = res.get("hover") or {}
        when = "before the search ended" if hover.get("before_search_end") else "after it"
        print(
            f"| {server} | {res['peak_rss'] / 2**20:.0f} MiB | "
            f"{res.get('peak_pss', 0) / 2**20:.0f} MiB | "
            f"{_ms(hover['latency']) if hover else '—'} ({when}) |"
        )
    for server, res in results.items():
        if res.get("jedi"):
            print(f"{server}'s twins (twinls.status jedi, summed): {res['jedi']}")
    rows.append({"rss": {k: v["peak_rss"] for k, v in results.items()}})
    rows.append({"pss": {k: v.get("peak_pss", 0) for k, v in results.items()}})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


def load_truth(cache: Path | None) -> dict[str, set]:
    """The kept ground truth, paths made absolute (a project's are kept relative to its
    root, so the file beside the bench holds wherever the sdist is unpacked)."""
    if cache is None or not cache.exists():
        return {}
    root = WS[0].root
    return {
        k: {(str(root / p), n, c) for p, n, c in v}
        for k, v in json.loads(cache.read_text()).items()
    }


def save_truth(cache: Path, truth: dict[str, set]) -> None:
    root = WS[0].root
    kept = {k: sorted((os.path.relpath(p, root), n, c) for p, n, c in v) for k, v in truth.items()}
    cache.write_text(json.dumps(kept, indent=0) + "\n")


def _class_line(path: Path, anchor: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines) if line.startswith(anchor))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())

"""The import contract: each package imports only what its process may run.

``twinls.server`` (with the front doors ``twinls``, ``twinls.api``, ``twinls.cli``)
runs in the server and never runs jedi, parso, pytest or user code; ``twinls.shared``
is imported by every process, so it imports none of the others; ``twinls.twin`` and
``twinls.run`` (the run child, forked from a twin) do the work. Checked two ways: over
the source (every import statement, those inside functions too, transitively through
twinls's own modules), and by importing every server module in a fresh interpreter.

The server crosses into the twin's code at two deliberate points, listed in
``FORKS``: the forked child that becomes a twin, and the preload before forking (the
server imports jedi and the queries so that each fork starts warm, and never calls
them). An edge there is not followed. Any other import of ``twinls.twin`` from the
server side must be listed in ``SERVER_USES_TWIN`` with its reason.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

import twinls

PACKAGE = Path(twinls.__file__).parent

#: Edges from the server into code that runs in another process: not followed.
FORKS = {
    ("twinls.server.process", "twinls.twin.main"): "the forked child becomes the twin",
    ("twinls.server.pool", "twinls.twin.warm"): "preload before the first fork",
}
#: Twin modules the server side may import (and does run), with why.
SERVER_USES_TWIN = {
    ("twinls", "twinls.twin.context"): "the API exports current() for callables run in a twin",
}
SERVER_ROOTS = ("twinls.server", "twinls.api", "twinls.cli", "twinls.__main__")
SERVER_FRONT = {"twinls", "twinls.api", "twinls.cli", "twinls.__main__"}
#: What the server side must never reach, however indirectly.
SERVER_FORBIDDEN = ("jedi", "parso", "pytest", "_pytest", "twinls.run")
#: What the shared package must never reach: it is imported by every process.
SHARED_FORBIDDEN = SERVER_FORBIDDEN + ("twinls.server", "twinls.twin")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (``if TYPE_CHECKING:`` blocks never do)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@functools.cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module -> the modules it imports (twinls's own in full, others by top-level name)."""
    modules = _modules()
    graph: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set(_parents(name))
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # ``from pkg import mod`` imports pkg and pkg.mod; ``from mod import x``, mod
                targets = [source] + [
                    f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules
                ]
            for target in targets:
                if target.split(".")[0] == "twinls":
                    edges.add(target)
                    edges.update(_parents(target))
                else:
                    edges.add(target.split(".")[0])
        edges.discard(name)
        graph[name] = frozenset(edges)
    return graph


def _in(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def reach(graph: dict[str, frozenset[str]], start: str) -> dict[str, str]:
    """Every module ``start`` imports, however indirectly -> the module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        here = todo.pop()
        for there in graph.get(here, ()):
            if (here, there) in FORKS or there in seen or there in (start, "twinls"):
                continue  # the root package is the public API: a front door, checked as one
            seen[there] = here
            todo.append(there)
    return seen


def _chain(seen: dict[str, str], start: str, end: str) -> str:
    chain = [end]
    while chain[-1] != start:
        chain.append(seen[chain[-1]])
    return " -> ".join(reversed(chain))


def _server_side(graph: dict[str, frozenset[str]]) -> list[str]:
    return sorted(m for m in graph if _in(m, SERVER_ROOTS) or m in SERVER_FRONT)


def violations(graph: dict[str, frozenset[str]]) -> list[str]:
    found = []
    for module in _server_side(graph):
        seen = reach(graph, module)
        found += [
            f"server side reaches {bad}: {_chain(seen, module, bad)}"
            for bad in sorted(seen)
            if _in(bad, SERVER_FORBIDDEN)
        ]
        found += [
            f"server module {module} imports twin module {t} (not in SERVER_USES_TWIN)"
            for t in sorted(graph[module])
            if _in(t, ("twinls.twin",))
            and (module, t) not in FORKS
            and (module, t) not in SERVER_USES_TWIN
            and t != "twinls.twin"  # a parent package, imported on the way to an allowed one
        ]
    for module in sorted(m for m in graph if _in(m, ("twinls.shared",))):
        seen = reach(graph, module)
        found += [
            f"shared module reaches {bad}: {_chain(seen, module, bad)}"
            for bad in sorted(seen)
            if _in(bad, SHARED_FORBIDDEN)
        ]
    return sorted(set(found))


def test_the_server_side_never_imports_jedi_parso_pytest_or_the_run_child():
    graph = import_graph()
    assert len(_server_side(graph)) > 20  # the walk found the server's modules
    assert {"jedi", "parso"} <= graph["twinls.twin.queries.jedi_world"]  # and sees imports
    assert violations(graph) == []


def test_every_listed_crossing_exists():
    """A crossing that no longer exists is removed from the lists, not left to excuse one."""
    graph = import_graph()
    for here, there in [*FORKS, *SERVER_USES_TWIN]:
        assert there in graph[here], (here, there)


def test_a_jedi_import_in_a_server_module_is_caught():
    """The check can fail: the graph of a server module that imports jedi is a violation."""
    graph = dict(import_graph())
    graph["twinls.server.lsp.titles"] = graph["twinls.server.lsp.titles"] | {"jedi"}
    assert "server side reaches jedi: twinls.server.lsp.titles -> jedi" in violations(graph)


def test_importing_every_server_module_loads_no_jedi_parso_pytest_or_run_child():
    """At run time too, through third-party libraries: a fresh interpreter's sys.modules."""
    graph = import_graph()
    names = [m for m in _server_side(graph) if m != "twinls.__main__"]
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    loaded = json.loads(out.splitlines()[-1])
    assert [m for m in loaded if _in(m, SERVER_FORBIDDEN)] == []


#: The first word(s) of a module's docstring in each package: the process it runs in.
PROCESS_OF_PACKAGE = {
    "twinls.server": ("Server",),
    "twinls.shared": ("Shared",),
    "twinls.twin": ("Twin", "Zygote"),
    "twinls.run": ("Run child",),
    "twinls": ("Server",),  # the front doors: they run where the pool lives
}


def test_every_module_says_first_which_process_it_runs_in():
    wrong = []
    for name, path in _modules().items():
        package = max((p for p in PROCESS_OF_PACKAGE if _in(name, (p,))), key=len)
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first = doc.splitlines()[0] if doc else ""
        if not first.startswith(PROCESS_OF_PACKAGE[package]):
            wrong.append(f"{name}: {first!r}")
    assert wrong == []

"""A references ground truth on a real third-party project (test process; plain jedi).

Shared by ``tests/test_search_recall_project.py`` (a small seeded sample, in CI)
and ``tests/bench/bench_search.py --project`` (a few hundred names). The project
is an sdist from PyPI, fetched with pip (CI reaches PyPI), so the names are
code nobody here wrote or tuned on. The truth is what plain jedi says with a
``Script`` per file: every spelling of the name, ``goto`` (imports followed)
at each, kept when it lands on the target's definition.
"""

from __future__ import annotations

import ast
import random
import re
import subprocess
import sys
import tarfile
from pathlib import Path

#: The project: pure Python, src layout, tests in the sdist.
PROJECT = ("click", "8.1.7")

Spot = tuple[str, int, int]  # (path relative to the root, 0-based line, column)


def fetch_sdist(dest: Path, project: tuple[str, str] = PROJECT) -> Path:
    """The unpacked sdist of ``project`` under ``dest`` (downloaded once)."""
    name, version = project
    root = dest / f"{name}-{version}"
    if root.is_dir():
        return root
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
        + ["-d", str(dest), f"{name}=={version}"],
        check=True,
    )
    archive = next(dest.glob(f"{name}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return root


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "docs" not in p.relative_to(root).parts)


def sample_names(root: Path, k: int, seed: int) -> list[tuple[str, int, int, str]]:
    """``k`` definitions (file, 0-based line, column, name) of the project's own code, seeded.

    Functions, methods and classes under ``src/`` (not dunders: every class has
    ``__init__``), chosen at random, not picked by hand.
    """
    found = []
    for path in python_files(root / "src"):
        rel = str(path.relative_to(root))
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if node.name.startswith("__"):
                continue
            line = lines[node.lineno - 1]
            m = re.search(rf"\b(def|class)\s+({re.escape(node.name)})\b", line)
            if m:
                found.append((rel, node.lineno - 1, m.start(2), node.name))
    return random.Random(seed).sample(sorted(found), min(k, len(found)))


def same_scope_defs(text: str, line: int, name: str) -> set[tuple[int, int]]:
    """(1-based line, column) of each ``def``/``class`` ``name`` in the scope of that at ``line``.

    Branches of an ``if`` (``if WIN: def getchar`` / ``else: def getchar``) define
    one name of their scope: a reference to either is a reference to it, as
    jedi's own ``get_references`` (and pyright) count them.
    """
    scopes: dict[int, list[ast.AST]] = {}

    def walk(node: ast.AST, scope: int) -> None:
        for child in ast.iter_child_nodes(node):
            defines = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if defines and child.name == name:  # type: ignore[attr-defined]
                scopes.setdefault(scope, []).append(child)
            walk(child, id(child) if defines else scope)

    walk(ast.parse(text), 0)
    lines = text.split("\n")
    for nodes in scopes.values():
        if any(n.lineno - 1 == line for n in nodes):  # type: ignore[attr-defined]
            spots = set()
            for n in nodes:
                m = re.search(rf"\b{re.escape(name)}\b", lines[n.lineno - 1])  # type: ignore[attr-defined]
                if m:
                    spots.add((n.lineno, m.start()))  # type: ignore[attr-defined]
            return spots
    return set()


def jedi_project(root: Path):  # type: ignore[no-untyped-def]
    """The project as the twins configure it (a ``src`` folder on the path)."""
    import jedi

    src = root / "src"
    return jedi.Project(str(root), added_sys_path=[str(src)] if src.is_dir() else [])


def truth_references(root: Path, rel: str, line: int, col: int) -> set[Spot]:
    """Every spelling of the name at ``rel:line:col`` that plain jedi's goto takes to it."""
    import jedi

    import twinls.twin.queries.jedi_compat  # noqa: F401 - platform branches as on this platform

    env = jedi.InterpreterEnvironment()
    project = jedi_project(root)
    here = root / rel
    script = jedi.Script(here.read_text(encoding="utf-8"), path=str(here), project=project,
                         environment=env)  # fmt: skip
    target = {
        (str(d.module_path), d.line, d.column)
        for d in script.goto(line + 1, col, follow_imports=True)
    }
    target.add((str(here), line + 1, col))
    word = here.read_text(encoding="utf-8").split("\n")[line][col:]
    word = re.match(r"\w+", word).group(0)  # type: ignore[union-attr]
    text = here.read_text(encoding="utf-8")
    target |= {(str(here), ln, c) for ln, c in same_scope_defs(text, line, word)}
    pattern = re.compile(rf"\b{re.escape(word)}\b")
    found: set[Spot] = set()
    for path in python_files(root):
        text = path.read_text(encoding="utf-8")
        if word not in text:
            continue
        script = jedi.Script(text, path=str(path), project=project, environment=env)
        for n, line_text in enumerate(text.split("\n")):
            for m in pattern.finditer(line_text):
                try:
                    defs = script.goto(n + 1, m.start(), follow_imports=True)
                except Exception:  # jedi tripping over one spot: not a reference
                    continue
                if any((str(d.module_path), d.line, d.column) in target for d in defs):
                    found.add((str(path.relative_to(root)), n, m.start()))
    return found

"""Shared: what can be run in a file, pytest tests and examples found with ``ast``.

Lenses must follow the editor's unsaved text, so discovery parses the text the
twin holds rather than importing anything: a file with a syntax error or an
import-time crash still gets its lenses (from the last text that parsed).
Columns are code points; the server converts them to the client's encoding.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
from typing import Any

from .overlay import Overlay
from .schema import Unit
from .textbuf import split_lines

#: pytest's default ``python_files``; a test module gets "Run file" and test lenses.
TEST_FILES = ("test_*.py", "*_test.py")

_DOCTEST = re.compile(r"^\s*>>>", re.M)
#: What precedes a definition's name on its line (the name is searched after it).
_KEYWORD = re.compile(r"(?:async\s+)?(?:def|class)\s+")


def is_test_module(path: str) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(name, pat) for pat in TEST_FILES)


def one_test_file(spec: dict[str, Any]) -> str | None:
    """The one test file a run spec's targets lie in (a collection zygote can serve it:
    ``twin/warm_sessions.py``), else None: a folder, several files, an example."""
    if spec.get("kind") != "tests" or spec.get("debug"):
        return None
    path = spec.get("path")
    if not isinstance(path, str) or not is_test_module(path):
        return None
    targets = spec.get("targets") or []
    if not targets or any(t != path and not t.startswith(path + "::") for t in targets):
        return None
    return path


class Lenses:
    """Per-file units cached by the overlay's stamp: an edit re-parses one file."""

    def __init__(self, overlay: Overlay) -> None:
        self.overlay = overlay
        self._cache: dict[str, tuple[tuple, list[Unit]]] = {}

    def units(self, path: str) -> list[Unit]:
        stamp = self.overlay.stamp(path)
        hit = self._cache.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        text = self.overlay.read_text(path)
        if text is None:
            self._cache.pop(path, None)
            return []
        try:
            units = find_units(text, path)
        except SyntaxError:
            # Keep the last good lenses while the user is mid-edit.
            return hit[1] if hit is not None else []
        self._cache[path] = (stamp, units)
        return units


def find_units(text: str, path: str) -> list[Unit]:
    """Tests (a test module's functions, methods and classes) and examples, in text order."""
    tree = ast.parse(text, filename=path)
    lines = split_lines(text)  # LSP's lines (and ast's): a form feed breaks none
    units: list[Unit] = []
    test_module = is_test_module(path)
    if test_module:
        units.append(
            {"kind": "file", "name": os.path.basename(path), "qualname": "", "line": 0}
            | {"col": 0, "end_col": 0, "end_line": max(0, len(lines) - 1), "mode": "pytest"}
        )
    _walk(tree.body, lines, units, test_module, prefix=[], in_test_class=False)
    units.sort(key=lambda u: (u["line"], u["kind"] != "file", u["kind"] == "example"))
    return units


def _walk(
    body: list[ast.stmt],
    lines: list[str],
    units: list[Unit],
    test_module: bool,
    prefix: list[str],
    in_test_class: bool,
) -> None:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top = not prefix
            if test_module and (top or in_test_class) and node.name.startswith("test"):
                units.append(_unit("test", node, lines, prefix, "pytest"))
            if top and node.name.startswith("example_"):
                units.append(_unit("example", node, lines, prefix, "call"))
            elif _has_doctest(node):
                units.append(_unit("example", node, lines, prefix, "doctest"))
        elif isinstance(node, ast.ClassDef):
            is_test = (
                test_module
                and (not prefix or in_test_class)
                and (_is_test_class(node) or _is_unittest_case(node))
            )
            if is_test:
                units.append(_unit("class", node, lines, prefix, "pytest"))
            if _has_doctest(node):
                units.append(_unit("example", node, lines, prefix, "doctest"))
            _walk(node.body, lines, units, test_module, [*prefix, node.name], is_test)


def _is_test_class(node: ast.ClassDef) -> bool:
    if not node.name.startswith("Test"):
        return False
    # pytest skips (with a warning) classes that define __init__.
    return not any(isinstance(n, ast.FunctionDef) and n.name == "__init__" for n in node.body)


def _is_unittest_case(node: ast.ClassDef) -> bool:
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        if name.endswith("TestCase"):
            return True
    return False


def _has_doctest(node: ast.AST) -> bool:
    doc = ast.get_docstring(node, clean=False)  # type: ignore[arg-type]
    return bool(doc and _DOCTEST.search(doc))


def _unit(kind: str, node: Any, lines: list[str], prefix: list[str], mode: str) -> Unit:
    """One runnable thing; tests are named pytest-style (``A::b``), examples dotted."""
    line = node.lineno - 1
    text = lines[line] if line < len(lines) else ""
    col = byte_to_codepoint(text, node.col_offset)
    keyword = _KEYWORD.match(text, col)
    name_at = text.find(node.name, keyword.end() if keyword else col)
    end_col = name_at + len(node.name) if name_at >= 0 else col
    sep = "::" if mode == "pytest" else "."
    return {
        "kind": kind,
        "name": node.name,
        "qualname": sep.join([*prefix, node.name]),
        "line": line,
        "col": col,
        "end_col": end_col,
        "end_line": (node.end_lineno or node.lineno) - 1,
        "mode": mode,
    }


def byte_to_codepoint(line: str, col: int) -> int:
    """``ast`` columns are UTF-8 byte offsets; positions elsewhere are code points."""
    if line.isascii():
        return col
    return len(line.encode("utf-8", "surrogateescape")[:col].decode("utf-8", "replace"))


def enclosing(units: list[Unit], line: int) -> Unit | None:
    """The innermost test or example whose lines hold ``line`` (for run-at-cursor).

    A test wins over an example on the same span; a function over its class.
    """
    best: Unit | None = None
    for u in units:
        if u["kind"] == "file" or not (u["line"] <= line <= u["end_line"]):
            continue
        if best is None:
            best = u
            continue
        span, best_span = u["end_line"] - u["line"], best["end_line"] - best["line"]
        if span < best_span or (span == best_span and best["kind"] == "example"):
            best = u
    return best

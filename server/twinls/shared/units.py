"""Shared: a file's units (run child and server) — functions, classes, module statements.

Live tests record which units each test executed (run child, ``run/trace.py``)
and re-run the tests whose units an edit changed (server, ``server/testmap.py``);
both sides must cut a file into the same units, so they use this one module.

A unit is a function or class at module level or inside a class (``C.m``, nested
classes too), named by its dotted qualname; a function nested in a function
belongs to the function around it (its change changes that function). What is
left of a class (its own statements, bases, decorators) is the class's unit;
what is left of the module (imports, constants, ``if`` blocks) is ``MODULE``.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field

MODULE = "<module>"

Defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Span:
    """Lines (1-based, inclusive, decorators included) of one unit."""

    start: int
    end: int
    qualname: str


@dataclass
class FileUnits:
    """A parsed file: its units' spans, and a fingerprint per unit (``ast.dump``).

    ``texts`` hashes each def unit's source lines: a unit whose lines are the same
    as in an earlier parse has that parse's fingerprint, not dumped again (the dump
    of a 4,800-line module is ~25 ms of the live run's path, an edit changes one unit).
    """

    spans: list[Span]
    prints: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)

    def unit_at(self, line: int) -> str:
        """The innermost unit around ``line`` (a code object's first line), else MODULE."""
        best: Span | None = None
        for span in self.spans:
            if span.start <= line <= span.end and (best is None or span.start >= best.start):
                best = span
        return best.qualname if best is not None else MODULE


def parse(
    text: str,
    path: str = "<unknown>",
    tree: ast.Module | None = None,
    reuse: FileUnits | None = None,
) -> FileUnits:
    """Units of ``text`` (or of its ``tree``, parsed already); raises ``SyntaxError``.

    ``reuse``: an earlier parse of the file, whose fingerprints stand for units whose
    lines did not change (a def's ``ast.dump`` depends on its lines alone).
    """
    if tree is None:
        tree = ast.parse(text, filename=path)
    out = FileUnits([], {MODULE: _print(_hollow(tree.body))})
    # Lines as the parser counts them (``str.splitlines`` also splits at \f and \x1c).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    _walk(tree.body, "", out, lines, reuse)
    return out


def _walk(
    body: list[ast.stmt],
    prefix: str,
    out: FileUnits,
    lines: list[str],
    reuse: FileUnits | None,
) -> None:
    spans, prints = out.spans, out.prints
    for node in body:
        if not isinstance(node, Defs):
            continue
        name = prefix + node.name
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        end = node.end_lineno or node.lineno
        spans.append(Span(start, end, name))
        seen = out.texts[name] = _hash("\n".join(lines[start - 1 : end]))
        if reuse is not None and reuse.texts.get(name) == seen and name in reuse.prints:
            prints[name] = reuse.prints[name]
            if isinstance(node, ast.ClassDef):  # its units' lines are the same too
                _walk(node.body, name + ".", out, lines, reuse)
            continue
        if isinstance(node, ast.ClassDef):
            shell = ast.ClassDef(
                name=node.name,
                bases=node.bases,
                keywords=node.keywords,
                body=_hollow(node.body),
                decorator_list=node.decorator_list,
            )
            prints[name] = _print(shell)
            _walk(node.body, name + ".", out, lines, reuse)
        else:
            prints[name] = _print(node)


def _hollow(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` with each def reduced to its name (its own unit holds the rest).

    The names stay: adding, removing or renaming a def changes the scope around it.
    """
    return [_name_only(n) for n in body]


def _name_only(node: ast.stmt) -> ast.stmt:
    if isinstance(node, Defs):
        return ast.Expr(ast.Constant(f"def {node.name}"))
    return node


def _print(node: ast.AST | list[ast.stmt]) -> str:
    if isinstance(node, list):
        text = "\n".join(ast.dump(n) for n in node)
    else:
        text = ast.dump(node)
    return _hash(text)


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def changed(before: FileUnits, after: FileUnits) -> set[str]:
    """Units whose fingerprint differs, appeared or went away."""
    names = set(before.prints) | set(after.prints)
    return {n for n in names if before.prints.get(n) != after.prints.get(n)}


def scope_of(qualname: str) -> str:
    """The unit around ``qualname``: its class, else MODULE."""
    return qualname.rpartition(".")[0] or MODULE

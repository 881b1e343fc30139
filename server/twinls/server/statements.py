"""Server: a file's executable statements, the lines line coverage counts (as coverage.py does).

Live runs record the lines each test ran (``run/trace.py``); ``twinls.coverage``
needs the other half, the lines that could have run. They are found the way
coverage.py finds them, so the two agree on a file (a test compares them):

- the lines the compiled code's line tables name (``co_lines`` of every code
  object: what the interpreter reports a line event for), never running it;
- a statement spanning several lines counts once, at its first line (its
  logical line, from ``tokenize``), and a line run inside it counts for it;
- docstrings do not count, nor lines excluded by ``# pragma: no cover`` (a
  compound statement's exclusion takes its whole body).

Pure and in memory: the text comes from the overlay, nothing is imported.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import CodeType

#: coverage.py's default exclusion.
NO_COVER = re.compile(r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)")


@dataclass(frozen=True)
class Statements:
    """A file's executable statements (1-based first lines) and each line's statement."""

    lines: frozenset[int]
    first: dict[int, int]  # a line inside a multi-line statement -> its first line

    def ran(self, executed: Iterable[int]) -> set[int]:
        """The statements these executed lines (1-based) belong to."""
        return {s for n in executed if (s := self.first.get(n, n)) in self.lines}


def statements(text: str, path: str = "<file>") -> Statements | None:
    """The executable statements of ``text``; None if it does not parse."""
    try:
        tree = ast.parse(text, path)
        code = compile(tree, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    first, blocks = _logical_lines(text)
    raw = {first.get(n, n) for n in _code_lines(code)}
    ignored = _docstrings(tree) | _excluded(text, tree, first, blocks)
    return Statements(frozenset(raw - ignored), first)


def _code_lines(code: CodeType) -> Iterator[int]:
    """Every line the line tables of ``code`` and its nested code objects name."""
    for _, _, line in code.co_lines():
        if line:
            yield line
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_lines(const)


def _logical_lines(text: str) -> tuple[dict[int, int], set[int]]:
    """Each physical line of a multi-line logical line -> the logical line's first, and the
    first lines of logical lines that open a block (end with ``:``)."""
    first: dict[int, int] = {}
    blocks: set[int] = set()
    start: int | None = None
    last = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if start is not None:
                    for n in range(start + 1, tok.end[0] + 1):
                        first[n] = start
                    if last == ":":
                        blocks.add(start)
                start = None
            elif tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                if start is None:
                    start = tok.start[0]
                last = tok.string
    except (tokenize.TokenError, SyntaxError):
        pass
    return first, blocks


def _docstrings(tree: ast.AST) -> set[int]:
    """Lines of module, class and function docstrings."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                doc = body[0]
                out.update(range(doc.lineno, (doc.end_lineno or doc.lineno) + 1))
    return out


def _excluded(text: str, tree: ast.AST, first: dict[int, int], blocks: set[int]) -> set[int]:
    """Lines ``# pragma: no cover`` excludes: its statement; the block under a line that
    opens one (by indentation, as coverage.py does); a decorator's whole definition."""
    lines = text.splitlines()
    marked = {first.get(n, n) for n, line in enumerate(lines, 1) if NO_COVER.search(line)}
    if not marked:
        return set()
    out = set(marked)
    for m in sorted(marked):
        if m not in blocks:
            continue
        indent = _indent(lines[m - 1])
        n = m + 1
        while n <= len(lines) and first.get(n) == m:
            n += 1  # the rest of the block's own (multi-line) header
        while n <= len(lines):
            line = lines[n - 1]
            if line.strip() and not line.lstrip().startswith("#") and _indent(line) <= indent:
                if first.get(n, n) == n:
                    break
            out.add(n)
            n += 1
    for node in ast.walk(tree):
        decorators = getattr(node, "decorator_list", None)
        if decorators and any(d.lineno in marked for d in decorators):
            end = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
            out.update(range(min(d.lineno for d in decorators), end + 1))
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())

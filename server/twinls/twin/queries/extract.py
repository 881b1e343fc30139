"""Twin: one file's index entry from its text (definitions, identifiers, imports), by ``ast``.

Why ``ast`` and not parso: it is several times faster, and the index reads every
file of the workspace. Columns here are code points (``ast`` counts UTF-8 bytes;
they are converted at once), lines are 0-based, as the LSP counts them.
"""

from __future__ import annotations

import ast
import functools
import gc
import keyword
import re
from dataclasses import dataclass
from typing import NamedTuple

from ...shared.textbuf import split_lines

#: Identifiers as Python spells them (letters or "_" first, Unicode included).
IDENT = re.compile(r"[^\W\d]\w*")
#: ... standing alone (not the tail of a number, ``1e5``, or of a longer word).
_WHOLE_IDENT = re.compile(r"(?<!\w)[^\W\d]\w*")
_DEF_HEAD = re.compile(r"(?:async\s+)?(?:def|class)\s+")


def parse(text: str) -> ast.Module:
    """``ast.parse`` with the cycle collector paused: a tree is thousands of acyclic nodes
    (freed by their counts), and each collection their allocation sets off walks them
    again, which made the parse 2-3 times slower in a twin (issue 10: the first result)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(text)
    finally:
        if enabled:
            gc.enable()


@functools.lru_cache(maxsize=256)
def word(name: str) -> re.Pattern[str]:
    """``name`` as a whole identifier (not part of a longer one) in a text."""
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def name_at_column(text: str, col: int) -> tuple[str, int] | None:
    """(identifier, its start column) on a line ``text`` that code-point column ``col`` is
    in or, if none, just after (as jedi's ``name_at``); keywords are no names."""
    spans = [
        m
        for m in _WHOLE_IDENT.finditer(text, max(0, col - 256), col + 256)
        if m.start() <= col <= m.end() and not keyword.iskeyword(m.group())
    ]
    inside = [m for m in spans if col < m.end()] or spans
    return (inside[0].group(), inside[0].start()) if inside else None


def def_name_col(text: str, col: int, name: str) -> int | None:
    """Where a def's or class's ``name`` starts on its line ``text`` (ast gives the
    column of ``def``/``class``, ``col``); None if it is not right behind it."""
    head = _DEF_HEAD.match(text, col)
    return head.end() if head and text.startswith(name, head.end()) else None


class Def(NamedTuple):
    """A function, method or class; ``bases`` are dotted names with import aliases expanded."""

    name: str
    kind: str  # "class" | "function" | "method"
    line: int  # of the name
    col: int
    start_line: int  # of the whole statement, decorators included
    start_col: int
    end_line: int
    end_col: int
    container: str  # dotted name of the enclosing class/function; "" at module level
    bases: tuple[str, ...] = ()

    @property
    def qualname(self) -> str:
        return f"{self.container}.{self.name}" if self.container else self.name


def ident_text(text: str) -> str:
    """The distinct identifiers of ``text``, sorted, each between newlines.

    One string, not a set: an index holds every file's, and the stdlib's 1,789 sets
    of str took 63 MiB per twin where their joined texts take a tenth (issue 10's
    memory); a membership test is a substring search of a few KiB (:meth:`FileEntry.has`).
    """
    names = sorted(set(IDENT.findall(text)))
    return "\n" + "\n".join(names) + "\n" if names else "\n"


@dataclass(frozen=True, slots=True)
class FileEntry:
    defs: tuple[Def, ...]
    idents: str  # ident_text's form
    imports: dict[str, str]  # local name -> dotted target
    ascii: bool  # code-point columns equal every encoding's columns
    size: int
    ok: bool  # False: the text does not parse; defs and imports are the last good ones

    def has(self, name: str) -> bool:
        """Does the text hold identifier ``name``? (a name of two lines is none)"""
        return f"\n{name}\n" in self.idents and "\n" not in name


#: Bumped when :class:`FileEntry` or :func:`extract` changes what an entry records: the
#: server's cache keeps rows (:func:`to_row`) across sessions.
ENTRY_VERSION = 2


def to_row(entry: FileEntry) -> list:
    """The entry as plain data (msgpack), for the server's cache."""
    return [
        [list(d[:9]) + [list(d.bases)] for d in entry.defs],
        entry.idents,
        entry.imports,
        entry.ascii,
        entry.size,
        entry.ok,
    ]


def from_row(row: list) -> FileEntry:
    """:func:`to_row` back (raises on a row of another shape)."""
    defs, idents, imports, ascii_text, size, ok = row
    return FileEntry(
        tuple(Def(*d[:9], tuple(d[9])) for d in defs),
        str(idents),
        dict(imports),
        bool(ascii_text),
        int(size),
        bool(ok),
    )


def extract(text: str, previous: FileEntry | None = None) -> FileEntry:
    """Index one text. A syntax error keeps ``previous``'s definitions (the last good ones)."""
    idents = ident_text(text)
    try:
        tree = parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        defs, imports = (previous.defs, previous.imports) if previous else ((), {})
        return FileEntry(defs, idents, imports, text.isascii(), len(text), False)
    lines = text.split("\n") if "\r" not in text else split_lines(text)
    walker = _Walker(lines, text.isascii())
    walker.body(tree.body, "", False)
    return FileEntry(tuple(walker.defs), idents, walker.imports, text.isascii(), len(text), True)


class _Walker:
    """Visits statements only (definitions live in statements), tracking the container."""

    def __init__(self, lines: list[str], ascii_text: bool) -> None:
        self.lines = lines
        self.ascii = ascii_text
        self.defs: list[Def] = []
        self.imports: dict[str, str] = {}

    def col(self, lineno: int, byte_col: int) -> int:
        return codepoint_col(self.lines, self.ascii, lineno, byte_col)

    def body(self, stmts: list[ast.stmt], container: str, in_class: bool) -> None:
        for node in stmts:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.definition(node, container, in_class)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".", 1)[0]
                        self.imports[head] = head
            elif isinstance(node, ast.ImportFrom):
                module = "." * (node.level or 0) + (node.module or "")
                for alias in node.names:
                    if alias.name != "*":
                        sep = "" if module.endswith(".") or not module else "."
                        self.imports[alias.asname or alias.name] = f"{module}{sep}{alias.name}"
            else:
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(node, field, None)
                    if inner:
                        self.body(inner, container, in_class)
                for handler in getattr(node, "handlers", ()):
                    self.body(handler.body, container, in_class)
                for case in getattr(node, "cases", ()):
                    self.body(case.body, container, in_class)

    def definition(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, container: str, in_class
    ) -> None:
        is_class = isinstance(node, ast.ClassDef)
        kind = "class" if is_class else ("method" if in_class else "function")
        line0 = node.lineno - 1
        col = self.col(node.lineno, node.col_offset)
        text = self.lines[line0] if line0 < len(self.lines) else ""
        name_col = def_name_col(text, col, node.name)
        if name_col is None:
            name_col = col
        start_line, start_col = line0, col
        if node.decorator_list:
            first = min(node.decorator_list, key=lambda d: (d.lineno, d.col_offset))
            start_line = first.lineno - 1
            start_col = max(0, self.col(first.lineno, first.col_offset) - 1)  # the "@"
        end_lineno = node.end_lineno or node.lineno
        end_col = self.col(end_lineno, node.end_col_offset or 0)
        bases = tuple(b for b in map(self.dotted, node.bases) if b) if is_class else ()
        self.defs.append(
            Def(
                node.name,
                kind,
                line0,
                name_col,
                start_line,
                start_col,
                end_lineno - 1,
                end_col,
                container,
                bases,
            )
        )
        inner = f"{container}.{node.name}" if container else node.name
        self.body(node.body, inner, is_class)

    def dotted(self, expr: ast.expr) -> str | None:
        """``a.b.C`` / ``C[T]`` -> a dotted name, its head expanded through the imports."""
        parts: list[str] = []
        while True:
            if isinstance(expr, ast.Subscript):
                expr = expr.value
            elif isinstance(expr, ast.Attribute):
                parts.append(expr.attr)
                expr = expr.value
            elif isinstance(expr, ast.Name):
                parts.append(expr.id)
                break
            else:
                return None
        parts.reverse()
        parts[0] = self.imports.get(parts[0], parts[0])
        return ".".join(parts)


def codepoint_col(lines: list[str], ascii_text: bool, lineno: int, byte_col: int) -> int:
    """ast's UTF-8 byte column -> code points (``lines``: the text's, unused if it is ASCII)."""
    if ascii_text:
        return byte_col
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    if line.isascii():
        return byte_col
    return len(line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "ignore"))


def tail(dotted: str) -> str:
    """The last component of a dotted name (what a base class is called where defined)."""
    return dotted.rpartition(".")[2]

"""Twin: the ``ast`` binding lane of references, the uses of a name certain from syntax alone.

Why: a cold references search spends its time parsing candidate files with
parso and resolving every occurrence of the name with jedi. Most uses need
neither: ``copyfileobj(...)`` after ``from shutil import copyfileobj``, or
``shutil.copyfileobj`` after ``import shutil``, mean what the import says. The
lane reads a candidate file with ``ast`` (several times faster than parso) on
the overlay's text and decides, before jedi sees the file, the uses whose
meaning the syntax fixes:

- a name bound exactly once at module level (def, class, import, assignment),
  used after that statement or inside a function (which sees the module's
  binding wherever it stands), with no binding of it in an enclosing scope;
- ``m.a.f``: a module attribute chain through ``import m`` / ``import a.b`` /
  ``import a.b as p``, to the module's file on the twin's ``sys.path`` (as the
  overlay has it: unsaved new files count) and the name's one binding there;
- ``from m import f [as g]`` and re-exports through a package's ``__init__``;
- ``if`` branches on ``sys.platform`` / ``os.name`` (and ``os.py``'s
  ``name in _names``, ``_names = sys.builtin_module_names``) pruned as this
  interpreter evaluates them, so ``os.path`` is ``posixpath`` on Linux;
- methods of builtin literals (``"".join``), and of a name whose one
  module-level binding assigns one (``EMPTY = ''`` ... ``EMPTY.join``): not the
  target unless it is a builtin.

A decided use is the set of keys jedi's goto passes through (the use's own
import, each re-export, the definition: :data:`jedi_world.Key`), compared with
the target's keys exactly like jedi's answer. Everything else is deferred to
jedi, one use at a time: attributes of inferred objects, star imports of Python
modules, names bound more than once, ``global``/``nonlocal``/``del``/augmented
assignment, f-strings, a ``.pyi`` beside a module, class bodies and
comprehensions that bind the name, definitions, keywords, parameters. A file
whose every occurrence is decided gets no parso parse and no jedi state.

Switches, read once per twin: ``TWINLS_BINDINGS=0`` turns the lane off;
``TWINLS_CHECK_BINDINGS=1`` makes jedi resolve every decided use as well and
count (and log) any disagreement (``twinls.status``: ``twins[].jedi.lane_*``).
"""

from __future__ import annotations

import ast
import bisect
import functools
import importlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from unicodedata import normalize

from ...shared.textbuf import split_lines
from .extract import codepoint_col, def_name_col, parse, word
from .jedi_compat import platform_value, typeshed_stub

#: A definition's identity across processes: (file or module, line (1-based), column).
Key = tuple[str, int, int]
Keys = frozenset[Key]
Pos = tuple[int, int]  # (1-based line, code-point column), as parso's start_pos
#: How deep a chain of re-exports and module attributes is followed before deferring.
MAX_DEPTH = 24
_LITERALS = (
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.JoinedStr,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (*_FUNCS, ast.ClassDef, *_COMPS)


@functools.cache
def switches() -> tuple[bool, bool]:
    """(lane on, check mode), read once in the twin."""
    on = os.environ.get("TWINLS_BINDINGS", "1") != "0"
    return on, on and os.environ.get("TWINLS_CHECK_BINDINGS") == "1"


class Files(Protocol):
    """What the lane reads: the overlay (:class:`shared.overlay.Overlay`)."""

    def read_text(self, path: str) -> str | None: ...
    def listdir(self, path: str) -> list[str]: ...
    def is_file(self, path: str) -> bool: ...


@dataclass(frozen=True)
class Binding:
    """One module-level binding of a name."""

    kind: str  # "def" (def, class, assignment), "from", "module" (import), "unsure"
    line: int  # of the bound name, 1-based
    col: int  # code points
    end: Pos  # the end of its statement: module-level uses after it see it
    module: str = ""  # "module": the dotted module; "from": the from-module, dots for its level
    attr: str = ""  # "from": the name imported
    literal: bool = False  # "def": ``N = <a builtin literal>`` (``EMPTY = ''``): a str, a list...


@dataclass
class Summary:
    """What the lane needs of one module: its module-level bindings (live branches only)."""

    path: str
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)  # modules it star-imports (dots: level)
    star_names: set[str] | None = None  # the names those bind; None: unknown (or not yet known)
    public: list[str] | None = None  # ``__all__``, if a literal list of strings bound once
    declared: set[str] = field(default_factory=set)  # ``global`` or ``nonlocal`` somewhere
    stub: bool = False  # a ``.pyi`` beside it: jedi follows the stub
    builtin_names: set[str] = field(default_factory=set)  # ``N = sys.builtin_module_names``


@dataclass
class Counts:
    """``twinls.status`` → ``twins[].jedi``: what the lane did in this twin."""

    decided: int = 0  # uses decided without jedi
    deferred: int = 0  # uses of files the lane read that went to jedi
    files: int = 0  # files decided whole: no parso, no jedi
    disagreed: int = 0  # check mode: the lane and jedi differ on a use
    over_jedi: int = 0  # check mode: ... of which the lane found the target where jedi did not


class _Cols:
    """ast's (line, UTF-8 byte column) -> (line, code points), as parso counts."""

    def __init__(self, text: str) -> None:
        self.ascii = text.isascii()
        self.lines = [] if self.ascii else split_lines(text)

    def pos(self, lineno: int, byte_col: int) -> Pos:
        return lineno, codepoint_col(self.lines, self.ascii, lineno, byte_col)


class Lane:
    """The lane of one twin over one overlay generation (summaries are dropped on any edit)."""

    def __init__(self, files: Files, sys_path: list[str], generation: Any = None) -> None:
        self.files = files
        self.sys_path = sys_path
        self._stubs: dict[str, Summary | None] = {}
        self.generation = generation
        self._summaries: dict[str, Summary | None] = {}
        self._dirs: dict[str, frozenset[str]] = {}
        self._modules: dict[tuple[str, str], str | None] = {}

    # -- the question ----------------------------------------------------------------

    def decide(self, path: str, name: str, target: set[Key]) -> tuple[dict[Pos, Keys], bool]:
        """({position of a decided use: the keys it means}, every occurrence decided).

        A position absent from the map is deferred to jedi. A file ``ast`` cannot
        parse is deferred whole. A file that edits ``sys.path`` is read like any
        other: jedi appends the folders it adds after the path it searches
        (``Importer._sys_path_with_modifications``), so a module the lane finds on
        the twin's path is the one jedi finds first; one it does not find (it may
        be in an added folder) is unsure, and its uses are deferred.
        """
        use = self._use(path, name, target)
        return ({}, False) if use is None else (use.decided, not use.deferred)

    def decide_binding(
        self, path: str, name: str, target: set[Key]
    ) -> tuple[dict[Pos, Keys], set[Pos]]:
        """``decide``'s decided occurrences, and those of them that bind the name (a def's
        name, a ``from`` import's): a references answer without the declaration leaves out
        what jedi's target holds, and that holds the imports a use passes through."""
        use = self._use(path, name, target)
        return ({}, set()) if use is None else (use.decided, use.binds_at)

    def _use(self, path: str, name: str, target: set[Key]) -> _UseFile | None:
        text = self.files.read_text(path)
        if text is None:
            return None
        try:
            tree = parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        summary = self._summary(path, text, tree)
        use = _UseFile(self, summary, name, target, _Cols(text), split_lines(text))
        try:
            use.visit(tree, (), False)
        except RecursionError:
            return None
        return use

    # -- modules -----------------------------------------------------------------------

    def summary(self, path: str) -> Summary | None:
        """The module-level bindings of ``path`` as the overlay has it; None if unreadable."""
        if path not in self._summaries:
            text = self.files.read_text(path)
            try:
                tree = parse(text) if text is not None else None
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None
            self._summaries[path] = (
                None if tree is None or text is None else self._summary(path, text, tree)
            )
        return self._summaries[path]

    def _summary(self, path: str, text: str, tree: ast.Module) -> Summary:
        known = self._summaries.get(path)
        if known is not None:
            return known
        summary = Summary(path)
        summary.stub = self.is_file(path[:-3] + ".pyi") if path.endswith(".py") else True
        lines = split_lines(text)
        _Collector(summary, _Cols(text), lines).body(tree.body)
        keywords = sorted({*line_hits(lines, "global"), *line_hits(lines, "nonlocal")})
        for node in pruned_walk(tree, keywords):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                summary.declared.update(node.names)
        self._summaries[path] = summary
        return summary

    def starred(self, summary: Summary, depth: int = 0) -> set[str] | None:
        """The names ``summary``'s star imports bind (as Python's ``import *``); None: unknown."""
        if summary.star_names is not None or not summary.stars:
            return summary.star_names if summary.stars else set()
        if depth > MAX_DEPTH:
            return None
        names: set[str] = set()
        for module in summary.stars:
            found = _builtin_star(module) if module in sys.builtin_module_names else None
            if found is None:
                source = self.find_module(module, summary.path)
                other = None if source is None else self.summary(source)
                found = None if other is None else self.exported(other, depth + 1)
            if found is None:
                return None
            names |= found
        summary.star_names = names
        return names

    def exported(self, summary: Summary, depth: int) -> set[str] | None:
        """What ``from <summary's module> import *`` binds; None if unsure."""
        if summary.public is not None and len(summary.bindings.get("__all__", ())) == 1:
            return set(summary.public)
        starred = self.starred(summary, depth)
        if starred is None or "__all__" in summary.bindings:
            return None
        return {n for n in (*summary.bindings, *starred) if not n.startswith("_")}

    def typeshed(self, module: str) -> Summary | None:
        """The typeshed stub jedi reads instead of ``module`` (a file), if there is one."""
        if module not in self._stubs:
            dotted = self.dotted(module)
            stub = typeshed_stub(dotted) if dotted else None
            self._stubs[module] = None if stub is None else self.summary(stub)
            if stub is not None and self._stubs[module] is None:
                self._stubs[module] = Summary(stub, stub=True)  # unreadable: nothing is certain
        return self._stubs[module]

    def stub_keys(self, stub: Summary, attr: str, depth: int = 0) -> Keys | None:
        """The keys jedi's goto passes through for ``attr`` of a typeshed stub.

        Its defs there (overloads, version branches: the target holds all or
        none), or one ``from`` import followed to the stub it names; else None.
        """
        found = stub.bindings.get(attr, [])
        if not found or depth > MAX_DEPTH:
            return None
        if all(b.kind == "def" for b in found):
            return frozenset((stub.path, b.line, b.col) for b in found)
        if len(found) != 1 or found[0].kind != "from":
            return None
        source = self._stub_module(found[0].module, stub.path)
        summary = None if source is None else self.summary(source)
        inner = None if summary is None else self.stub_keys(summary, found[0].attr, depth + 1)
        return None if inner is None else inner | {(stub.path, found[0].line, found[0].col)}

    def _stub_module(self, dotted: str, importer: str) -> str | None:
        level = len(dotted) - len(dotted.lstrip("."))
        if not level:
            return typeshed_stub(dotted)
        folder = os.path.dirname(importer)
        for _ in range(level - 1):
            folder = os.path.dirname(folder)
        parts = dotted[level:].split(".") if dotted[level:] else []
        base = os.path.join(folder, *parts)
        for path in (base + ".pyi", os.path.join(base, "__init__.pyi")):
            if parts and self.files.is_file(path):
                return path
        return None

    def dotted(self, module: str) -> str | None:
        """``module``'s import name, from the first path entry it sits under."""
        for entry in self.sys_path:
            prefix = entry.rstrip(os.sep) + os.sep
            if module.startswith(prefix):
                rel = module[len(prefix) : -3].split(os.sep)
                if rel[-1] == "__init__":
                    rel.pop()
                return ".".join(rel) if rel and all(p.isidentifier() for p in rel) else None
        return None

    def names_in(self, folder: str) -> frozenset[str]:
        if folder not in self._dirs:
            self._dirs[folder] = frozenset(self.files.listdir(folder))
        return self._dirs[folder]

    def is_file(self, path: str) -> bool:
        folder, base = os.path.split(path)
        return base in self.names_in(folder) and self.files.is_file(path)

    def find_module(self, dotted: str, importer: str) -> str | None:
        """The file of module ``dotted`` (leading dots: relative to ``importer``); None if unsure.

        Unsure: a builtin or compiled module, a namespace package, a stub, a
        module not on the path (jedi also looks in the importer's parent folders).
        """
        key = (dotted, os.path.dirname(importer) if dotted.startswith(".") else "")
        if key not in self._modules:
            self._modules[key] = self._find(dotted, importer)
        return self._modules[key]

    def _find(self, dotted: str, importer: str) -> str | None:
        level = len(dotted) - len(dotted.lstrip("."))
        parts = [p for p in dotted[level:].split(".") if p]
        if level:
            folder = os.path.dirname(importer)
            for _ in range(level - 1):
                folder = os.path.dirname(folder)
            return self._in_folder(folder, parts) if parts else _init(self, folder)
        if not parts or parts[0] in sys.builtin_module_names:
            return None
        for entry in self.sys_path:
            found = self._in_folder(entry, parts)
            if found != "":
                return found
        return None

    def _in_folder(self, folder: str, parts: list[str]) -> str | None:
        """The module ``parts`` under ``folder``; "" if not there at all, None if unsure."""
        for i, part in enumerate(parts):
            names = self.names_in(folder)
            others = [n for n in names if n.startswith(part + ".") and n != part + ".py"]
            if part in names and self.is_file(os.path.join(folder, part, "__init__.py")):
                if others:
                    return None  # a package and a module of one name
                folder = os.path.join(folder, part)
                if i == len(parts) - 1:
                    return _init(self, folder)
                continue
            if part in names or others:
                return None  # a namespace package, a stub, a compiled module
            if part + ".py" in names and i == len(parts) - 1:
                path = os.path.join(folder, part + ".py")
                return path if self.files.is_file(path) else None
            return "" if i == 0 else None
        return None

    # -- what a binding means -----------------------------------------------------------

    def meaning(self, summary: Summary, binding: Binding, depth: int = 0) -> tuple[str, Any] | None:
        """("keys", the keys a use of ``binding`` passes through) or ("module", its file)."""
        if depth > MAX_DEPTH:
            return None
        own: Keys = frozenset({(summary.path, binding.line, binding.col)})
        if binding.kind == "def":
            return "keys", own
        if binding.kind == "module":
            found = self.find_module(binding.module, summary.path)
            return None if found is None else ("module", found)
        if binding.kind == "from":
            source = self.find_module(binding.module, summary.path)
            if source is None:
                return None
            member = self.member(source, binding.attr, depth + 1)
            if member is None or member[0] == "module":
                return member
            return "keys", own | member[1]
        return None

    def member(self, module: str, attr: str, depth: int = 0) -> tuple[str, Any] | None:
        """What ``module.attr`` means: its one binding there, or a submodule of a package."""
        summary = self.summary(module)
        if summary is None or summary.stub or attr in summary.declared:
            return None
        starred = self.starred(summary)
        if starred is None or attr in starred:
            return None
        found = summary.bindings.get(attr, [])
        if len(found) == 1 or (found and _same_module(found)):
            meant = self.meaning(summary, found[0], depth + 1)
            if meant is None or meant[0] == "module":
                return meant  # a module: its own stub is asked in turn (``os.path.join``)
            stub = self.typeshed(module)  # (not before: ``os``'s is 59 KB to parse for nothing)
            if stub is None:
                return meant
            in_stub = self.stub_keys(stub, attr, depth + 1)  # what jedi reads instead
            return None if in_stub is None else ("keys", in_stub)
        if found or os.path.basename(module) != "__init__.py":
            return None
        sub = self._in_folder(os.path.dirname(module), [attr])
        return ("module", sub) if sub else None


def _same_module(found: list[Binding]) -> bool:
    """``import os`` and ``import os.path``: two bindings of ``os``, one meaning."""
    return all(b.kind == "module" and b.module == found[0].module for b in found)


def _init(lane: Lane, folder: str) -> str | None:
    init = os.path.join(folder, "__init__.py")
    return init if lane.is_file(init) else None


def _builtin_star(module: str) -> set[str] | None:
    """The names ``from <builtin module> import *`` binds in this interpreter; None if unknown."""
    if module not in sys.builtin_module_names:
        return None
    try:
        value = importlib.import_module(module)
    except ImportError:
        return None
    public = getattr(value, "__all__", None)
    names = public if public is not None else [n for n in dir(value) if not n.startswith("_")]
    return set(names)


class _Collector:
    """Module-level bindings of every name, walking compound statements, pruning platform ifs."""

    def __init__(self, summary: Summary, cols: _Cols, lines: list[str]) -> None:
        self.summary = summary
        self.cols = cols
        self.lines = lines

    def add(self, name: str, binding: Binding) -> None:
        self.summary.bindings.setdefault(name, []).append(binding)

    def unsure(self, name: str, node: ast.AST) -> None:
        self.add(name, Binding("unsure", node.lineno, 0, (node.lineno, 0)))  # type: ignore[attr-defined]

    def body(self, stmts: list[ast.stmt]) -> None:
        for node in stmts:
            self.statement(node)

    def statement(self, node: ast.stmt) -> None:
        end = self.cols.pos(node.end_lineno or node.lineno, node.end_col_offset or 0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pos = def_name_pos(node, self.cols, self.lines)
            if pos is None:
                self.unsure(node.name, node)
            else:
                self.add(node.name, Binding("def", *pos, end))
            for part in (*node.decorator_list, *_def_outer_exprs(node)):
                self.expressions(part)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    pos = _asname_pos(alias, self.cols)
                    if pos is None:
                        self.unsure(alias.asname, node)
                    else:
                        self.add(alias.asname, Binding("module", *pos, end, alias.name))
                else:
                    head = alias.name.split(".", 1)[0]
                    line, col = self.cols.pos(node.lineno, node.col_offset)
                    self.add(head, Binding("module", line, col, end, head))
            return
        if isinstance(node, ast.ImportFrom):
            module = "." * (node.level or 0) + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    self.summary.stars.append(module)
                    continue
                bound = alias.asname or alias.name
                pos = (_asname_pos if alias.asname else _alias_pos)(alias, self.cols)
                if pos is None:
                    self.unsure(bound, node)
                else:
                    self.add(bound, Binding("from", *pos, end, module, alias.name))
            return
        if isinstance(node, ast.If):
            taken = self.branch(node.test)
            self.expressions(node.test)
            if taken is not False:
                self.body(node.body)
            if taken is not True:
                self.body(node.orelse)
            return
        if isinstance(node, ast.Assign) and _is_name(node.targets, "__all__"):
            values = getattr(node.value, "elts", None)
            if isinstance(node.value, (ast.List, ast.Tuple)) and all(
                isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values or ()
            ):
                self.summary.public = [v.value for v in values]  # type: ignore[union-attr]
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute):
            value = node.value
            if (
                isinstance(value.value, ast.Name)
                and (value.value.id, value.attr) == ("sys", "builtin_module_names")
                and all(isinstance(t, ast.Name) for t in node.targets)
            ):
                self.summary.builtin_names.update(t.id for t in node.targets)  # type: ignore[attr-defined]
        if isinstance(node, (ast.AugAssign, ast.Delete)) or (
            isinstance(node, ast.AnnAssign) and node.value is None
        ):
            targets = node.targets if isinstance(node, ast.Delete) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        self.unsure(sub.id, sub)
            self.expressions(node)
            return
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            literal = isinstance(node, ast.Assign) and isinstance(node.value, _LITERALS)
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                self.target(target, end, literal)
            self.expressions(node.value)
            return
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.target(node.target, end)
            self.expressions(node.iter)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expressions(item.context_expr)
                if item.optional_vars is not None:
                    self.target(item.optional_vars, end)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    for name in _pattern_names(sub):
                        self.unsure(name, sub)
            self.expressions(node.subject)
        elif not hasattr(node, "body"):
            self.expressions(node)
        elif isinstance(node, ast.While):
            self.expressions(node.test)
        for part in ("body", "orelse", "finalbody"):
            self.body(getattr(node, part, None) or [])
        for handler in getattr(node, "handlers", ()):
            if handler.name:
                self.unsure(handler.name, handler)  # unbound again when the handler ends
            self.body(handler.body)
        for case in getattr(node, "cases", ()):
            self.body(case.body)

    def target(self, node: ast.expr, end: Pos, literal: bool = False) -> None:
        """``literal``: the statement assigns a builtin literal (not an annotation:
        jedi reads ``N: T = ''`` as a ``T``), true of a name it binds directly."""
        if isinstance(node, ast.Name):
            pos = self.cols.pos(node.lineno, node.col_offset)
            self.add(node.id, Binding("def", *pos, end, literal=literal))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self.target(elt, end)
        elif isinstance(node, ast.Starred):
            self.target(node.value, end)
        else:
            self.expressions(node)

    def expressions(self, node: ast.AST | None) -> None:
        """Walrus targets in module-level expressions (comprehensions' bind the module's)."""
        if node is None:
            return
        for sub in ast.walk(node):
            if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name):
                self.unsure(sub.target.id, sub)

    def branch(self, test: ast.expr) -> bool | None:
        """Does this interpreter take the ``if``? None unless the test is about the platform."""
        if self.summary.builtin_names:
            test = _Substitute(self.summary.builtin_names).visit(_copy(test))
        return platform_value(test)


def is_builtin_target(target: set[Key]) -> bool:
    """Whether the target is a builtin's (then a literal's method may be it: ``"".join``)."""
    return any(
        k[0].startswith("<builtins>") or os.path.basename(k[0]) == "builtins.pyi" for k in target
    )


def _is_name(targets: list[ast.expr], name: str) -> bool:
    return len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == name


def _copy(node: ast.expr) -> ast.expr:
    return ast.parse(ast.unparse(node), mode="eval").body


class _Substitute(ast.NodeTransformer):
    """``N`` (bound to ``sys.builtin_module_names``) -> its value here, as a tuple of strings."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.names:
            return ast.Tuple([ast.Constant(n) for n in sys.builtin_module_names], ast.Load())
        return node


def _pattern_names(node: ast.AST) -> list[str]:
    if isinstance(node, (ast.MatchAs, ast.MatchStar)):
        return [node.name] if node.name else []
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    return []


def _def_outer_exprs(node: ast.AST) -> list[ast.AST]:
    """The parts of a def or class evaluated in the enclosing scope (defaults, bases)."""
    if isinstance(node, ast.ClassDef):
        return [*node.bases, *node.keywords]
    args = node.args  # type: ignore[attr-defined]
    return [*args.defaults, *(d for d in args.kw_defaults if d is not None)]


def def_name_pos(node: ast.AST, cols: _Cols, lines: list[str]) -> Pos | None:
    """Where a def's or class's name stands (ast gives the keyword's position only)."""
    line, col = cols.pos(node.lineno, node.col_offset)  # type: ignore[attr-defined]
    text = lines[line - 1] if line <= len(lines) else ""
    at = def_name_col(text, col, node.name)  # type: ignore[attr-defined]
    return (line, at) if at is not None else None


def _alias_pos(alias: ast.alias, cols: _Cols) -> Pos | None:
    if getattr(alias, "lineno", None) is None:
        return None  # before Python 3.10 an alias has no position
    return cols.pos(alias.lineno, alias.col_offset)


def _asname_pos(alias: ast.alias, cols: _Cols) -> Pos | None:
    end = getattr(alias, "end_col_offset", None)
    if end is None or alias.asname is None or alias.end_lineno is None:
        return None
    return cols.pos(alias.end_lineno, end - len(alias.asname.encode("utf-8")))


def _bound_in(scope: ast.AST, hits: list[int]) -> set[str]:
    """The names a scope (or anything in it) may bind, of those on the lines ``hits``.

    Over-inclusive, so the lane defers. (``import *`` outside a module is a
    syntax error: a scope binds nothing under a name none of its lines holds.)
    """
    names: set[str] = set()
    for node in pruned_walk(scope, hits):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node is not scope:
                names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".", 1)[0])
                if alias.name == "*":
                    names.add("*")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        else:
            names.update(_pattern_names(node))
    return names


def line_hits(lines: list[str], name: str) -> list[int]:
    """The lines (1-based, as ast counts them: ``split_lines``) that may hold ``name``.

    ast's names are NFKC-normalized: a line that is not ASCII is normalized first.
    """
    whole = word(name)
    return [
        i
        for i, text in enumerate(lines, 1)
        if (
            (name in text and whole.search(text))
            if text.isascii()
            else name in normalize("NFKC", text)
        )
    ]


def spans(node: ast.AST, hits: list[int]) -> bool:
    """Might ``node`` hold a name of the lines ``hits``? False only if none of its lines is one."""
    first = getattr(node, "lineno", None)
    if first is None:
        return True  # arguments, comprehension, withitem, match_case: no span of their own
    for decorator in getattr(node, "decorator_list", ()):
        first = min(first, decorator.lineno)  # a def's span starts at ``def``
    at = bisect.bisect_left(hits, first)
    return at < len(hits) and hits[at] <= (node.end_lineno or first)  # type: ignore[attr-defined]


def pruned_walk(root: ast.AST, hits: list[int]) -> Iterator[ast.AST]:
    """``root`` and the nodes under it that may hold a name of the lines ``hits``.

    Most of a file holds none: ``ast.walk`` of every node cost the lane more than
    ``ast.parse``. An f-string is walked whole (before 3.12 what is inside it
    may be misplaced).
    """
    todo = [root]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.JoinedStr):
            inside = ast.walk(node)
            next(inside)
            yield from inside
            continue
        todo.extend(child for child in ast.iter_child_nodes(node) if spans(child, hits))


class _UseFile:
    """One candidate file's occurrences of ``name``: decided ones, and whether any was deferred."""

    def __init__(
        self,
        lane: Lane,
        summary: Summary,
        name: str,
        target: set[Key],
        cols: _Cols,
        lines: list[str],
    ) -> None:
        self.lane, self.summary, self.name, self.target = lane, summary, name, target
        self.cols, self.lines = cols, lines
        self.decided: dict[Pos, Keys] = {}
        self.binds_at: set[Pos] = set()  # decided positions that bind the name (def, import)
        self.deferred = 0
        self.builtin_target = is_builtin_target(target)
        self._bound: dict[tuple[int, str], bool] = {}
        self._branches = _Collector(summary, cols, lines)  # for its branch test only
        # The lines that may hold a name: a node none of whose lines does holds none.
        self._hits: dict[str, list[int]] = {name: line_hits(lines, name)}

    def hits(self, name: str) -> list[int]:
        if name not in self._hits:
            self._hits[name] = line_hits(self.lines, name)
        return self._hits[name]

    def decide(self, pos: Pos | None, keys: Keys | None) -> None:
        if pos is None or keys is None:
            self.deferred += 1
        else:
            self.decided[pos] = keys

    def visit(self, node: ast.AST, scopes: tuple[ast.AST, ...], dead: bool) -> None:
        name = self.name
        if not spans(node, self._hits[name]):
            return  # most of a file: nothing of it is asked, so nothing is walked
        if isinstance(node, ast.Name):
            if node.id == name:
                ok = isinstance(node.ctx, ast.Load) and not dead
                pos = self.cols.pos(node.lineno, node.col_offset)
                self.decide(pos, self.name_use(pos, scopes) if ok else None)
            return
        if isinstance(node, ast.Constant):
            return
        if isinstance(node, ast.JoinedStr):
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)) or any(
                isinstance(n, ast.Attribute) and n.attr == name for n in ast.walk(node)
            ):
                self.deferred += 1
            return
        if isinstance(node, ast.Attribute) and node.attr == name:
            ok = isinstance(node.ctx, ast.Load) and not dead and node.end_lineno is not None
            pos = None
            if ok:
                pos = self.cols.pos(
                    node.end_lineno,  # type: ignore[arg-type]
                    (node.end_col_offset or 0) - len(name.encode("utf-8")),
                )
            self.decide(pos, self.attribute_use(node, scopes) if ok else None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                pos = def_name_pos(node, self.cols, self.lines)
                in_target = pos is not None and (self.summary.path, *pos) in self.target
                self.decide(pos, frozenset() if in_target else None)
                if pos is not None:
                    self.binds_at.add(pos)
        elif isinstance(node, ast.ImportFrom):
            module = "." * (node.level or 0) + (node.module or "")
            if name in (node.module or "").split("."):
                self.deferred += 1
            for alias in node.names:
                if alias.name == name and not dead:
                    at = _alias_pos(alias, self.cols)
                    self.decide(at, self.imported(module))
                    if at is not None:
                        self.binds_at.add(at)
                elif name in (alias.name, alias.asname):
                    self.deferred += 1
            return
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if name in alias.name.split(".") or alias.asname == name:
                    self.deferred += 1
            return
        elif isinstance(node, ast.If) and not dead and not scopes:
            taken = self._branches.branch(node.test)
            self.visit(node.test, scopes, dead)
            for stmt in node.body:
                self.visit(stmt, scopes, taken is False)
            for stmt in node.orelse:
                self.visit(stmt, scopes, taken is True)
            return
        else:
            for value in vars(node).values():  # keywords, parameters, global, except, match
                if value == name or (isinstance(value, list) and name in value):
                    self.deferred += 1
        inner = (*scopes, node) if isinstance(node, _SCOPES) else scopes
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for part in (*node.decorator_list, *_def_outer_exprs(node)):
                self.visit(part, scopes, dead)
            outer = {id(p) for p in (*node.decorator_list, *_def_outer_exprs(node))}
            for child in ast.iter_child_nodes(node):
                if id(child) not in outer:
                    self.visit(child, inner, dead)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child, inner, dead)

    def binds(self, scope: ast.AST, name: str) -> bool:
        """May ``scope`` bind ``name``, or star-import?"""
        key = (id(scope), name)
        if key not in self._bound:
            bound = _bound_in(scope, self.hits(name))
            self._bound[key] = name in bound or "*" in bound
        return self._bound[key]

    def head(self, name: str, pos: Pos, scopes: tuple[ast.AST, ...]) -> tuple[str, Any] | None:
        """What a plain name used at ``pos`` means, through its one module-level binding."""
        in_function = False
        for scope in scopes:
            if self.binds(scope, name):
                return None
            in_function = in_function or isinstance(scope, _FUNCS)
        summary = self.summary
        starred = self.lane.starred(summary)
        if starred is None or name in starred or name in summary.declared:
            return None
        found = summary.bindings.get(name, [])
        if not found:
            if self.builtin_target:
                return None
            return "keys", frozenset()  # a builtin or nothing: not the target
        if len(found) != 1 and not _same_module(found):
            return None
        binding = found[0]
        if not in_function and pos <= binding.end:
            return None  # used before (or in) its binding statement
        return self.lane.meaning(summary, binding)

    def name_use(self, pos: Pos, scopes: tuple[ast.AST, ...]) -> Keys | None:
        meant = self.head(self.name, pos, scopes)
        return meant[1] if meant is not None and meant[0] == "keys" else None

    def attribute_use(self, node: ast.Attribute, scopes: tuple[ast.AST, ...]) -> Keys | None:
        """``m.a.name`` through modules; ``"".name`` on a builtin literal."""
        chain: list[str] = []
        base: ast.expr = node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if isinstance(base, _LITERALS) and not chain:
            return None if self.builtin_target else frozenset()
        if not isinstance(base, ast.Name):
            return None
        meant = self.head(base.id, self.cols.pos(base.lineno, base.col_offset), scopes)
        if meant is not None and not chain and self.is_literal(base.id):
            return None if self.builtin_target else frozenset()  # ``EMPTY.join``: ``''.join``
        for attr in [*reversed(chain), self.name]:
            if meant is None or meant[0] != "module":
                return None
            meant = self.lane.member(meant[1], attr)
        return meant[1] if meant is not None and meant[0] == "keys" else None

    def is_literal(self, name: str) -> bool:
        """Is ``name``'s one module-level binding an assignment of a builtin literal?"""
        found = self.summary.bindings.get(name, [])
        return len(found) == 1 and found[0].literal

    def imported(self, module: str) -> Keys | None:
        """``from module import name``: what the imported name means there."""
        source = self.lane.find_module(module, self.summary.path)
        meant = None if source is None else self.lane.member(source, self.name)
        return meant[1] if meant is not None and meant[0] == "keys" else None

"""Twin: which edits change only function bodies, so a collection zygote may stay.

Warm collection (``twin/warm_sessions.py``) replaces a file's zygote when a
module it imported changes, and the run after it collects from scratch. When
the edit changed only the bodies of functions or methods, the zygote's
imported module is still right but for those functions' code: a run forked
from it compiles the new text and swaps their ``__code__``
(``run/code_swap.py``). This module decides when that is exact, from the
text alone (``ast`` and ``compile``; nothing is executed):

- the file's units (``shared/units.py``) are the same: no def added, removed
  or renamed, the module's statements, imports and each class's own
  statements unchanged;
- each changed unit is a function whose def line is the same (name,
  arguments and defaults, decorators, return annotation) and whose docstring
  is the same (``__doc__`` is set when the def runs, not from its code);
- its code object is the one of its qualname in both texts, with the same
  free variables (a closure's cells belong to the function object: ``super()``
  added to a method is a new ``__class__`` cell) and the same kind
  (generator, coroutine).

Anything else is ``None``: the zygote is replaced, as before. Whether the
zygote ran a changed function while it collected (then what it collected may
differ) is the zygote's to say (``code_swap.Started``); the twin checks that.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from types import CodeType

from ..shared.units import FileUnits, changed, parse

#: co_flags a swap must keep: a function's kind (what calling it returns).
KIND = 0x20 | 0x80 | 0x100 | 0x200  # GENERATOR, COROUTINE, ITERABLE_COROUTINE, ASYNC_GENERATOR
Funcs = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class Parsed:
    """One text of a module: its units, its unit functions' defs, its compiled code."""

    units: FileUnits
    defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
    code: CodeType  # what the module's loader compiles (``compile``, no assert rewriting)
    codes: dict[str, list[CodeType]]  # every code object in it, by qualname


def parsed(text: str, path: str) -> Parsed | None:
    """``text`` parsed and compiled as ``path`` (None: it does not compile)."""
    if sys.version_info < (3, 11):
        return None  # code objects name their function (co_qualname) from 3.11 on
    try:
        tree = ast.parse(text, path)
        units = parse(text, path, tree)
        code = compile(tree, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    return Parsed(units, defs(tree), code, codes_by_name(code))


def body_changes(before: Parsed | None, after: Parsed | None) -> set[str] | None:
    """The functions (unit qualnames) whose bodies alone differ; None: anything else did."""
    if before is None or after is None:
        return None
    units = changed(before.units, after.units)
    for unit in units:
        a, b = before.defs.get(unit), after.defs.get(unit)
        if a is None or b is None or head(a) != head(b):
            return None
        if not same_code_shape(before.codes.get(unit, []), after.codes.get(unit, [])):
            return None
    return units


def defs(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions that are units (module level, in classes), by qualname; others left out."""
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                walk(node.body, prefix + node.name + ".")
            elif isinstance(node, Funcs):
                out[prefix + node.name] = node

    walk(tree.body, "")
    return out


def head(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """A def without its body, but with its docstring (``ast.dump``: no positions)."""
    shell = type(node)(
        name=node.name,
        args=node.args,
        body=[],
        decorator_list=node.decorator_list,
        returns=node.returns,
        type_comment=node.type_comment,
        **{k: getattr(node, k) for k in ("type_params",) if hasattr(node, k)},
    )
    return ast.dump(shell) + repr(ast.get_docstring(node, clean=False))


def codes_by_name(code: CodeType) -> dict[str, list[CodeType]]:
    """Every code object compiled from a module, by ``co_qualname`` (nested ones too)."""
    out: dict[str, list[CodeType]] = {}
    stack = [code]
    while stack:
        c = stack.pop()
        out.setdefault(c.co_qualname, []).append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, CodeType))
    return out


def same_code_shape(old: list[CodeType], new: list[CodeType]) -> bool:
    """One code object each, whose ``__code__`` may replace the other's."""
    if len(old) != 1 or len(new) != 1:
        return False
    a, b = old[0], new[0]
    return swappable(a, b)


def swappable(a: CodeType, b: CodeType) -> bool:
    """May ``b`` be a function's ``__code__`` in place of ``a`` (same cells, same kind)?"""
    return a.co_freevars == b.co_freevars and (a.co_flags & KIND) == (b.co_flags & KIND)

"""Twin: jedi's private API in one place, what the searches use beyond ``jedi.Script``.

``tests/test_jedi_compat.py`` is the canary: it fails when a jedi upgrade moves
or renames anything here.

Why a counting inference state: jedi stops inferring when one of its recursion
or execution limits is reached and returns "nothing" instead, silently, and
memoizes that. A search must know when that happened (to undo it, retry, and
say so when it still gives up), so :class:`CountingState`'s detector counts
every limit it hits and its memo can drop what one question added.
"""

from __future__ import annotations

import ast
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jedi import debug
from jedi.inference import InferenceState, flow_analysis, recursion
from jedi.inference.cache import inference_state_method_cache
from jedi.inference.imports import load_module_from_path  # noqa: F401 - re-exported
from jedi.inference.references import _find_defining_names as find_defining_names  # noqa: F401
from jedi.inference.references import _find_names as find_names  # noqa: F401
from jedi.inference.value import module as module_mod

#: jedi's limits (module globals of ``jedi.inference.recursion``), read at every execution.
LIMITS = (
    "recursion_limit",
    "total_function_execution_limit",
    "per_function_execution_limit",
    "per_function_recursion_limit",
)
_limits_lock = threading.Lock()
#: The grammar every ``InferenceState`` loads beside its environment's (``latest_grammar``).
LATEST_GRAMMAR = "3.13"


class CountingDetector(recursion.ExecutionRecursionDetector):
    """jedi's execution detector, counting the executions it refused."""

    def __init__(self, inference_state: Any) -> None:
        super().__init__(inference_state)
        self.refused = 0

    def push_execution(self, execution: Any) -> bool:
        refused = super().push_execution(execution)
        if refused:
            self.refused += 1
        return refused


#: What jedi logs (only to its debug log) when it stops inferring a node in one state,
#: after 300 inferences of it (``syntax_tree._limit_value_infers``), answering nothing.
CAPPED_MESSAGE = "In value %s there were too many inferences."
_capped = [0]  # such caps hit in this process (one thread is in jedi at a time: the gate)
_warning = debug.warning


def _counting_warning(message: str, *args: Any, **kwargs: Any) -> None:
    if message == CAPPED_MESSAGE:
        _capped[0] += 1
    _warning(message, *args, **kwargs)


debug.warning = _counting_warning  # jedi calls ``debug.warning`` through the module


class _Memo(dict):
    """One memoized function's results; new keys are journaled while a journal is open."""

    __slots__ = ("journal",)

    def __init__(self, journal: list[list[Any] | None]) -> None:
        super().__init__()
        self.journal = journal  # a one-cell box shared with the state: [list or None]

    def __setitem__(self, key: Any, value: Any) -> None:
        entries = self.journal[0]
        if entries is not None and key not in self:
            entries.append((self, key))
        super().__setitem__(key, value)


class _MemoCache(dict):
    """``InferenceState.memoize_cache``: function -> :class:`_Memo` (jedi's ``cache.py``)."""

    def __init__(self) -> None:
        super().__init__()
        self.journal: list[list[Any] | None] = [None]

    def __missing__(self, function: Any) -> _Memo:
        memo = self[function] = _Memo(self.journal)
        return memo


class CountingState(InferenceState):
    """An ``InferenceState`` whose limits count what they refuse, and whose memo can undo.

    Why undo: jedi memoizes what it inferred while a limit cut it short, so a
    later question would get the short answer from the memo. :meth:`begin`
    opens a journal of new memo entries; :meth:`rollback` drops them (the
    question that hit a limit leaves nothing behind), :meth:`commit` keeps them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memoize_cache = _MemoCache()

    def begin(self) -> None:
        self.memoize_cache.journal[0] = []
        self.reset_recursion_limitations()

    def commit(self) -> None:
        self.memoize_cache.journal[0] = None

    def rollback(self) -> None:
        entries = self.memoize_cache.journal[0] or []
        self.memoize_cache.journal[0] = None
        for memo, key in reversed(entries):
            dict.pop(memo, key, None)

    def reset_recursion_limitations(self) -> None:
        """Every limit back to zero, per name resolved: jedi's count of how often each
        node was inferred (its cap, 300, answers nothing past it, silently) included,
        so a use's answer does not depend on the uses of its file resolved before it
        (pyparsing's ``tests/test_unit.py``: 21 calls of ``parse_string`` lost after
        one heavy use, 84 silent cap hits)."""
        self.recursion_detector = recursion.RecursionDetector()
        self.execution_recursion_detector = CountingDetector(self)
        self.inferred_element_counts = {}
        self._capped_at = _capped[0]

    @property
    def refused(self) -> int:
        """Executions refused, and nodes whose inference jedi capped, since the last reset
        (0: nothing was cut short)."""
        return self.execution_recursion_detector.refused + _capped[0] - self._capped_at


@contextmanager
def raised_limits(factor: int) -> Iterator[None]:
    """jedi's limits times ``factor`` (for a retry of a name that hit them)."""
    with _limits_lock:
        saved = {name: getattr(recursion, name) for name in LIMITS}
        try:
            for name, value in saved.items():
                setattr(recursion, name, value * factor)
            yield
        finally:
            for name, value in saved.items():
                setattr(recursion, name, value)


def search_path(project: Any, environment: Any) -> list[str]:
    """The sys.path jedi imports from, before a file's own parent folders (suffixed by jedi)."""
    state = InferenceState(project, environment=environment)
    return [str(p) for p in project._get_sys_path(state, add_parent_paths=False)]


def warm() -> None:
    """Build what jedi builds from its own files on first use (before forking twins): the
    grammars an ``InferenceState`` loads, this interpreter's and :data:`LATEST_GRAMMAR`,
    and the map of typeshed's stubs."""
    import parso
    from jedi.inference.gradual import typeshed

    for version in (None, LATEST_GRAMMAR):
        try:
            parso.load_grammar(version=version)
        except Exception:  # a parso without this version: jedi will say so, not the warm-up
            pass
    typeshed._cache_stub_file_map(sys.version_info)


def typeshed_stub(dotted: str) -> str | None:
    """The typeshed stub jedi reads for module ``dotted`` (bundled with jedi), if any.

    jedi resolves a stdlib module's names in its stub, whose structure may differ
    from the source's (typeshed's ``ntpath`` imports ``commonpath`` from ``posixpath``).
    """
    from jedi.inference.gradual import typeshed

    head, *rest = dotted.split(".")
    info = typeshed._cache_stub_file_map(sys.version_info).get(head)
    if info is None:
        return None
    path: str = info.path
    for part in rest:
        if not path.endswith("__init__.pyi"):
            return None
        folder = os.path.dirname(path)
        inner = (os.path.join(folder, part + ".pyi"), os.path.join(folder, part, "__init__.pyi"))
        found = next((p for p in inner if os.path.isfile(p)), None)
        if found is None:
            return None
        path = found
    return path


def code_lines(module_value: Any) -> list[str]:
    """A tree module's lines as jedi split them (``ModuleValue.code_lines``).

    No fallback: without them every reference would re-read its line from the overlay.
    """
    return module_value.code_lines


# -- platform branches, as on the running platform (as pyright does) -------------------


def platform_test(node: Any) -> bool | None:
    """The value of an ``if`` test about the platform (``sys.platform``, ``os.name``) here.

    None when the test is anything else (jedi decides those as it always did).
    Only comparisons, ``in``, ``startswith``, ``not``/``and``/``or`` of these
    and string constants are understood: nothing is executed.
    """
    try:
        tree = ast.parse(node.get_code().strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None
    return platform_value(tree.body)


def platform_value(node: ast.AST) -> bool | None:
    """:func:`platform_test` of an ``ast`` expression (the binding lane's ``if`` tests)."""
    value = _platform_value(node)
    return value if isinstance(value, bool) else None


_PLATFORM = {("sys", "platform"): sys.platform, ("os", "name"): os.name}
_UNKNOWN = object()


def _platform_value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_platform_value(e) for e in node.elts]
        return _UNKNOWN if any(not isinstance(i, str) for i in items) else tuple(items)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return _PLATFORM.get((node.value.id, node.attr), _UNKNOWN)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _platform_value(node.operand)
        return not inner if isinstance(inner, bool) else _UNKNOWN
    if isinstance(node, ast.BoolOp):
        values = [_platform_value(v) for v in node.values]
        if any(not isinstance(v, bool) for v in values):
            return _UNKNOWN
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _platform_value(node.left), _platform_value(node.comparators[0])
        if not isinstance(left, (str, tuple)) or not isinstance(right, (str, tuple)):
            return _UNKNOWN
        op = node.ops[0]
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(left, str):
            return (left in right) == isinstance(op, ast.In)
        return _UNKNOWN
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "startswith"
        and len(node.args) == 1
        and not node.keywords
    ):
        subject, prefix = _platform_value(node.func.value), _platform_value(node.args[0])
        if isinstance(subject, str) and isinstance(prefix, (str, tuple)):
            return subject.startswith(prefix)
    return _UNKNOWN


def platform_reachable(node: Any) -> bool:
    """False if ``node`` sits in a branch of an ``if`` that this platform never takes."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type == "if_stmt":
            taken = _branch_taken(parent, child)
            if taken is False:
                return False
        child, parent = parent, parent.parent
    return True


def _branch_taken(if_stmt: Any, child: Any) -> bool | None:
    """Does this platform take the branch of ``if_stmt`` whose suite is ``child``? None: unknown."""
    parts = if_stmt.children
    earlier: bool | None = True  # True: every earlier test is false here; False: one is true
    for i, part in enumerate(parts):
        if part not in ("if", "elif", "else"):
            continue
        if part == "else":
            test, suite = None, parts[i + 2]
        else:
            test, suite = parts[i + 1], parts[i + 3]
        value = True if test is None else platform_test(test)
        if suite is child:
            if earlier is False or value is False:
                return False
            return True if earlier is True and value is True else None
        if value is True:
            earlier = False
        elif value is None and earlier is True:
            earlier = None
    return None  # ``child`` is a test, not a branch


def _decide_platform_ifs() -> None:
    """Teach jedi's flow analysis and star imports the running platform (idempotent).

    jedi leaves ``if sys.platform == "win32":`` undecided, so ``os.path`` (a
    typeshed stub star-importing ``ntpath`` on Windows and ``posixpath``
    elsewhere) resolved to ``ntpath`` on Linux. pyright follows the running
    platform; so does twinls now.
    """
    if getattr(flow_analysis, "_twinls_platform", False):
        return
    original = flow_analysis._check_if

    def check_if(context: Any, node: Any) -> Any:
        code = node.get_code()
        if "platform" in code or "os.name" in code:
            decided = platform_test(node)
            if decided is not None:
                return flow_analysis.REACHABLE if decided else flow_analysis.UNREACHABLE
        return original(context, node)

    @inference_state_method_cache([])
    def star_imports(self: Any) -> list[Any]:  # jedi's ModuleMixin.star_imports, platform-aware
        from jedi.inference.imports import Importer

        modules: list[Any] = []
        module_context = self.as_context()
        for i in self.tree_node.iter_imports():
            if i.is_star_import() and platform_reachable(i):
                new = Importer(
                    self.inference_state,
                    import_path=i.get_paths()[-1],
                    module_context=module_context,
                    level=i.level,
                ).follow()
                for module in new:
                    if isinstance(module, module_mod.ModuleValue):
                        modules += module.star_imports()
                modules += new
        return modules

    flow_analysis._check_if = check_if
    module_mod.ModuleMixin.star_imports = star_imports
    flow_analysis._twinls_platform = True


_decide_platform_ifs()

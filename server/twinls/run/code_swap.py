"""Run child: a collection zygote's functions, and a run's swap of changed function bodies.

Warm collection (issue 15) keeps a test file collected in a zygote
(``run/warm_session.py``); an edit of a module it imported used to replace it,
so the next run collected again. When the edit changed only function bodies
(the twin decides, ``twin/body_edits.py``), the zygote stays, and each run's
supervisor, forked from it, loads the edited files' new code (compiled by the
twin, sent marshalled: a run does not compile on its way to its first test; a
module whose asserts pytest rewrote is never swapped) and sets it on the
zygote's function objects (``swap``) before its executor runs a test.

What the twin needs from the zygote, sent with its ``ready``:

- which functions it holds per workspace file (every function object whose
  code came from it: ``gc.get_objects`` after collection, before ``gc.freeze``
  hides the heap; closures and decorated functions included), by qualname;
- which of them ran while it collected (``Started``: ``sys.setprofile`` on the
  zygote's main thread during collection only, never in a run: what a
  decorator or a parametrize list computed then would not be recomputed).

A changed function the zygote has no object of, or one it ran, means the old
path (a new zygote). ``trace.py``'s recorder owns the per-test tracer slot in
the executors; ``Started`` is off before any of them exists.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from types import CodeType, FrameType, FunctionType
from typing import Any

from ..shared.collect import is_test_module
from ..shared.paths import in_workspace
from ..shared.schema import SwapInfo
from ..twin.body_edits import codes_by_name, swappable


class Started:
    """The code objects started on this thread while on (the zygote's collection).

    On 3.12+ ``sys.monitoring``'s ``PY_START`` under a tool id of its own,
    released at ``stop`` (``run/trace.py`` takes one in the executors), each code
    object disabled after its first start: all of the collection. Before 3.12
    ``sys.setprofile``: a profiled call costs a Python call, and pytest's own
    making of items is most of a big parametrized module's collection, so it is
    on only where workspace code runs while collecting (``watch``): while a
    workspace module's body executes (its loader's ``exec_module``: decorators,
    parametrize lists, class bodies, what they call and import) and inside hook
    calls a workspace file implements (``pytest_generate_tests`` in a conftest).
    Known limit there: a workspace function pytest itself calls while making
    items (an ``ids=`` callable) is not seen.
    """

    TOOL = 3  # a tool id no named tool uses (``run/trace.py`` tries 1, 2, 4, 5)

    def __init__(self) -> None:
        self.seen: set[CodeType] = set()
        self.tool: int | None = None
        self.on = False
        self.undo: list[Callable[[], None]] = []
        add, call = self.seen.add, "call"

        def profile(frame: FrameType, event: str, arg: Any) -> None:
            if event == call:
                add(frame.f_code)

        self._profile = profile

    def _set(self, on: bool) -> bool:
        """Turn the profile on or off (``sys.monitoring`` stays on); whether it was on."""
        was, self.on = self.on, on
        if on != was and self.tool is None:
            sys.setprofile(self._profile if on else None)
        return was

    def _started(self, code: CodeType, offset: int) -> Any:
        self.seen.add(code)
        return sys.monitoring.DISABLE

    def _register(self) -> None:
        """On 3.12+, monitor every start until ``stop`` (each code object once: cheap)."""
        mon = getattr(sys, "monitoring", None)
        if self.tool is None and mon is not None and mon.get_tool(self.TOOL) is None:
            mon.use_tool_id(self.TOOL, "twinls-collection")
            mon.register_callback(self.TOOL, mon.events.PY_START, self._started)
            mon.set_events(self.TOOL, mon.events.PY_START)
            self.tool = self.TOOL

    def start(self) -> None:
        """On until ``stop``, wherever code runs."""
        self._register()
        self._set(True)

    def watch(self, roots: list[str], loaders: list[type]) -> None:
        """Be on while ``loaders`` execute a workspace module (the collection's imports)."""
        self._register()
        for cls in loaders:
            plain = cls.__dict__.get("exec_module")
            inherited = cls.exec_module

            def exec_module(loader: Any, module: Any, inherited: Any = inherited) -> None:
                spec = getattr(module, "__spec__", None)
                if spec is None or not in_workspace(str(spec.origin), roots):
                    return inherited(loader, module)
                was = self._set(True)
                try:
                    return inherited(loader, module)
                finally:
                    self._set(was)

            cls.exec_module = exec_module  # type: ignore[method-assign]
            if plain is None:
                self.undo.append(lambda cls=cls: delattr(cls, "exec_module"))
            else:
                self.undo.append(lambda cls=cls, plain=plain: setattr(cls, "exec_module", plain))

    def watch_hooks(self, pluginmanager: Any, roots: list[str]) -> None:
        """Be on inside hook calls a workspace file implements."""
        stack: list[bool] = []

        def before(name: str, impls: list[Any], kwargs: Any) -> None:
            ours = any(_in(i.function, roots) for i in impls)
            stack.append(self._set(True) if ours else self.on)

        def after(outcome: Any, name: str, impls: list[Any], kwargs: Any) -> None:
            if stack:
                self._set(stack.pop())

        self.undo.append(pluginmanager.add_hookcall_monitoring(before, after))

    def stop(self) -> None:
        for undo in reversed(self.undo):
            undo()
        self.undo.clear()
        self._set(False)
        if self.tool is not None:
            mon = sys.monitoring
            mon.set_events(self.tool, 0)
            mon.register_callback(self.tool, mon.events.PY_START, None)
            mon.free_tool_id(self.tool)
            self.tool = None


def loaders() -> list[type]:
    """The loaders that execute workspace modules in a run child (``Started.watch``)."""
    import importlib.machinery

    from ..twin import pytest_compat
    from ..twin.importer import OverlayLoader

    return [OverlayLoader, importlib.machinery.SourceFileLoader, pytest_compat.rewrite_hook_class()]


def _in(function: Any, roots: list[str]) -> bool:
    code = getattr(function, "__code__", None)
    return code is not None and in_workspace(code.co_filename, roots)


def may_swap(path: str) -> bool:
    """A module whose function bodies a run may swap: not one pytest collects or configures."""
    name = os.path.basename(path)
    return name.endswith(".py") and name != "conftest.py" and not is_test_module(path)


class Functions:
    """The zygote's function objects of workspace modules, by file (its runs swap these)."""

    def __init__(self, paths: Iterable[str]) -> None:
        import gc

        wanted = {p for p in paths if may_swap(p)} - rewritten()
        self.by_path: dict[str, list[FunctionType]] = {p: [] for p in wanted}
        for obj in gc.get_objects():
            if type(obj) is FunctionType and obj.__code__.co_filename in wanted:
                self.by_path[obj.__code__.co_filename].append(obj)

    def info(self, started: Started, read: Callable[[str], str | None]) -> dict[str, SwapInfo]:
        """Per file: its text, the qualnames it holds functions of, those run while collecting."""
        ran: dict[str, set[str]] = {}
        for code in started.seen:
            if code.co_filename in self.by_path:
                ran.setdefault(code.co_filename, set()).add(_qualname(code))
        out: dict[str, SwapInfo] = {}
        for path, fns in self.by_path.items():
            text = read(path)
            if text is not None:
                out[path] = {
                    "found": sorted({_qualname(f.__code__) for f in fns}),
                    "started": sorted(ran.get(path, ())),
                    "text": text,
                }
        return out

    def swap(self, path: str, module: CodeType) -> int:
        """Give ``path``'s functions their code in ``module`` (its new text); how many changed.

        Every function whose code differs is swapped, the unchanged ones below an
        edit too (their lines moved: tracebacks must name the editor's lines).
        """
        new = codes_by_name(module)
        swapped = 0
        for fn in self.by_path.get(path, []):
            old = fn.__code__
            found = new.get(old.co_qualname, [])
            if len(found) != 1 or found[0] == old or not swappable(old, found[0]):
                continue
            fn.__code__ = found[0]
            swapped += 1
        return swapped


def _qualname(code: CodeType) -> str:
    return getattr(code, "co_qualname", code.co_name)


def rewritten() -> set[str]:
    """Files of modules pytest rewrote the asserts of (their code is not ``compile``'s)."""
    return {
        module.__file__
        for module in list(sys.modules.values())
        if isinstance(getattr(module, "__file__", None), str)
        and "@pytest_ar" in getattr(module, "__dict__", {})
    }

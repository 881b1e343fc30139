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
from ..shared.schema import SwapInfo
from ..twin.body_edits import codes_by_name, swappable


class Started:
    """The code objects started on this thread while on (the zygote's collection)."""

    def __init__(self) -> None:
        self.seen: set[CodeType] = set()

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self.seen.add(frame.f_code)

    def start(self) -> None:
        sys.setprofile(self._profile)

    def stop(self) -> None:
        if sys.getprofile() == self._profile:
            sys.setprofile(None)


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

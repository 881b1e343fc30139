"""jedi's private API, in one place (twin): what the searches use of jedi beyond ``jedi.Script``.

``tests/test_jedi_compat.py`` is the canary: it fails when a jedi upgrade moves
or renames anything here.

Why a counting inference state: jedi stops inferring when one of its recursion
or execution limits is reached and returns "nothing" instead, silently, and
memoizes that. A search must know when that happened (to undo it, retry, and
say so when it still gives up), so :class:`CountingState`'s detector counts
every limit it hits and its memo can drop what one question added.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jedi.inference import InferenceState, recursion
from jedi.inference.imports import load_module_from_path  # noqa: F401 - re-exported
from jedi.inference.references import _find_defining_names as find_defining_names  # noqa: F401
from jedi.inference.references import _find_names as find_names  # noqa: F401

#: jedi's limits (module globals of ``jedi.inference.recursion``), read at every execution.
LIMITS = (
    "recursion_limit",
    "total_function_execution_limit",
    "per_function_execution_limit",
    "per_function_recursion_limit",
)
_limits_lock = threading.Lock()


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
        self.recursion_detector = recursion.RecursionDetector()
        self.execution_recursion_detector = CountingDetector(self)

    @property
    def refused(self) -> int:
        """Executions refused since the last reset (0: nothing was cut short)."""
        return self.execution_recursion_detector.refused


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

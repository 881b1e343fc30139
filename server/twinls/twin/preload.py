"""Twin: keeping warm for runs, pytest's plugins and the workspace's third-party imports.

A run child is forked from the twin, so whatever the twin has imported a run
gets for free. Three sources say what to import: pytest's own plugins (its
built-ins and installed ``pytest11`` entry points), a quick scan of the
workspace's ``import`` lines, and what earlier runs actually imported. Only
modules that live with the interpreter are imported: a workspace module in the
twin would go stale at the next edit. The ``preload`` setting turns the scan
and the feedback off (``false``) or names more modules (a list).

Imports happen on the twin's worker thread only, between calls: a fork taken
while another thread is half-way through an import would leave that module's
lock held forever in the child.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import threading
import time
from collections.abc import Iterable

from ..shared.overlay import Overlay
from ..shared.paths import belongs_to_interpreter
from . import pytest_compat, warm
from .state import TwinState

_NAME = r"[A-Za-z_][\w.]*"
_IMPORT = re.compile(
    rf"^[ \t]*(?:from[ \t]+({_NAME})[ \t]+import\b"
    rf"|import[ \t]+({_NAME}(?:[ \t]*(?:as[ \t]+\w+)?[ \t]*,[ \t]*{_NAME})*))",
    re.M,
)

SCAN_BUDGET = 1.0  # seconds the first scan of the workspace may take
SCAN_FILES = 5000


class Warmth:
    """What one twin has preloaded, and what runs asked for since."""

    def __init__(self, state: TwinState) -> None:
        self.state = state
        self.scanned = False
        self.pending: set[str] = set()
        self.tried: set[str] = set()
        self.loaded: list[str] = []
        self._lock = threading.Lock()

    def remember(self, names: Iterable[str]) -> None:
        """Modules a run imported (from any thread): the next flush imports them."""
        if self.state.settings.get("preload", True) is False:
            return
        with self._lock:
            self.pending.update(n for n in names if n not in self.tried)

    def flush(self) -> list[str]:
        """Import what is pending; the first call also warms pytest and scans the workspace."""
        setting = self.state.settings.get("preload", True)
        names: set[str] = set()
        if not self.scanned:
            self.scanned = True
            names.update(pytest_modules())
            if setting is not False:
                names.update(workspace_imports(self.state.overlay))
            if isinstance(setting, list):
                names.update(str(n) for n in setting)
        with self._lock:
            names.update(self.pending)
            self.pending.clear()
            names -= self.tried
            self.tried.update(names)
        if not names:
            return []
        done = warm.import_quietly(third_party(sorted(names), self.state.roots))
        self.loaded.extend(done)
        return done


def of(state: TwinState) -> Warmth:
    return state.singleton("run.warmth", lambda: Warmth(state))


def pytest_modules() -> list[str]:
    """pytest's built-in plugins and every installed plugin (``pytest11`` entry points)."""
    names = []
    try:
        names += pytest_compat.default_plugins()
    except ImportError:
        return []
    try:
        names += [ep.module for ep in importlib.metadata.entry_points(group="pytest11")]
    except Exception:
        pass
    return names


def workspace_imports(overlay: Overlay) -> set[str]:
    """Absolute module names the workspace's files import (read, never executed)."""
    found: set[str] = set()
    deadline = time.monotonic() + SCAN_BUDGET
    for n, path in enumerate(overlay.python_files()):
        if n >= SCAN_FILES or time.monotonic() > deadline:
            break
        text = overlay.read_text(path)
        if not text or "import" not in text:
            continue
        for m in _IMPORT.finditer(text):
            if m.group(1):
                found.add(m.group(1))
            else:
                for part in m.group(2).split(","):
                    found.add(part.split()[0])
    return found


def third_party(names: list[str], roots: list[str]) -> list[str]:
    """The names whose top-level package lives with the interpreter."""
    verdict: dict[str, bool] = {}
    keep = []
    for name in names:
        top = name.partition(".")[0]
        if top not in verdict:
            verdict[top] = _is_third_party(top, roots)
        if verdict[top]:
            keep.append(name)
    return keep


def _is_third_party(top: str, roots: list[str]) -> bool:
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if spec.origin is None:  # a namespace package: look where its parts live
        locations = list(spec.submodule_search_locations or [])
        return bool(locations) and all(
            belongs_to_interpreter(loc + "/__init__.py", roots) for loc in locations
        )
    return belongs_to_interpreter(spec.origin, roots)

"""Run child: imports of the editor's text, asserts rewritten, nothing written.

The twin's overlay finder already serves edited modules from memory. pytest
puts its own assertion-rewriting finder in front of it, and that one reads
files from disk; here it is told to leave in-memory modules to the overlay
finder, whose loader then rewrites their asserts the way pytest would. Source
lines for tracebacks come from the overlay too (``linecache``), so a failure
shows the unsaved line that failed.
"""

from __future__ import annotations

import importlib.machinery
import linecache
import sys
from types import CodeType
from typing import Any

from ..shared.overlay import Overlay
from ..shared.textbuf import split_lines
from ..twin import pytest_compat
from ..twin.importer import OverlayFinder, OverlayLoader


class RunLoader(OverlayLoader):
    """Serves a module from the overlay, rewriting asserts where pytest would."""

    def source_to_code(self, data: Any, path: Any, *, _optimize: int = -1) -> CodeType:  # type: ignore[override]
        try:
            hook = pytest_hook()
            if hook is not None:
                code = pytest_compat.rewrite_if_pytest_would(hook, self.name, str(path), data)
                if code is not None:
                    return code
            return super().source_to_code(data, path)
        except SyntaxError as exc:
            # CPython re-reads the offending line from the file on disk: show the editor's.
            if exc.lineno and isinstance(data, bytes):
                lines = split_lines(data.decode("utf-8", "replace"))
                if 0 < exc.lineno <= len(lines):
                    exc.text = lines[exc.lineno - 1] + "\n"
            raise


class RunFinder(OverlayFinder):
    def _spec(self, fullname: str, file: str, pkg_dir: str | None):
        spec = super()._spec(fullname, file, pkg_dir)
        if spec is not None:
            spec.loader = RunLoader(self.overlay, fullname, file)
        return spec


def pytest_hook() -> Any:
    """pytest's active assertion-rewriting finder, if a session is running."""
    if pytest_compat.REWRITING not in sys.modules:
        return None
    hook_cls = pytest_compat.rewrite_hook_class()
    for finder in sys.meta_path:
        if isinstance(finder, hook_cls):
            return finder
    return None


def install(overlay: Overlay, preloaded: set[str]) -> RunFinder:
    """Make this (forked) process import through the overlay with pytest's rewriting.

    ``preloaded`` are modules the twin imported on purpose; pytest is not to
    warn that it cannot rewrite them.
    """
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, OverlayFinder)]
    finder = RunFinder(overlay)
    sys.meta_path.insert(0, finder)
    _route_rewriting(finder, preloaded)
    prime_linecache(overlay)
    return finder


def _route_rewriting(finder: RunFinder, preloaded: set[str]) -> None:
    path_find = importlib.machinery.PathFinder.find_spec

    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if finder.find_spec(name, path) is not None:
            return None  # the overlay holds it: RunFinder serves (and rewrites) it
        return path_find(name, path, target)

    hook_cls = pytest_compat.rewrite_hook_class()
    hook_cls._find_spec = staticmethod(find_spec)  # type: ignore[assignment]
    warn = hook_cls._warn_already_imported

    def warn_unless_preloaded(self: Any, name: str) -> None:
        if name not in preloaded:
            warn(self, name)

    hook_cls._warn_already_imported = warn_unless_preloaded  # type: ignore[method-assign]


def prime_linecache(overlay: Overlay) -> None:
    """Tracebacks and pytest's failure text read edited files from memory."""
    for path, doc in list(overlay.docs.items()):
        text = doc.buffer.text
        # mtime None: linecache.checkcache never drops the entry for the disk's copy.
        lines = [line for line in split_lines(text) if line]  # Python's lines, as LSP's
        linecache.cache[path] = (len(text), None, lines, path)

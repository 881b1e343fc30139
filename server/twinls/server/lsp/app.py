"""Server: the app; builds the language server from the feature modules' handlers.

A feature module declares its handlers at module level with :func:`feature` and
:func:`command` (pygls's decorators, recorded here rather than on a server object,
so a handler can be imported and read alone), keeps per-server state in a class of
its own reached with ``ls.part(State)``, and may have a ``setup(ls)`` for wiring that
is no LSP handler (edit listeners). :func:`create_server` registers every handler
of every module in :data:`MODULES` the one way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from .server import TwinLanguageServer

F = TypeVar("F", bound=Callable[..., Any])

#: The feature modules, in registration order (document sync first).
MODULES: list[str] = [
    "sync",
    "commands",
    "search",
    "lenses",
    "live",
    "discovery",
    "navigation",
    "completion",
    "rename",
    "hierarchy",
    "diagnostics",
    "settings",
    "interpreter",
    "inspect",
    "lane_warm",
]

_FEATURES: list[tuple[str, Any, Callable[..., Any]]] = []
_COMMANDS: list[tuple[str, Callable[..., Any]]] = []


def feature(method: str, options: Any = None) -> Callable[[F], F]:
    """Handle LSP ``method`` (``options``: what the capability announces)."""

    def record(fn: F) -> F:
        _FEATURES.append((method, options, fn))
        return fn

    return record


def command(name: str) -> Callable[[F], F]:
    """Handle ``workspace/executeCommand`` of ``name``."""

    def record(fn: F) -> F:
        _COMMANDS.append((name, fn))
        return fn

    return record


def create_server(pool_size: int | None = None, python: str | None = None) -> TwinLanguageServer:
    ls = TwinLanguageServer(pool_size=pool_size, python=python)
    modules = [importlib.import_module(f"{__package__}.{name}") for name in MODULES]
    for method, options, fn in _FEATURES:
        ls.feature(method, options)(fn)
    for name, fn in _COMMANDS:
        ls.command(name)(fn)
    for module in modules:
        if hasattr(module, "setup"):
            module.setup(ls)
    return ls

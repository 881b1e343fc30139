"""Twin (and its run children): pytest's private API, in one place.

twinls reaches into ``_pytest`` for five things: its collectors imported before
forking (``warm.py``), a ``Config`` built once in the twin and handed to the run
child's ``pytest.main`` (``fastconfig.py``), the list of built-in plugins to preload
(``preload.py``), fd capture into memory instead of temp files (``run/child.py``),
and assertion rewriting of modules served from the overlay (``run/imports.py``).
Each hook is named here once; ``tests/test_pytest_compat.py`` is the canary that
fails, by name, when a pytest release moves one, and ``pyproject.toml`` bounds
pytest below the next major release. Nothing falls back
silently: a missing hook raises when it is used.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType
from typing import Any

#: Every private name used, as (module, attribute): the canary checks each.
HOOKS = [
    ("_pytest.config", "get_config"),
    ("_pytest.config", "default_plugins"),
    ("_pytest.capture", "TemporaryFile"),
    ("_pytest.assertion.rewrite", "AssertionRewritingHook"),
    ("_pytest.assertion.rewrite", "assertstate_key"),
    ("_pytest.assertion.rewrite", "rewrite_asserts"),
]
#: pytest's private modules a twin imports before forking (``warm.py``): the Python and
#: doctest collectors, which pytest itself imports only once a session collects.
WARM_MODULES = ["_pytest.python", "_pytest.doctest"]
#: Private methods and attributes of ``AssertionRewritingHook``.
HOOK_METHODS = ["_should_rewrite", "_find_spec", "_warn_already_imported"]
REWRITING = "_pytest.assertion.rewrite"


def config_module() -> ModuleType:
    """``_pytest.config``: its ``get_config`` is swapped for one use in a run child."""
    import _pytest.config

    return _pytest.config


def default_plugins() -> list[str]:
    """pytest's built-in plugins, as module names (``_pytest.python``, ...)."""
    from _pytest.config import default_plugins as names

    return [f"_pytest.{p}" for p in names]


def capture_into(factory: Any) -> None:
    """pytest's fd capture opens its files with ``factory`` (a run child: a memfd)."""
    import _pytest.capture as capture

    capture.TemporaryFile = factory


def rewrite_hook_class() -> type:
    from _pytest.assertion.rewrite import AssertionRewritingHook

    return AssertionRewritingHook


def rewrite_if_pytest_would(hook: Any, name: str, path: str, source: bytes) -> Any | None:
    """The code object pytest would make of ``source`` (asserts rewritten), else None."""
    from _pytest.assertion.rewrite import assertstate_key, rewrite_asserts

    state = hook.config.stash[assertstate_key]
    if not hook._should_rewrite(name, path, state):
        return None
    hook._rewritten_names[name] = Path(path)
    tree = ast.parse(source, filename=path)
    rewrite_asserts(tree, source, path, hook.config)
    return compile(tree, path, "exec", dont_inherit=True)


# -- warm collection (run/warm_session.py) ----------------------------------------------


def stop_capture(config: Any) -> None:
    """End pytest's global fd capture in a collection zygote (its forks must not share it)."""
    config.pluginmanager.getplugin("capturemanager").stop_global_capturing()


def start_capture(config: Any) -> None:
    """Start it afresh in one warm executor (new memfds of its own)."""
    config.pluginmanager.getplugin("capturemanager").start_global_capturing()

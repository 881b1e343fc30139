"""Twin: a pytest ``Config`` built once, so a run child skips building one.

``pytest.main`` starts by creating a plugin manager and importing and
registering pytest's ~30 built-in plugins: a quarter of a warm run's time,
and the same every time. The twin builds that object once (no arguments, no
conftest, no workspace code: nothing that goes stale); each run child, a
copy-on-write fork, hands its copy to ``pytest.main`` by answering pytest's
one ``get_config`` call with it. If anything about it fails, runs fall back to
an ordinary ``pytest.main``.
"""

from __future__ import annotations

import pathlib
from typing import Any

from . import pytest_compat

#: Plugins no run child loads: they would write to disk or steal fatal signals.
BASE_ARGS = ["-p", "no:cacheprovider", "-p", "no:faulthandler"]

_pristine: Any = None


def prepare() -> None:
    """Build the pristine config (on the twin's worker thread, once)."""
    global _pristine
    if _pristine is not None:
        return
    try:
        _pristine = pytest_compat.config_module().get_config(list(BASE_ARGS), prog="pytest.main()")
    except Exception:
        _pristine = False


def use_once() -> None:
    """In a run child: make the next ``pytest.main`` start from the pristine config."""
    if not _pristine:
        return
    config_module = pytest_compat.config_module()
    original = config_module.get_config

    def get_config(args: Any = None, plugins: Any = None, *, prog: str | None = None) -> Any:
        config_module.get_config = original  # one use: pytester and friends get fresh ones
        config = _pristine
        config.invocation_params = config.InvocationParams(
            args=args or (), plugins=plugins, dir=pathlib.Path.cwd()
        )
        if args:
            config.pluginmanager.consider_preparse(args, exclude_only=True)
        return config

    config_module.get_config = get_config

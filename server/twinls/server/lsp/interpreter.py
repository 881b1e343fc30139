"""Server: follow the user's choice of interpreter after start-up.

A new ``python`` setting (``workspace/didChangeConfiguration`` with
``{"twinls": {"python": ..., "pythonSource": ...}}``, as the VS Code extension
sends when the setting or the Python extension's selection changes) moves the
twins to that interpreter; the pool restarts them and their snapshot carries
every open document.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from .server import TwinLanguageServer

log = logging.getLogger(__name__)


def settings_of(params: types.DidChangeConfigurationParams) -> dict[str, Any] | None:
    """Our section of a configuration change (``{"twinls": {...}}`` or the section itself)."""
    settings = params.settings
    if not isinstance(settings, dict):
        return None
    section = settings.get("twinls", settings)
    return section if isinstance(section, dict) else None


def apply_python_setting(ls: TwinLanguageServer, section: dict[str, Any]) -> None:
    pool = ls.pool
    if pool is None or "python" not in section:
        return
    options = {
        **ls.options,
        "python": section.get("python"),
        "pythonSource": section.get("pythonSource"),
    }
    interp, error = ls.choose_interpreter(options)
    ls.options = options
    if interp is None:
        pool.notice(
            "error", f"twinls: {error}; the twins stay in {pool.interpreter_info()['path']}"
        )
        return
    if pool.set_interpreter(interp):
        log.info("twins move to %s (%s)", interp.path, interp.source)


def register(ls: TwinLanguageServer) -> None:
    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: TwinLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        section = settings_of(params)
        if section is not None:
            apply_python_setting(ls, section)

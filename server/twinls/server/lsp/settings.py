"""Server: settings changed after start-up, ``workspace/didChangeConfiguration``.

A change arrives as ``{"twinls": {...}}`` (or the section itself). ``python`` moves
the twins to another interpreter (``interpreter.py``); the options the twins read
(``options.TWIN_SETTINGS``: ``exclude``, ``runTimeout``, ...) are range-checked as
at ``initialize`` and sent to every twin in the edit stream's order, so a new
``exclude`` re-walks each twin's index before the next search. The rest (``pool``,
``heartbeat``, ...) is read at start-up only.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from . import app, options
from .interpreter import apply_python_setting
from .server import TwinLanguageServer

log = logging.getLogger(__name__)


def settings_of(params: types.DidChangeConfigurationParams) -> dict[str, Any] | None:
    """Our section of a configuration change (``{"twinls": {...}}`` or the section itself)."""
    settings = params.settings
    if not isinstance(settings, dict):
        return None
    section = settings.get("twinls", settings)
    return section if isinstance(section, dict) else None


def apply_twin_settings(ls: TwinLanguageServer, section: dict[str, Any]) -> None:
    pool = ls.pool
    changed = {k: section[k] for k in options.TWIN_SETTINGS if k in section}
    if pool is None or not changed:
        return
    checked = options.check({**ls.options, **changed}, ls.options.get("pool"))
    if checked.problems:
        ls.notice("warning", "twinls: " + "; ".join(checked.problems), code="settings")
    ls.options = checked.values
    twin_settings = {k: checked.values.get(k) for k in changed}
    pool.mirror.max_file_size = checked.values["maxFileSize"]
    pool.update_settings(twin_settings)
    log.info("settings sent to the twins: %s", sorted(twin_settings))


@app.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(
    ls: TwinLanguageServer, params: types.DidChangeConfigurationParams
) -> None:
    section = settings_of(params)
    if section is not None:
        apply_python_setting(ls, section)
        apply_twin_settings(ls, section)

"""Server: follow the user's choice of interpreter per workspace folder after start-up.

A new ``python`` or ``pythonByFolder`` setting (``workspace/didChangeConfiguration``
with ``{"twinls": {...}}``, as the VS Code extension sends when a folder's setting or
the Python extension's selection for it changes; ``settings.py`` calls) moves the
folders whose choice changed; only their interpreter's twins restart, and the
snapshot carries every open document. ``workspace/didChangeWorkspaceFolders`` gives
an added folder its interpreter and retires a removed one's twins.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from . import app
from .server import TwinLanguageServer

log = logging.getLogger(__name__)

#: The settings that choose interpreters.
KEYS = ("python", "pythonSource", "pythonByFolder")


def apply_python_setting(ls: TwinLanguageServer, section: dict[str, Any]) -> None:
    pool = ls.pool
    if pool is None or not any(k in section for k in ("python", "pythonByFolder")):
        return
    options = {**ls.options, **{k: section.get(k) for k in KEYS if k in section}}
    if "python" in section and "pythonSource" not in section:
        options["pythonSource"] = None
    ls.options = options
    current = pool.choices()
    choices = ls.choose_interpreters(options)
    for root, choice in list(choices.items()):
        if isinstance(choice, str) and not isinstance(current.get(root), str):
            # A setting that names no interpreter: say so; the folder's twins stay where they are.
            info = pool.interpreters_by_root().get(root, {})
            pool.notice(
                "error",
                f"twinls: {choice}; the twins of {root} stay in {info.get('path')}",
                code="interpreter",
            )
            choices[root] = current.get(root)
    if pool.set_interpreters(choices):
        log.info("interpreters per folder: %s", choices)


@app.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_workspace_folders(
    ls: TwinLanguageServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    """pygls has updated ``ls.workspace``; the pool follows with each folder's interpreter."""
    pool = ls.pool
    if pool is None:
        return
    roots = ls.roots()
    if roots == pool.roots:
        return
    pool.set_roots(roots, ls.choose_interpreters(ls.options))
    log.info("workspace folders now %s", roots)

"""Server: follow the user's choice of interpreter after start-up (``settings.py`` calls).

A new ``python`` setting (``workspace/didChangeConfiguration`` with
``{"twinls": {"python": ..., "pythonSource": ...}}``, as the VS Code extension
sends when the setting or the Python extension's selection changes) moves the
twins to that interpreter; the pool restarts them and their snapshot carries
every open document.
"""

from __future__ import annotations

import logging
from typing import Any

from .server import TwinLanguageServer

log = logging.getLogger(__name__)


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
            "error",
            f"twinls: {error}; the twins stay in {pool.interpreter_info()['path']}",
            code="interpreter",
        )
        return
    if pool.set_interpreter(interp):
        log.info("twins move to %s (%s)", interp.path, interp.source)

"""Run child: a Debug run waits for a debugger (debugpy, the ecosystem's DAP server).

The executor listens on a loopback port (debugpy's adapter in this process, so no
extra process), says where in a ``debug`` event (the server answers
``twinls.debug`` with it and the editor attaches), waits for the client, then runs
the test or example as any run does: the code it runs was compiled from the
overlay's text by the overlay importer, so a breakpoint set at a line of a file
whose text is only in the editor hits at that line, and ``linecache`` (primed with
the overlay's texts) gives the frames the editor's lines. debugpy writes no log
unless ``DEBUGPY_LOG_DIR`` is set; twinls never sets it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..shared.overlay import Overlay
from . import debugpy_compat

HOST = "127.0.0.1"


def wait_for_debugger(emit: Callable[[dict[str, Any]], None], overlay: Overlay) -> None:
    """Listen, tell the twin the port, and block until a DAP client has attached."""
    try:
        import debugpy
    except ImportError:
        raise RuntimeError(
            "a Debug run needs debugpy in the project's interpreter: pip install debugpy"
        ) from None
    os.environ.pop("DEBUGPY_LOG_DIR", None)
    # The overlay importer compiles what it serves; frozen stdlib modules are not ours.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    debugpy_compat.mark_main_thread()
    host, port = debugpy.listen((HOST, 0), in_process_debug_adapter=True)
    debugpy_compat.use_overlay(overlay)
    emit({"k": "debug", "host": host, "port": port, "pid": os.getpid()})
    debugpy.wait_for_client()


def end_debug_session() -> None:
    """After the run: the client gets DAP's ``terminated`` rather than a dropped socket."""
    debugpy_compat.end_session()

"""Run child: the private parts of debugpy (its vendored pydevd) a Debug run relies on.

pydevd checks a breakpoint's line against the file *on disk* when it is set
(``pydevd_api._get_code_lines(path)`` compiles the disk's text and moves the
breakpoint to the nearest earlier line that has code), and refuses a file that
does not exist on disk (``pydevd_file_utils.exists``). A run child's code comes
from the overlay, so both are pointed at the overlay's text: a breakpoint at a
line only the editor has stays there, and an unsaved new file is accepted.
And a run child is forked from the twin's worker thread, a daemon thread: once
that is the process's only thread pydevd's liveness check (``has_user_threads_alive``)
counts no user thread and ends the session as soon as the client has configured
it, unless the thread carries pydevd's main-thread mark. ``tests/test_debugpy_compat.py``
is the canary. A run child ends with ``os._exit`` and its adapter is in-process, so
without ``end_session`` the client would see the connection drop instead of DAP's
``terminated`` event.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from ..shared.overlay import Overlay


def use_overlay(overlay: Overlay) -> None:
    """Make pydevd validate breakpoints against the overlay (call after ``debugpy.listen``)."""
    api = sys.modules["_pydevd_bundle.pydevd_api"]
    files = sys.modules["pydevd_file_utils"]
    code_lines, exists = api._get_code_lines, files.exists

    def overlay_code_lines(code: Any) -> Any:
        if isinstance(code, str) and code in overlay.docs:
            text = overlay.read_text(code) or ""
            return code_lines(compile(text, code, "exec", 0, dont_inherit=True))
        return code_lines(code)

    def overlay_exists(path: str) -> bool:
        return path in overlay.docs or exists(path)

    api._get_code_lines = overlay_code_lines
    files.exists = overlay_exists  # pydevd_api calls it through the module


def mark_main_thread() -> None:
    """This (forked, daemon) thread is the program: pydevd must not end while it runs."""
    setattr(threading.current_thread(), "__pydevd_main_thread", True)


def end_session() -> None:
    """The run is over: stop tracing and let pydevd's writer send ``terminated`` (it
    does when its threads are killed; ``pydevd.stoptrace`` is what its atexit runs)."""
    pydevd = sys.modules.get("pydevd")
    if pydevd is not None and pydevd.get_global_debugger() is not None:
        pydevd.stoptrace()

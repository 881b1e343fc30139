"""Twin: everything one twin holds; the overlay, settings, and warm singletons."""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..shared.overlay import Overlay
from .context import CallContext, Cancelled, set_current


class TwinState:
    def __init__(self, roots: list[str], settings: dict[str, Any], send: Callable) -> None:
        self.roots = roots
        self.settings = settings
        self.overlay = Overlay(roots=list(roots), excluded=list(settings.get("exclude", [])))
        self.apply_settings()
        self.send = send
        self.started = time.time()
        self.applied_seq = 0
        self.calls: dict[int, CallContext] = {}
        self._singletons: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.channel: Any = None  # the twin's socket; a run child closes its copy

    def apply_settings(self) -> None:
        """Hand the settings the overlay reads to it (at start and on each update)."""
        self.overlay.excluded = list(self.settings.get("exclude", []))
        if self.settings.get("maxFileSize"):
            self.overlay.max_file_size = int(self.settings["maxFileSize"])

    def existing(self, name: str) -> Any | None:
        """The singleton ``name`` if it was built already (status must not build one)."""
        with self._lock:
            return self._singletons.get(name)

    def singleton(self, name: str, factory: Callable[[], Any]) -> Any:
        """A per-twin object built on first need (the index, the jedi project)."""
        with self._lock:
            if name not in self._singletons:
                self._singletons[name] = factory()
            return self._singletons[name]

    def complete(self, ctx: CallContext, work: Callable[[], Any], detached: bool = False) -> None:
        """Run ``work`` for ``ctx`` and send its value or error.

        If ``work`` hands the call to a thread (:meth:`CallContext.detach`), that
        thread's own ``complete`` answers instead.
        """
        set_current(ctx)
        handed_off = False
        try:
            value = work()
            if ctx.detached and not detached:
                handed_off = True
                return
        except Cancelled as exc:
            self.send({"k": "fail", "id": ctx.id, "type": "Cancelled", "message": str(exc)})
        except BaseException as exc:  # a user's callable may raise anything, even SystemExit
            self.send(
                {
                    "k": "fail",
                    "id": ctx.id,
                    "type": type(exc).__name__,
                    "message": str(exc),
                    "tb": traceback.format_exc(),
                }
            )
        else:
            try:
                self.send({"k": "done", "id": ctx.id, "value": value})
            except Exception as exc:  # e.g. an unpicklable value
                self.send(
                    {
                        "k": "fail",
                        "id": ctx.id,
                        "type": type(exc).__name__,
                        "message": f"cannot send the value back: {exc}",
                    }
                )
        finally:
            set_current(None)
            if not handed_off:
                self.calls.pop(ctx.id, None)

    def finish_in_thread(self, ctx: CallContext, work: Callable[[], Any]) -> None:
        threading.Thread(
            target=self.complete, args=(ctx, work, True), name=f"twin-call-{ctx.id}", daemon=True
        ).start()

    @property
    def pid(self) -> int:
        return os.getpid()

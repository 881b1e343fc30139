"""Twin: what a running call sees, its overlay, its cancel flag, its stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .gate import gate as jedi_gate

if TYPE_CHECKING:
    from .state import TwinState


class Cancelled(Exception):
    """Raised by :meth:`CallContext.check` once the caller cancelled."""


@dataclass
class CallContext:
    id: int
    state: TwinState
    send: Callable[[dict[str, Any]], None]
    cancelled: threading.Event = field(default_factory=threading.Event)
    detached: bool = False
    started: float = field(default_factory=time.monotonic)
    cancelled_at: float | None = None

    def cancel(self) -> None:
        """Ask the call to stop (from the twin's reader thread)."""
        if self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
        self.cancelled.set()

    @property
    def overlay(self):
        return self.state.overlay

    def check(self) -> None:
        """Between units of work: stop if cancelled; let interactive calls into jedi."""
        jedi_gate.pause()
        if self.cancelled.is_set():
            raise Cancelled(f"call {self.id} was cancelled")

    def partial(self, items: list[Any]) -> None:
        """Stream a batch of results to the caller's promise."""
        if items:
            self.send({"k": "partial", "id": self.id, "items": items})

    def progress(self, done: int, total: int, message: str | None = None) -> None:
        self.send({"k": "progress", "id": self.id, "done": done, "total": total, "msg": message})

    def detach(self, work: Callable[[], Any]) -> None:
        """Finish this call from a thread, so the twin keeps applying edits meanwhile.

        For waits that run no jedi (a run child doing a test): the worker goes on
        with the next edit or call; ``work``'s return value or error completes the
        call.
        """
        self.detached = True
        self.state.finish_in_thread(self, work)


_local = threading.local()


def current() -> CallContext:
    """The call this thread is serving (for user callables sent with run_remotely)."""
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        raise RuntimeError("not inside a twin call")
    return ctx


def set_current(ctx: CallContext | None) -> None:
    _local.ctx = ctx

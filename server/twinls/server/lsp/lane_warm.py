"""Server: the interactive twins warmed on the open documents (a first hover: not a cold jedi).

A hover in a twin is a fresh ``jedi.Script``, but what jedi parsed and loaded for it (the
imported modules, typeshed's stubs) stays in the twin process. So each interactive twin
(``interactiveTwin``) is asked ``search.hover_warm`` once per open Python document: when
the document opens, and when the twin comes up (a restarted twin is a new process, by
pid). The search twins are not asked: their searches load what they need, and a warm-up
there would queue behind a search.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import stubs
from .server import TwinLanguageServer

log = logging.getLogger(__name__)


class LaneWarm:
    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.sent: dict[int, set[str]] = {}  # twin pid -> the documents it was asked to warm
        self.hooked = False

    def warm(self) -> None:
        """Ask each interactive twin to warm the open documents it was not asked yet."""
        pool = self.ls.pool
        if pool is None or not pool.lanes:
            return
        if not self.hooked:  # (the pool exists from ``initialize`` on; its twins come later)
            self.hooked = True
            loop = self.ls.loop
            pool.on_started.append(lambda twin: loop.call_soon_threadsafe(self.warm))
        asked: dict[Any, list[str]] = {}
        for path in sorted(pool.mirror.docs):
            if not path.endswith(".py"):
                continue
            for twin in pool.live(path, lanes=True):
                if twin.slot in pool.lanes and path not in self.sent.setdefault(twin.pid, set()):
                    self.sent[twin.pid].add(path)
                    asked.setdefault(twin, []).append(path)
        for twin, paths in asked.items():
            pool.call(stubs.hover_warm(paths), twin=twin)

    def on_edit(self, entry: dict[str, Any]) -> None:
        if entry.get("op") == "open":
            self.warm()


def setup(ls: TwinLanguageServer) -> None:
    ls.edit_listeners.append(ls.part(LaneWarm).on_edit)

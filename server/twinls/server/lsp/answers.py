"""Server: hover and outline answers kept until the next change of any text (issue 10).

A hover's or an outline's answer depends on the texts the twins see (the
document, and what jedi reads of the others) and on the interpreter, nothing
else; every change of a text goes through the mirror and bumps its
``generation``. So an answer asked again at the same generation, of the same
interpreter group, is the one the twin would give, and is answered here with
no call at all: an editor asks both again and again (the outline on every
focus, a hover each time the pointer rests), and while a search runs every call
saved is a core not taken from it. An answer is kept only if no change came in
while it was computed. Not seen, as for the server's cache: a file changed on
disk with no event for it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

from ..stubs import Query
from .server import TwinLanguageServer

#: Answers kept at most (the oldest go first).
LIMIT = 512
#: ``TWINLS_KEEP_ANSWERS=0``: every request asks a twin (benchmarks compare it).
KEEP = os.environ.get("TWINLS_KEEP_ANSWERS", "1") != "0"


class Answers:
    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.generation = -1
        self._kept: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.hits = 0

    async def ask(self, pool: Any, query: Query[Any]) -> Any:
        """``query``'s answer (its first argument a path): kept, or asked of a twin."""
        generation = pool.mirror.generation
        full = (pool.group_for(query.args[0]).key, query.name, *query.args)
        if generation != self.generation:
            self._kept.clear()
            self.generation = generation
        if KEEP and full in self._kept:
            self.hits += 1
            self._kept.move_to_end(full)
            return self._kept[full]
        value = await self.ls.await_promise(pool.call(query))
        if KEEP and pool.mirror.generation == generation == self.generation:
            self._kept[full] = value
            while len(self._kept) > LIMIT:
                self._kept.popitem(last=False)
        return value

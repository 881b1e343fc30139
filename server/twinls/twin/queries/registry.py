"""Twin: the names the server may call, and the modules that define them.

A query is ``fn(ctx, *args)`` running in the twin; it returns plain data, may
stream ``ctx.partial(items)`` and must call ``ctx.check()`` between units of work
so that a cancel stops it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

QueryFn = Callable[..., Any]

QUERIES: dict[str, QueryFn] = {}
#: Queries that run in the twin's search lane (``bulk=True``); every other query is
#: interactive, so a query added later never waits behind a search unless it says so.
BULK: set[str] = set()
#: Interactive queries that touch no jedi or parso (``jedi=False``): they need not wait
#: at the gate for a search's unit, which can take seconds (``twinls.status``).
NO_JEDI: set[str] = set()

#: Modules whose import registers queries; the twin imports them all before forking runs.
MODULES = [
    "twinls.twin.queries.core",
    "twinls.twin.queries.search",
    "twinls.twin.queries.lang",
    "twinls.twin.queries.runs",
]


class UnknownQuery(LookupError):
    pass


def query(name: str, bulk: bool = False, jedi: bool = True) -> Callable[[QueryFn], QueryFn]:
    """Register ``fn`` as query ``name``; ``bulk``: long search work, run in the search lane;
    ``jedi=False``: it reads none of jedi's or parso's state, so it skips the gate."""

    def register(fn: QueryFn) -> QueryFn:
        QUERIES[name] = fn
        if bulk:
            BULK.add(name)
        if not jedi:
            NO_JEDI.add(name)
        return fn

    return register


def load_all() -> None:
    for module in MODULES:
        importlib.import_module(module)


def is_bulk(target: Any) -> bool:
    """Does a call of ``target`` (a query name or a pickled callable) go to the search lane?"""
    return isinstance(target, str) and target in BULK


def uses_jedi(target: Any) -> bool:
    """Must a call of ``target`` hold the jedi gate (every call but a ``jedi=False`` query)?"""
    return not (isinstance(target, str) and target in NO_JEDI)


def resolve(name: str) -> QueryFn:
    try:
        return QUERIES[name]
    except KeyError:
        raise UnknownQuery(f"the twin has no query named {name!r}") from None

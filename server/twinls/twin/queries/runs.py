"""Twin: the run queries; lenses for a file, start a run, warm up.

``run.start`` forks the run's supervisor right here on the worker thread (so
the run sees exactly the edits sent before it) and then hands the wait to a
thread with ``ctx.detach``: the twin keeps applying edits while a test runs.
"""

from __future__ import annotations

from typing import Any

from ...run import child
from ...shared.collect import Lenses, Unit
from ...shared.paths import root_of
from ...shared.schema import DEFAULTS
from .. import fastconfig, preload
from ..context import CallContext
from .registry import query

DEFAULT_TIMEOUT = DEFAULTS["runTimeout"]


def _lenses(ctx: CallContext) -> Lenses:
    return ctx.state.singleton("run.lenses", lambda: Lenses(ctx.overlay))


@query("run.lenses")
def lenses(ctx: CallContext, path: str) -> list[Unit]:
    """Tests and examples in ``path`` as the editor has it now."""
    return _lenses(ctx).units(path)


@query("run.warm")
def warm(ctx: CallContext) -> list[str]:
    """Import what runs will need (pytest's plugins, the workspace's libraries)."""
    loaded = preload.of(ctx.state).flush()
    fastconfig.prepare()
    return loaded


@query("run.start")
def start(ctx: CallContext, spec: dict[str, Any]) -> None:
    """Run tests or an example in a forked child; stream events, answer with the results.

    ``spec``: ``kind`` ("tests" or "example"), ``path``; for tests ``targets``
    (pytest arguments: paths or node ids) and optional exact ``include`` /
    ``exclude`` node ids; for examples ``qualname`` and ``mode`` ("call" or
    "doctest").
    """
    state = ctx.state
    warmth = preload.of(state)
    warmth.flush()
    fastconfig.prepare()
    timeout = state.settings.get("runTimeout") or DEFAULT_TIMEOUT
    spec = {
        **spec,
        "root": root_of(spec["path"], state.roots),
        "timeout": float(timeout),
        "memory_limit": state.settings.get("runMemoryLimit"),
    }
    handle = child.spawn(state, spec)

    def wait() -> dict[str, Any]:
        result = child.follow(ctx, handle)
        warmth.remember(result.pop("imported", []))
        return result

    ctx.detach(wait)

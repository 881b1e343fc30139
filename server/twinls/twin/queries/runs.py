"""Twin: the run queries; lenses for a file, start a run, warm up.

``run.start`` forks the run's supervisor right here on the worker thread (so
the run sees exactly the edits sent before it) and then hands the wait to a
thread with ``ctx.detach``: the twin keeps applying edits while a test runs.
"""

from __future__ import annotations

from typing import Any

from ...run import child
from ...shared.collect import Lenses, Unit
from ...shared.inspect_schema import PAGE
from ...shared.paths import root_of
from ...shared.schema import DEFAULTS, TestModule
from .. import fastconfig, parked, preload, warm_sessions
from ..context import CallContext
from .registry import query

DEFAULT_TIMEOUT = DEFAULTS["runTimeout"]
DEBUG_TIMEOUT = 24 * 3600.0


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


@query("run.prewarm")
def prewarm(ctx: CallContext, paths: list[str]) -> list[str]:
    """Collect these test files in zygotes now, where there is room; the ones started."""
    preload.of(ctx.state).flush()
    fastconfig.prepare()
    zygotes = warm_sessions.of(ctx.state)
    return [p for p in paths if zygotes.prewarm(p)]


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
    if spec.get("debug"):
        timeout = DEBUG_TIMEOUT  # a test stopped at a breakpoint is not a hung test
    spec = {
        **spec,
        "root": root_of(spec["path"], state.roots),
        "timeout": float(timeout),
        "memory_limit": state.settings.get("runMemoryLimit"),
        **parked.spec_settings(state),
    }
    lot = parked.lot(state)
    key = parked.park_key(spec)
    lot.unpark(key)  # a new run of the same target replaces its parked child
    handle = warm_sessions.of(state).start(spec) or child.spawn(state, spec)

    def wait() -> dict[str, Any]:
        result = child.follow(ctx, handle, lambda h, info: lot.add(h, key, info))
        warmth.remember(result.pop("imported", []))
        return result

    ctx.detach(wait)


@query("run.discover")
def discover(ctx: CallContext) -> list[TestModule]:
    """Every test module of the workspace and its tests (the lenses' ``ast`` index).

    Parametrized cases are one entry each test (their ids need a collection).
    """
    from ...shared.collect import is_test_module

    out = []
    index = _lenses(ctx)
    for path in ctx.overlay.python_files(ctx.state.roots):
        if not is_test_module(path):
            continue
        tests = [u for u in index.units(path) if u["kind"] in ("test", "class")]
        if tests:
            out.append(TestModule(path=path, tests=tests))
    return out


@query("run.unpark")
def unpark(ctx: CallContext, spec: dict[str, Any]) -> int:
    """Let go of the parked children of earlier runs of ``spec``'s target."""
    return parked.lot(ctx.state).unpark(parked.park_key(spec))


@query("run.parked")
def parked_children(ctx: CallContext, slot: int = -1) -> list[Any]:
    """The run children parked with a live result (``twinls.parked``)."""
    return list(parked.lot(ctx.state).listing(slot))


@query("run.inspect")
def inspect(ctx: CallContext, handle: str, offset: int = 0, limit: int = PAGE) -> None:
    """One level of a live result (``twinls.inspect``), asked of its parked child.

    Waited for on a thread: a user's ``__repr__`` may take its time (bounded by
    ``parked.INSPECT_TIMEOUT``); edits keep landing meanwhile.
    """
    lot = parked.lot(ctx.state)
    ctx.detach(lambda: lot.inspect(handle, offset, limit))

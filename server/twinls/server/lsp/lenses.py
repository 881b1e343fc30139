"""Server: the code lens handler and the run commands (their state: ``runs.py``).

A lens's command asks the pool for a run (``server.plan.Run``); while it runs,
each result arriving from the twin updates the progress bar, the failure
diagnostics (published at the failing line, and at each failing subtest's;
cleared once the test passes) and the lens titles (``server/lsp/titles.py``,
refreshed with ``workspace/codeLens/refresh``). The command answers with the
structured result every client renders.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lsprotocol import types

from ...shared import results
from ...shared.collect import enclosing
from ...shared.schema import lens_argument
from .. import stubs
from ..plan import SPLIT_MIN, Run, Target
from . import app
from .debugging import DEBUG, debug_lenses
from .inspect import inspect_lenses
from .progress import WorkDone
from .runs import (
    CANCEL_RUN,
    RUN_AT,
    RUN_EXAMPLE,
    RUN_FILE,
    RUN_FOLDER,
    RUN_TEST,
    Runs,
    lens_key,
)
from .server import TwinLanguageServer

#: Threads that wait for runs (a run may wait a minute; the default pool is small).
WAITERS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="twinls-run")


async def warm(ls: TwinLanguageServer, pool: Any) -> None:
    ls.once_per_twin(pool, stubs.run_warm())


@app.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
async def code_lens(ls: TwinLanguageServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    path = ls.path_of(params.text_document.uri)
    units = await ls.ask(stubs.lenses(path))
    await warm(ls, await ls.twin_pool())
    runs = ls.part(Runs)
    lines = runs.lines(path)
    found = [runs.lens(path, u, lines) for u in units]
    return found + inspect_lenses(runs, path, units, found) + debug_lenses(runs, units, found)


async def run(
    ls: TwinLanguageServer,
    target: Target,
    extra: dict[str, Any] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    runs = ls.part(Runs)
    pool = await ls.twin_pool()
    await warm(ls, pool)
    loop = asyncio.get_running_loop()
    split_min = float(ls.options.get("runSplitMin", SPLIT_MIN))
    bars: list[WorkDone] = []  # filled once the client has made the bar
    streamed: set[str] = set()

    def listener(run: Run, msg: dict[str, Any]) -> None:
        if msg["k"] == "result":
            streamed.add(msg["test"]["nodeid"])
        loop.call_soon_threadsafe(runs.on_event, run, msg, bars)
        if on_event is not None:
            loop.call_soon_threadsafe(on_event, msg)

    # A new run of a target lets go of the live results its last run parked.
    for twin in pool.live():
        pool.call(stubs.run_unpark(target.spec()), twin=twin)
    job = Run(
        pool, target, runs.durations, listener, split_min=split_min, extra=extra, homes=runs.homes
    )
    with runs.flight.track(job, lens_key(target)):
        try:
            job.start()  # first: the bar's round trip to the client need not delay the run
            # Waited in a thread, not awaited: cancelling this task must reach job.cancel.
            waiting = loop.run_in_executor(WAITERS, job.wait)
            runs.schedule_refresh(now=True)
            name = target.qualname or os.path.basename(target.path)
            bar = await WorkDone.begin(ls, None, f"twinls: {name}", message="starting")
            bar.on_cancel(job.cancel)
            bars.append(bar)
            runs.report(job, bars)
            result = await waiting
        except asyncio.CancelledError:
            job.cancel()
            raise
    for entry in result["tests"]:
        if entry["nodeid"] not in streamed:  # made up here: a twin died, pytest refused
            runs.record(job, entry)
    if not job.cancelled:
        runs.clear_scope(target, {t["nodeid"] for t in result["tests"]})
    runs.finished(job, result)
    counts = results.summary_line(result["summary"], result["duration"])
    bar.end(f"{result['outcome']}: {counts}")
    runs.schedule_refresh(now=True)
    return runs.public(result)


async def target_of(ls: TwinLanguageServer, value: Any, kind: str) -> Target:
    """What a command's argument names; a lens's carries it all, a client's may not."""
    arg = lens_argument(value)
    path = ls.workspace_file(arg.uri)
    if kind == "file":
        return Target("file", path)
    qualname = arg.qualname or (arg.name if kind == "example" else None)
    if not qualname and arg.nodeid:
        qualname = arg.nodeid.partition("::")[2]
    if not qualname:
        return Target("file", path)
    if kind == "example" and arg.mode:
        return Target("example", path, qualname, arg.mode)
    if kind == "test" and arg.kind in ("test", "class"):
        return Target(arg.kind, path, qualname)
    # Ask the twin what the name is (a class, or a doctest rather than a call).
    plain = qualname.split("[", 1)[0]
    wanted = ("example",) if kind == "example" else ("test", "class")
    for unit in await ls.ask(stubs.lenses(path)):
        if unit["qualname"] == plain and unit["kind"] in wanted:
            if kind == "example":
                return Target("example", path, qualname, unit["mode"])
            return Target(unit["kind"], path, qualname)
    return (
        Target("example", path, qualname, "call")
        if kind == "example"
        else Target("test", path, qualname)
    )


@app.command(RUN_TEST)
async def run_test(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    return await run(ls, await target_of(ls, args[0] if args else None, "test"))


@app.command(RUN_EXAMPLE)
async def run_example(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    return await run(ls, await target_of(ls, args[0] if args else None, "example"))


@app.command(RUN_FILE)
async def run_file(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    return await run(ls, await target_of(ls, args[0] if args else None, "file"))


@app.command(RUN_FOLDER)
async def run_folder(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    """Every test under a folder: ``[uri]`` or ``[{"uri"}]``; none: the first root."""
    arg = args[0] if args else None
    uri = arg.get("uri") if isinstance(arg, dict) else arg
    pool = await ls.twin_pool()
    path = ls.path_of(uri) if isinstance(uri, str) and uri else pool.roots[0]
    if not os.path.isdir(path):
        raise ValueError(f"not a folder: {uri!r}")
    return await run(ls, Target("folder", path))


@app.command(RUN_AT)
async def run_at(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    """Run the test or example around a position: ``[uri, {"line", "character"}]``."""
    uri, position = args[0], (args[1] if len(args) > 1 else {"line": 0})
    path = ls.workspace_file(uri)
    units = await ls.ask(stubs.lenses(path))
    unit = enclosing(units, int(position["line"]))
    if unit is None:
        if any(u["kind"] == "file" for u in units):
            return await run(ls, Target("file", path))
        return {
            "kind": "test",
            "uri": uri,
            "outcome": "error",
            "duration": 0.0,
            "tests": [],
            "summary": results.summarize([]),
            "message": f"no test or example at line {int(position['line']) + 1}",
        }
    if unit["kind"] == "example":
        return await run(ls, Target("example", path, unit["qualname"], unit["mode"]))
    return await run(ls, Target(unit["kind"], path, unit["qualname"]))


#: Debug runs still going (their tasks, kept so they are not collected).
_debugging: set[asyncio.Future[Any]] = set()


@app.command(DEBUG)
async def debug(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    """A Debug run of a test or example (a lens's argument, or ``[uri, position]``):
    its run child waits for a DAP client; the answer says where to attach
    (``{host, port, pid, runId}``). The run's results arrive as any run's do."""
    arg = args[0] if args else None
    if isinstance(arg, str) and len(args) > 1 and isinstance(args[1], dict):
        path = ls.workspace_file(arg)
        line = int(args[1].get("line", 0))
        unit = enclosing(await ls.ask(stubs.lenses(path)), line)
        if unit is None or unit["kind"] not in ("test", "class", "example"):
            raise ValueError(f"no test or example at line {line + 1}")
        target = Target(unit["kind"], path, unit["qualname"], unit.get("mode", "pytest"))
    else:
        kind = "example" if isinstance(arg, dict) and arg.get("mode") else "test"
        target = await target_of(ls, arg, kind)
    loop = asyncio.get_running_loop()
    where: asyncio.Future[dict[str, Any]] = loop.create_future()

    def on_event(msg: dict[str, Any]) -> None:
        if msg["k"] == "debug" and not where.done():
            where.set_result({k: msg[k] for k in ("host", "port", "pid")})

    task = asyncio.ensure_future(run(ls, target, {"debug": True}, on_event))
    _debugging.add(task)
    task.add_done_callback(_debugging.discard)
    done, _ = await asyncio.wait([where, task], return_when=asyncio.FIRST_COMPLETED)
    if where in done:
        return {**where.result(), "runId": ls.part(Runs).flight.newest()}
    result = task.result()  # it ended before listening: say why
    message = result.get("message") or next(
        (t.get("message") for t in result["tests"] if t.get("message")), None
    )
    raise RuntimeError(f"the Debug run ended before a debugger could attach: {message}")


@app.command(CANCEL_RUN)
async def cancel_run(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    ids = [int(a) for a in args if isinstance(a, (int, float, str)) and str(a).isdigit()]
    return {"cancelled": ls.part(Runs).flight.cancel(ids)}

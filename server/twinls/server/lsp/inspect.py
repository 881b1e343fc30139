"""Server: ``twinls.inspect`` and ``twinls.parked``, live results asked of their twin.

A handle (``shared/inspect_schema.py``) names the twin by its pid, so the
call goes to that twin; a twin that restarted since has no such child, and
the answer says the result is gone (``gone: true``) rather than failing.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from ...shared.inspect_schema import PAGE, HandleParts, Inspected
from .. import stubs
from . import app
from .server import TwinLanguageServer

INSPECT = "twinls.inspect"
PARKED = "twinls.parked"
LENS_TITLE = {True: "$(eye) Inspect", False: "🔍 Inspect"}


def inspect_lenses(
    runs: Any, path: str, units: list[dict[str, Any]], lenses: list[types.CodeLens]
) -> list[types.CodeLens]:
    """An ``Inspect`` lens beside each example's or failed test's lens whose last result
    is live (carries a ``handle``); its command is ``twinls.inspect [handle, what]``,
    which the clients open in their inspector. Only for a client that has one
    (``initializationOptions.inspector: true``): to any other it is a dead lens."""
    found: list[types.CodeLens] = []
    if not runs.ls.options.get("inspector"):
        return found
    codicons = runs.icons.run.startswith("$(")
    for unit, lens in zip(units, lenses, strict=True):
        if unit["kind"] == "example":
            entries = [runs.latest.examples.get(path, {}).get(unit["qualname"])]
        elif unit["kind"] in ("test", "class"):
            latest = runs.latest.tests.get(path, {}).values()
            entries = [e for e in latest if e["qualname"] == unit["qualname"]]
        else:
            continue
        entry = next((e for e in entries if e and e.get("handle")), None)
        if entry is None:
            continue
        command = types.Command(
            title=LENS_TITLE[codicons],
            command=INSPECT,
            arguments=[entry["handle"], {"title": entry["nodeid"]}],
        )
        found.append(types.CodeLens(range=lens.range, command=command))
    return found


def _request(args: tuple[Any, ...]) -> tuple[str, int, int]:
    """``[handle]``, ``[handle, {offset, limit}]`` or ``[{handle, offset, limit}]``."""
    first = args[0] if args else None
    options: dict[str, Any] = {}
    if isinstance(first, dict):
        options, first = first, first.get("handle")
    elif len(args) > 1 and isinstance(args[1], dict):
        options = args[1]
    HandleParts.parse(first)  # a clear error for anything that is not a handle
    offset, limit = options.get("offset", 0), options.get("limit", PAGE)
    if not isinstance(offset, int) or not isinstance(limit, int) or offset < 0 or limit < 1:
        raise ValueError(f"offset and limit must be whole numbers, got {offset!r}, {limit!r}")
    return first, offset, limit


@app.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
async def code_action(
    ls: TwinLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    """``Inspect the failure`` on a failed test's diagnostic whose run child is parked."""
    actions = []
    for diag in params.context.diagnostics:
        data = diag.data if isinstance(diag.data, dict) else {}
        if diag.source != "twinls" or not isinstance(data.get("handle"), str):
            continue
        actions.append(
            types.CodeAction(
                title="Inspect the failure (frames and locals)",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                command=types.Command(
                    title="Inspect",
                    command=INSPECT,
                    arguments=[data["handle"], {"title": diag.message}],
                ),
            )
        )
    return actions


@app.command(INSPECT)
async def inspect(ls: TwinLanguageServer, *args: Any) -> Inspected:
    """One level of a live result: type, repr, attributes, a page of items, mime."""
    handle, offset, limit = _request(args)
    pool = await ls.twin_pool()
    twin_pid = HandleParts.parse(handle).twin
    twin = next((t for t in pool.live() if t.pid == twin_pid), None)
    if twin is None:
        return Inspected(
            handle=handle, gone=True, error="this result is gone: its twin was restarted"
        )
    answer: Inspected = await ls.await_promise(
        pool.call(stubs.run_inspect(handle, offset, limit), twin=twin)
    )
    location = answer.get("location")
    if location:
        answer["location"] = {"uri": ls.uri_of(location["path"]), "line": location["line"]}
    return answer


@app.command(PARKED)
async def parked(ls: TwinLanguageServer, *args: Any) -> list[dict[str, Any]]:
    """Every twin's parked run children (pids, what they ran, memory)."""
    pool = await ls.twin_pool()
    found: list[dict[str, Any]] = []
    for twin in pool.live():
        found.extend(await ls.await_promise(pool.call(stubs.run_parked(twin.slot), twin=twin)))
    return found

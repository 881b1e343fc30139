"""Server: ``Debug`` lenses beside the run lenses of tests and examples.

Their command is ``twinls.debug [lens argument]`` (``lsp/lenses.py``): the client
intercepts it, asks the server, and attaches its debugger to the address the
answer names. Only for clients that say they can (``initializationOptions.debugLens``):
a client without a debugger would get a dead lens.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

DEBUG = "twinls.debug"
TITLE = {True: "$(debug-alt) Debug", False: "⚙ Debug"}


def debug_lenses(
    runs: Any, units: list[dict[str, Any]], lenses: list[types.CodeLens]
) -> list[types.CodeLens]:
    """A ``Debug`` lens beside each test's and example's own lens."""
    if not runs.ls.options.get("debugLens"):
        return []
    codicons = runs.icons.run.startswith("$(")
    found = []
    for unit, lens in zip(units, lenses, strict=True):
        if unit["kind"] not in ("test", "class", "example"):
            continue
        command = types.Command(
            title=TITLE[codicons], command=DEBUG, arguments=lens.command.arguments
        )
        found.append(types.CodeLens(range=lens.range, command=command))
    return found

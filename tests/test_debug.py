"""A Debug run over LSP, attached over DAP: breakpoints hit in text only the editor has.

Real server, real twin, real run child under real debugpy; the debugger is
tests/dap_client.py (VS Code's Python Debugger extension is not installable here).
"""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from lsprotocol import types

from dap_client import DapClient
from lsp_harness import lsp_session

pytest.importorskip("debugpy")

ON_DISK = textwrap.dedent(
    """\
    def total(values):
        return sum(values)
    """
)
#: The editor's text: two lines more, the breakpoint's line exists only here.
IN_EDITOR = textwrap.dedent(
    """\
    def total(values):
        doubled = [2 * v for v in values]
        result = sum(doubled)
        return result
    """
)
TEST = textwrap.dedent(
    """\
    from calc import total


    def test_total():
        assert total([1, 2, 3]) == 12
    """
)


def attach_and_stop(host: str, port: int, path: str, line: int) -> dict:
    """What a debugger sees: the frame stopped at ``path:line`` (1-based) and its locals."""
    dap = DapClient(host, port)
    try:
        dap.request("initialize", adapterID="python", clientID="twinls-test", pathFormat="path",
                    linesStartAt1=True, columnsStartAt1=True)  # fmt: skip
        attach = dap.send("attach", justMyCode=False)
        dap.event("initialized")
        bps = dap.request("setBreakpoints", source={"path": path}, breakpoints=[{"line": line}])
        dap.request("configurationDone")
        dap.response(attach)
        stopped = dap.event("stopped")
        stack = dap.request("stackTrace", threadId=stopped["threadId"], levels=1)
        frame = stack["stackFrames"][0]
        (scope, *_) = dap.request("scopes", frameId=frame["id"])["scopes"]
        names = dap.request("variables", variablesReference=scope["variablesReference"])
        dap.request("continue", threadId=stopped["threadId"])
        dap.event("terminated")  # the run ended: said over DAP, not a dropped socket
        return {
            "verified": [b["verified"] for b in bps["breakpoints"]],
            "reason": stopped["reason"],
            "frame": (frame["source"]["path"], frame["line"], frame["name"]),
            "locals": {v["name"]: v["value"] for v in names["variables"]},
        }
    finally:
        dap.close()


async def test_a_debug_run_stops_at_a_breakpoint_in_unsaved_text(tmp_path):
    (tmp_path / "calc.py").write_text(ON_DISK)
    (tmp_path / "test_calc.py").write_text(TEST)
    async with lsp_session(tmp_path) as client:
        client.open("calc.py", IN_EDITOR)
        uri = client.open("test_calc.py")
        where = await client.command("twinls.debug", uri, {"line": 4})
        assert where["host"] == "127.0.0.1" and where["port"] > 0
        path = str(tmp_path / "calc.py")
        seen = await asyncio.to_thread(attach_and_stop, where["host"], where["port"], path, 4)
        assert seen["verified"] == [True] and seen["reason"] == "breakpoint"
        assert seen["frame"] == (path, 4, "total")
        assert seen["locals"]["result"] == "12" and seen["locals"]["doubled"] == "[2, 4, 6]"

        # The run goes on after `continue`: its result shows as any run's, in the lens
        # title (the test passes with the editor's text; on disk it would fail).
        async def title() -> str:
            lenses = await client.text_document_code_lens_async(
                types.CodeLensParams(types.TextDocumentIdentifier(uri=uri))
            )
            return next(ln.command.title for ln in lenses if ln.range.start.line == 3)

        deadline = asyncio.get_running_loop().time() + 60
        while (text := await title()).startswith(("▶", "…")):
            assert asyncio.get_running_loop().time() < deadline, text
            await asyncio.sleep(0.1)
        assert text.startswith("✓"), text

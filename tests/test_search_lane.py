"""The search lane: interactive requests never wait behind a search.

Checked by the order of answers, never by wall times: a hover, an outline and
lenses are answered while a references search is provably still running, and
over the Python API, interactive calls and edits are served while a bulk call
that never ends by itself runs. jedi is not thread-safe, so an interactive call
waits for the search to reach its next safe point (one name or one file,
``twin/gate.py``): the search here has thousands of names left to resolve one by
one when the requests arrive, so it cannot end before they are answered.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_harness import lsp_session
from twinls import Twin

HUB = "def target(value=None):\n    return value\n"
USES_PER_LINE = 10
LINES = 600  # one big file (its uses share one meaning: resolved once)
SLOW = 1500  # functions each importing the target for itself: every use resolved alone


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lane")
    (root / "hub.py").write_text(HUB)
    calls = " + ".join(f"target({i})" for i in range(USES_PER_LINE))
    body = "".join(f"    x{n} = {calls}\n" for n in range(LINES))
    (root / "huge.py").write_text(f"from hub import target\n\n\ndef use():\n{body}")
    slow = "".join(
        f"def use{n}():\n    from hub import target\n\n    return target({n})\n\n\n"
        for n in range(SLOW)
    )
    (root / "slow.py").write_text(slow)
    (root / "small.py").write_text('import os\n\n\ndef helper():\n    """Help."""\n    return 1\n')
    (root / "test_small.py").write_text("def test_one():\n    assert True\n")
    return root


async def test_hover_outline_and_lenses_answer_while_a_search_runs(workspace):
    expected = 1 + 1 + LINES * USES_PER_LINE + 2 * SLOW  # the def, the imports, every call
    async with lsp_session(workspace) as client:  # one twin: the search and the rest share it
        refs = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_REFERENCES,
                types.ReferenceParams(
                    text_document=types.TextDocumentIdentifier(uri=client.uri("hub.py")),
                    position=types.Position(0, 5),
                    context=types.ReferenceContext(include_declaration=True),
                    partial_result_token="refs",
                ),
            )
        )
        # hub.py's batch is out: the twin is now resolving huge.py, file by file's end.
        await client.wait_for(lambda: client.progress_values.get("refs"), what="a first batch")
        small = types.TextDocumentIdentifier(uri=client.uri("small.py"))
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=small, position=types.Position(3, 6))
        )
        outline = await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=small)
        )
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(
                text_document=types.TextDocumentIdentifier(uri=client.uri("test_small.py"))
            )
        )
        assert not refs.done(), "an interactive request waited for the search"
        assert hover is not None and "Help." in hover.contents.value
        assert [s.name for s in outline] == ["helper"]
        assert lenses and any(
            "Run" in (lens.command.title if lens.command else "") for lens in lenses
        )
        assert not await refs
        locations = [loc for batch in client.progress_values["refs"] for loc in batch]
        spots = {
            (loc["uri"], loc["range"]["start"]["line"], loc["range"]["start"]["character"])
            for loc in locations
        }
        assert len(locations) == len(spots) == expected


def test_interactive_calls_and_edits_pass_a_running_bulk_call(tmp_path):
    (tmp_path / "m.py").write_text("one\n")
    with Twin.start(tmp_path, settings={}) as twin:
        search = twin.call("sleep.bulk", 120)  # a search that never ends by itself
        next(search.partials(timeout=30))  # it is running
        queued = twin.call("sleep.bulk", 0)  # the lane runs bulk calls in order
        twin.edit(tmp_path / "m.py", "two\n")
        assert twin.call("read", str(tmp_path / "m.py")).result(30) == "two\n"
        assert twin.run_remotely(lambda: "a pickled call is interactive").result(30)
        assert not search.done() and not queued.done()
        assert search.cancel()
        assert queued.result(30) == 0

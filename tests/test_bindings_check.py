"""The ``ast`` binding lane agrees with jedi on the standard library, over real LSP.

Three fresh servers on the stdlib as the workspace ask the same references
questions: with the lane off (jedi alone), on, and on in check mode (jedi
also resolves every use the lane decided, and counts any disagreement in
``twinls.status``). The lane must decide uses (or it saves nothing), agree with
jedi on each, and leave every answer exactly as jedi alone gives it. The names:
a rare function (``shutil.copyfileobj``, imported and used as ``shutil.x``), one
of a package's submodule (``json.decoder.py_scanstring``), ``posixpath.commonpath``
(reached as ``os.path.commonpath``: platform branches, star imports, and
``ntpath.commonpath``, which typeshed's stub imports from ``posixpath``), and one
re-exported by a package's ``__init__`` (``concurrent.futures.as_completed``).
Names used thousands of times (``os.path.join``) would take minutes with jedi alone.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_harness import TwinClient, lsp_session

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
#: (file under the stdlib, the def's line starts with)
NAMES = [
    ("shutil.py", "def copyfileobj("),
    ("json/decoder.py", "def py_scanstring("),
    ("posixpath.py", "def commonpath("),
    ("concurrent/futures/_base.py", "def as_completed("),
]
Spots = set[tuple[str, int, int]]


def position(rel: str, anchor: str) -> types.Position:
    lines = (STDLIB / rel).read_text().splitlines()
    line = next(i for i, text in enumerate(lines) if text.startswith(anchor))
    return types.Position(line, lines[line].index(anchor.split()[1].rstrip("(")))


async def refs(client: TwinClient, rel: str, pos: types.Position) -> Spots:
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=(STDLIB / rel).as_uri()),
            position=pos,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    return {(loc.uri, loc.range.start.line, loc.range.start.character) for loc in found or []}


async def answers(env: dict[str, str]) -> tuple[dict[str, Spots], dict[str, Any]]:
    """Every name's references from a fresh server with ``env``, and its twins' jedi counts."""
    async with lsp_session(STDLIB, env=env) as client:
        found = {rel: await refs(client, rel, position(rel, anchor)) for rel, anchor in NAMES}
        status = await client.status()
    counts: dict[str, int] = {}
    for twin in status["twins"]:
        for key, value in twin["jedi"].items():
            counts[key] = counts.get(key, 0) + value
    return found, counts


async def test_the_lane_agrees_with_jedi_and_changes_no_answer():
    alone, off = await answers({"TWINLS_BINDINGS": "0"})
    checked, check = await answers({"TWINLS_BINDINGS": "1", "TWINLS_CHECK_BINDINGS": "1"})
    lane, on = await answers({"TWINLS_BINDINGS": "1"})
    assert off["lane_decided"] == 0  # off is off
    for rel, _ in NAMES:
        assert alone[rel], rel  # a real question: jedi finds uses
        assert checked[rel] == alone[rel], (rel, checked[rel] ^ alone[rel])
        assert lane[rel] == alone[rel], (rel, sorted(lane[rel] ^ alone[rel]))
    assert check["lane_decided"] > 0 and check["lane_disagreed"] == 0, check
    assert on["lane_decided"] > 0 and on["lane_files"] > 0, on

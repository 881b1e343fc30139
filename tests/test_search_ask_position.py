"""References of one method asked at its def and at a use: one answer (real LSP, real twins).

Found by ``tests/bench/bench_search.py --project pyparsing`` (issue 10): on
pyparsing 3.3.3, ``ParserElement.parse_string`` asked at its def found 439
locations, asked at a call in ``tests/test_unit.py`` 489, in one session, each
repeat identical to its own first answer. The def's answer missed true calls
such as ``pp.CaselessKeyword("START").parse_string(...)`` that plain jedi's
``goto`` (the bench's ground truth), pyright and basedpyright take to the same
def, and ``twinls.status`` counted no give-up for most of them. The cause: a
file's uses are resolved in one jedi state, and jedi's count of how often each
node was inferred (capped at 300, then nothing, silently) ran on from use to
use; at the def, one heavy use (``test_unit.py:1685``) was resolved too and
used the cap up for 21 later calls (``jedi_compat.CountingState`` now resets it
per name). The workspace here is the part of the sdist that shows it: the
package and ``tests/test_unit.py`` (before the fix: 302 at the def, 323 at the
use, in either order).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_harness import lsp_session
from recall_truth import fetch_sdist

PYPARSING = ("pyparsing", "3.3.3")
USE = "expr.parse_string(test_string, parse_all=True)"  # a call in tests/test_unit.py


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    sdist = fetch_sdist(tmp_path_factory.mktemp("sdist"), PYPARSING)
    root = tmp_path_factory.mktemp("pyparsing")
    shutil.copytree(sdist / "pyparsing", root / "pyparsing")
    (root / "tests").mkdir()
    shutil.copy(sdist / "tests" / "test_unit.py", root / "tests" / "test_unit.py")
    return root


def position(root: Path, rel: str, text: str, name: str, after: str = "") -> types.Position:
    """The first line holding ``text`` (after one starting with ``after``), at ``name``."""
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after)) if after else 0
    line = next(i for i in range(start, len(lines)) if text in lines[i])
    return types.Position(line, lines[line].index(text) + text.index(name))


@pytest.mark.timeout(900)
async def test_references_at_the_def_equal_those_at_a_use(workspace):
    def_at = position(
        workspace, "pyparsing/core.py", "def parse_string(", "parse_string", "class ParserElement("
    )
    use_at = position(workspace, "tests/test_unit.py", USE, "parse_string")
    answers = {}
    async with lsp_session(workspace, {"pool": 2}) as client:
        for rel, at in (("pyparsing/core.py", def_at), ("tests/test_unit.py", use_at)):
            found = await client.text_document_references_async(
                types.ReferenceParams(
                    text_document=types.TextDocumentIdentifier(uri=client.uri(rel)),
                    position=at,
                    context=types.ReferenceContext(include_declaration=True),
                )
            )
            answers[rel] = {(loc.uri, loc.range.start.line) for loc in found or []}
    at_def, at_use = answers["pyparsing/core.py"], answers["tests/test_unit.py"]
    assert (client.uri("tests/test_unit.py"), use_at.line) in at_use
    assert at_def == at_use, (
        f"at the def {len(at_def)}, at a use {len(at_use)}: only at the use "
        f"{sorted(line + 1 for _, line in at_use - at_def)[:8]}, only at the def "
        f"{sorted(line + 1 for _, line in at_def - at_use)[:8]}"
    )

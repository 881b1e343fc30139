"""The same references request, repeated, gives the same answer: on real code nobody here wrote.

The workspace is the installed jedi package (~100 files, methods called on
inferred objects everywhere: the case where a shared jedi state used to decay,
380 -> 175 -> 1 on the standard library). Five repeats over two twins (so the
files are dealt and stolen differently each time), with other searches and an
edit that does not touch the answer in between; every repeat is compared, not
only the first.
"""

from __future__ import annotations

import os
from pathlib import Path

import jedi
import pytest
from lsprotocol import types

from lsp_harness import TwinClient, lsp_session

JEDI = Path(os.path.dirname(jedi.__file__)).resolve()
FILE = "inference/base_value.py"


def where(rel: str, needle: str) -> tuple[str, types.Position]:
    lines = (JEDI / rel).read_text().split("\n")
    line = next(i for i, s in enumerate(lines) if needle in s)
    return rel, types.Position(line, lines[line].index(needle) + len("    def "))


async def refs(client: TwinClient, rel: str, pos: types.Position) -> set[tuple[str, int, int]]:
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri(rel)),
            position=pos,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    return {(loc.uri, loc.range.start.line, loc.range.start.character) for loc in found or []}


@pytest.mark.timeout(900)  # ~4 min on a machine shared by five test suites, ~1 alone
async def test_five_repeats_give_identical_answers_on_the_jedi_package(tmp_path):
    method = where(FILE, "    def execute_with_values(self, *value_list)")
    other = where(FILE, "    def is_stub(self)")
    async with lsp_session(JEDI, {"pool": 2}) as client:
        answers = []
        for i in range(5):
            answers.append(await refs(client, *method))
            if i == 1:  # another search in between: what it infers must not change ours
                assert await refs(client, *other)
            if i == 2:  # an edit that does not touch the answer (a new state afterwards)
                client.open(tmp_path / "scratch.py", "x = 1\n")
        # What plain jedi (a Script per file, goto) finds: the def, its call at line 63
        # in the same file, and two calls on inferred objects in other modules.
        truth = {
            (FILE, 56, 8),
            (FILE, 62, 20),
            (FILE, 508, 36),
            ("inference/compiled/value.py", 392, 33),
        }
        root = JEDI.as_uri() + "/"
        first = {(uri.removeprefix(root), line, col) for uri, line, col in answers[0]}
        assert truth <= first, sorted(truth - first)
        for n, answer in enumerate(answers[1:], 2):
            assert answer == answers[0], (
                f"repeat {n}: missing {sorted(answers[0] - answer)[:5]}, "
                f"extra {sorted(answer - answers[0])[:5]}"
            )
        status = await client.status()
        for twin in status["twins"]:  # jedi giving up is counted, never silent
            assert set(twin["jedi"]) == {"retried", "gave_up", "failed"}

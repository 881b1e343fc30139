"""References recall on a real third-party project, names chosen at random (seeded).

The project is an sdist fetched from PyPI (``recall_truth.PROJECT``: click, src
layout, its own tests), so the names are nobody's pick here. For each sampled
definition, twinls's answer over real LSP (two twins) must equal what plain
jedi finds with a ``Script`` per file (``recall_truth.truth_references``): every
true location, no false one. CI takes a small sample of names spelled at most
:data:`MAX_SPELLINGS` times (the truth costs a jedi ``goto`` per spelling);
``tests/bench/bench_search.py --project N`` runs a few hundred.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_harness import lsp_session
from recall_truth import fetch_sdist, python_files, sample_names, truth_references

SEED = 20261201
NAMES = 8
MAX_SPELLINGS = 30


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return fetch_sdist(tmp_path_factory.mktemp("sdist"))


def spellings(root: Path, word: str) -> int:
    pattern = re.compile(rf"\b{re.escape(word)}\b")
    return sum(len(pattern.findall(p.read_text(encoding="utf-8"))) for p in python_files(root))


@pytest.mark.timeout(900)
async def test_references_equal_plain_jedi_on_random_names_of_a_pypi_project(project):
    candidates = sample_names(project, 200, SEED)
    names = [c for c in candidates if spellings(project, c[3]) <= MAX_SPELLINGS][:NAMES]
    assert len(names) == NAMES
    truths = {c: truth_references(project, *c[:3]) for c in names}
    root = project.resolve().as_uri() + "/"
    async with lsp_session(project, {"pool": 2}) as client:
        for rel, line, col, name in names:
            found = await client.text_document_references_async(
                types.ReferenceParams(
                    text_document=types.TextDocumentIdentifier(uri=client.uri(rel)),
                    position=types.Position(line, col),
                    context=types.ReferenceContext(include_declaration=True),
                )
            )
            got = {
                (loc.uri.removeprefix(root), loc.range.start.line, loc.range.start.character)
                for loc in found or []
            }
            truth = truths[(rel, line, col, name)]
            assert truth, f"{name}: the ground truth lost its own definition"
            assert got == truth, (
                f"{name} ({rel}:{line + 1}): missed {sorted(truth - got)[:5]}, "
                f"false {sorted(got - truth)[:5]}"
            )

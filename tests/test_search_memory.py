"""A twin's memory is bounded during a search: parso keeps at most the cap's trees (issue 10).

parso keeps every tree it parsed in memory, so a twin held the tree of every
file a search resolved with jedi (a standard-library search's twin grew to
~500 MiB). Between a search's files the twin lets go of all but the most
recently used (``TWINLS_PARSO_TREES``, ``JediWorld.trim_trees``) and the open
documents'. The workspace here makes every file go to jedi (a method called on
an object a function returns: the ``ast`` lane defers those), so without the
bound the twin keeps a tree per file; the answers with and without the bound,
and across repeats that each start from a new overlay generation (so every
file is resolved again, its tree parsed again), are the same set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_harness import lsp_session

FILES = 30
CAP = 6
HUB = """class Hub:
    def target(self):
        return 1


def make():
    return Hub()
"""


def write(root: Path) -> Path:
    """``hub.py`` and ``FILES`` modules that each call ``make().target`` twice."""
    (root / "hub.py").write_text(HUB)
    for i in range(FILES):
        (root / f"user_{i:03}.py").write_text(
            f"from hub import make\n\n\ndef use_{i}():\n"
            "    h = make()\n    h.target()\n    return make().target()\n"
        )
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("trees"))


async def searches(workspace: Path, cap: int) -> tuple[list[set], dict]:
    """Three searches, each after an edit that does not touch the answer; the last status."""
    async with lsp_session(workspace, env={"TWINLS_PARSO_TREES": str(cap)}) as client:
        client.open("hub.py")
        answers = []
        for i in range(3):
            client.open(f"scratch_{i}.py", "x = 1\n")  # a new generation: every file again
            answers.append(await client.references("hub.py", 1, 9))
        return answers, (await client.status())["twins"][0]["jedi"]


@pytest.mark.timeout(600)
async def test_a_search_keeps_at_most_the_cap_of_parso_trees_and_the_same_answer(workspace):
    bounded, stats = await searches(workspace, CAP)
    unbounded, free = await searches(workspace, 0)
    expected = {("hub.py", 1, 8)} | {
        (f"user_{i:03}.py", line, col) for i in range(FILES) for line, col in ((5, 6), (6, 18))
    }
    assert unbounded[0] == expected
    for n, answer in enumerate(bounded + unbounded[1:]):
        assert answer == expected, (n, sorted(expected - answer)[:3], sorted(answer - expected)[:3])
    # Without the bound the twin keeps a tree per file it resolved: the bound is what holds.
    assert free["trees"] > FILES and free["trees_dropped"] == 0, free
    # With it: the cap, the open documents' (hub.py and the scratch files), and none more.
    assert stats["trees"] <= CAP + 4, stats
    assert stats["trees_dropped"] >= 3 * (FILES - CAP), stats


@pytest.mark.timeout(300)
async def test_every_twin_is_forked_with_the_servers_heap_frozen(workspace):
    """Its collections then skip what it shares with the server and the other twins, so a
    search does not copy those pages (a twin's shared pages fell from 49 to 20 MiB after
    one standard-library search with the heap not frozen)."""
    async with lsp_session(workspace) as client:
        client.open("hub.py")
        assert await client.references("hub.py", 1, 9)
        status = await client.status()
    twins = status["twins"] + status["lanes"]
    assert twins
    for twin in twins:
        memory = twin["memory"]
        assert memory["frozen"] > 10_000, memory  # the server's modules, at least
        assert 0 < memory["shared"] <= memory["rss"], memory

"""Sharded searches through the Python API: every file searched once, whatever the hand-backs.

A zero time budget makes every chunk stop after one file and hand the rest
back, the most the dealing between two twins can be stressed.
"""

from __future__ import annotations

from twinls import Twin

HUB = "def target():\n    pass\n"
FILES = 40


def test_every_file_is_searched_once_with_hand_backs(tmp_path):
    (tmp_path / "hub.py").write_text(HUB)
    for i in range(FILES):
        (tmp_path / f"u{i}.py").write_text("from hub import target\n\ntarget()\ntarget()\n")
    with Twin.start(tmp_path, size=2) as twin:
        plan = twin.call("search.refs_plan", str(tmp_path / "hub.py"), 0, 5, "utf-16").result(60)
        assert len(plan["files"]) == FILES + 1
        for _ in range(3):
            promise = twin.pool.call_sharded(
                "search.refs_in", plan["files"], plan["name"], plan["keys"], "utf-16", True, 0.0
            )
            found = [tuple(loc) for batch in promise.partials(timeout=60) for loc in batch]
            assert promise.result(60) == {"done": FILES + 1, "total": FILES + 1}
            assert len(found) == len(set(found)) == 1 + 3 * FILES

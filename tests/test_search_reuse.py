"""A def's references asked again at a use reuse what every other file resolved (real LSP).

Asked at a use, jedi's target also holds the use itself, so it is another
target than the def's; each file's answer used to be kept under the whole
target, and the second ask resolved every use of every file again (pyparsing's
``ParserElement.parse_string``: 4.5 s of jedi at a use right after 16 s at the
def, issue 10). What a file's uses resolve to depends on the texts, the name and
the target's positions in that file alone, so now only the asking file is
resolved again. Nor does opening a file whose text is the one on disk (the
editor opening the file asked at) drop what was kept: only a change does. Seen
by the user in ``twinls.status``: ``lane_deferred`` counts the uses sent to jedi.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_harness import TwinClient, lsp_session

HUB = "class Engine:\n    def run(self):\n        return 1\n\n\ndef make():\n    return Engine()\n"
#: Uses jedi must infer (a call's result, a module-level name bound to one): the lane defers.
USER = "from hub import make\n\ne = make()\ne.run()\n\n\ndef f():\n    return make().run()\n"
USERS = 6
#: The file asked at: its second line's use is the cursor, its third another use.
CALLER = "from hub import Engine\n\nEngine().run()\nEngine().run()\n"


async def deferred(client: TwinClient) -> int:
    return sum(t["jedi"]["lane_deferred"] for t in (await client.status())["twins"])


@pytest.mark.parametrize("pool", [1, 2])  # 2: each file goes back to the twin that kept it
async def test_a_use_after_the_def_resolves_only_its_own_file_again(tmp_path: Path, pool: int):
    (tmp_path / "hub.py").write_text(HUB)
    for i in range(USERS):
        (tmp_path / f"user_{i}.py").write_text(USER)
    (tmp_path / "caller.py").write_text(CALLER)
    async with lsp_session(tmp_path, {"pool": pool}) as client:
        at_def = await client.references("hub.py", 1, 8)
        after_def = await deferred(client)
        client.open("caller.py")  # as an editor does: the text on disk, so nothing changed
        client.open("user_0.py")
        at_use = await client.references("caller.py", 2, 9)
        after_use = await deferred(client)
        client.open("scratch.py", "x = 1\n")  # an unsaved new file: a change, all goes
        again = await client.references("caller.py", 2, 9)
        after_edit = await deferred(client)
    uses = {(f"user_{i}.py", line, col) for i in range(USERS) for line, col in ((3, 2), (7, 18))}
    assert uses <= at_def, sorted(uses - at_def)
    assert {("caller.py", 2, 9), ("caller.py", 3, 9)} <= at_def
    assert at_use == at_def, (sorted(at_use - at_def), sorted(at_def - at_use))
    assert after_def >= 2 * USERS + 2  # every use went to jedi once
    assert after_use - after_def == 1  # caller.py's other use; the users' were kept
    assert again == at_use
    assert after_edit - after_use >= 2 * USERS + 1  # resolved again: the counter counts work

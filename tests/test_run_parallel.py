"""A file run with a history is split across the twin pool; new tests still run."""

from __future__ import annotations

import asyncio

from lsp_harness import lsp_session

SLOW = "import time\n\n" + "".join(f"\ndef test_{i}():\n    time.sleep(0.05)\n\n" for i in range(6))


async def test_a_file_run_is_split_across_twins_by_recorded_durations(tmp_path):
    (tmp_path / "test_slow.py").write_text(SLOW)
    async with lsp_session(tmp_path, {"pool": 2, "runSplitMin": 0}) as client:
        uri = client.uri("test_slow.py")
        for _ in range(600):  # the session waits for one twin; a split needs both
            if (await client.status())["pool"]["live"] == 2:
                break
            await asyncio.sleep(0.05)
        first = await client.command("twinls.runFile", uri)
        assert first["outcome"] == "passed" and len(first["twins"]) == 1  # no history yet

        # A test that exists only in the editor: no duration recorded, still run.
        client.open("test_slow.py", SLOW + "\ndef test_new():\n    pass\n")
        second = await client.command("twinls.runFile", uri)
        assert second["outcome"] == "passed"
        names = sorted(t["name"] for t in second["tests"])
        assert names == sorted([f"test_{i}" for i in range(6)] + ["test_new"])
        assert second["twins"] == [0, 1]
        assert {t["twin"] for t in second["tests"]} == {0, 1}

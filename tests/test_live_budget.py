"""The live-run budget over a real LSP pipe: never more than ``liveMax`` children at once."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lsp_harness import TwinClient, lsp_session
from test_live import T, listen, outcomes

#: A test that says it started, then waits until the test above it releases it.
BLOCKS = textwrap.dedent(
    """\
    import pathlib
    import time

    HERE = pathlib.Path(__file__).parent.parent  # the folders' parent


    def test_{name}():
        (HERE / "started-{name}").touch()
        while not (HERE / "release").exists():
            time.sleep(0.01)
    """
)

NAMES = ["a", "b", "c", "d"]


async def live(client: TwinClient) -> dict[str, Any]:
    return (await client.command("twinls.status"))["live"]


async def until(
    client: TwinClient, pred: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The live block once ``pred`` holds (polled; fails with ``what`` after ``T``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + T
    while not pred(status := await live(client)):
        assert loop.time() < deadline, f"timed out waiting for {what}: {status}"
        await asyncio.sleep(0.05)
    return status


@pytest.mark.parametrize("most", [1, 2])
async def test_a_live_run_never_has_more_children_than_live_max(tmp_path: Path, most: int) -> None:
    # Two workspace folders of two test files each: more work than the budget, so children
    # wait their turn (liveMax 1: one per folder; 2: each folder cut in two).
    folders = [tmp_path / "one", tmp_path / "two"]
    for i, name in enumerate(NAMES):
        folders[i // 2].mkdir(exist_ok=True)
        (folders[i // 2] / f"test_{name}.py").write_text(BLOCKS.format(name=name))
    options = {"liveTests": True, "liveMax": most}
    async with lsp_session(tmp_path, init_options=options, folders=folders) as client:
        notes = listen(client)
        client.open("one/test_a.py")
        # The baseline run's tests block: as many children as the budget allows start,
        # each on its first test, and no more.
        started = lambda: sorted(p.name for p in tmp_path.glob("started-*"))  # noqa: E731
        await client.wait_for(lambda: len(started()) >= most, what="children started", timeout=T)
        status = await live(client)
        assert status["on"] is True and status["liveMax"] == most
        assert status["running"] == most
        assert status["peak"] == most
        assert status["waiting"] == most  # 2 * most children: the budget holds most back
        # Collected by the running children, none finished (the "collected" events may
        # reach the server after the tests started: polled, no timing asserted).
        status = await until(client, lambda st: st["queued"] == 2, "2 tests queued")
        assert status["running"] == most and status["peak"] == most
        assert len(started()) == most  # one blocked test per child, no more children

        (tmp_path / "release").touch()
        await client.wait_for(lambda: notes, what="the baseline run's results", timeout=T)
        assert outcomes(notes[0]) == {f"test_{n}.py::test_{n}": "passed" for n in NAMES}
        status = await live(client)
        assert status["peak"] == most  # never more at once, and the budget was used
        assert status["running"] == 0 and status["waiting"] == 0 and status["queued"] == 0
        assert status["runs"] == 1 and status["cancelled"] == 0

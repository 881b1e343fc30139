"""A failing test's diagnostic arrives as it fails, not when its run (or its teardown) ends.

Over a real LSP pipe: ``test_one`` fails in its call, and its fixture's teardown
then blocks reading a FIFO outside the workspace, which only this test writes
(so the run cannot go on until the test says); ``test_two`` passes after it.
The diagnostic at ``test_one``'s failing line must arrive while that teardown
is still blocked: the run child's ``failing`` event (``run/pytest_plugin.py``)
is published at once (``server/lsp/runs.py``); the ``result`` comes after the
teardown. Order of events only: nothing waits on a timer.
"""

from __future__ import annotations

import asyncio
import errno
import os
import textwrap
from pathlib import Path

from lsp_harness import lsp_session

T = 180.0

TESTS = """\
import pytest

GATE = {gate!r}


@pytest.fixture
def gated():
    yield
    with open(GATE) as f:  # blocks until the LSP test opens the FIFO to write
        f.read()


def test_one(gated):
    assert 1 == 2


def test_two():
    assert True
"""


def release(gate: Path) -> bool:
    """Let a reader blocked on ``gate`` go on (False: nobody was reading it)."""
    try:
        fd = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            return False
        raise
    os.close(fd)
    return True


async def test_a_failure_is_published_before_its_teardown_ends(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "test_gated.py").write_text(textwrap.dedent(TESTS).format(gate=str(gate)))
    async with lsp_session(root, init_options={"runTimeout": 120}) as client:
        uri = client.uri("test_gated.py")
        run = asyncio.ensure_future(client.command("twinls.runFile", {"uri": uri}))
        try:
            diags = await client.wait_for(
                lambda: client.diagnostics.get(uri), what="test_one's diagnostic", timeout=T
            )
            assert not run.done()  # test_one's teardown still blocks on the gate
            [diag] = diags
            assert diag.message.startswith("test_one: assert 1 == 2")
            assert diag.range.start.line == TESTS.splitlines().index("    assert 1 == 2")
            # Its teardown opens the gate after the failure was said: let it go once it reads.
            await client.wait_for(lambda: release(gate), what="the teardown at the gate", timeout=T)
            result = await asyncio.wait_for(run, T)
        finally:
            release(gate)
            if not run.done():
                run.cancel()
        outcomes = {t["nodeid"]: t["outcome"] for t in result["tests"]}
        assert outcomes == {
            "test_gated.py::test_one": "failed",
            "test_gated.py::test_two": "passed",
        }
        [diag] = client.diagnostics[uri]  # the result's, in place of the early one
        assert diag.message.startswith("test_one: assert 1 == 2")

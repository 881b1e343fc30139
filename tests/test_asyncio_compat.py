"""Canary for asyncio's private API (twin/asyncio_compat.py): a fork forgets its parent's loop."""

from __future__ import annotations

import asyncio
import asyncio.events
import threading

from twinls.twin import asyncio_compat


def test_set_running_loop_is_where_we_expect_it():
    assert callable(asyncio.events._set_running_loop)


def test_after_forgetting_a_running_loop_asyncio_run_works():
    """As in a twin forked on the loop's thread: asyncio.run refuses until it forgets."""
    outcome: dict = {}

    async def inside() -> None:
        early = asyncio.sleep(0)
        try:
            asyncio.run(early)
        except RuntimeError as exc:
            outcome["before"] = str(exc)
            early.close()
        asyncio_compat.forget_running_loop()
        outcome["after"] = asyncio.run(asyncio.sleep(0, "ran"))

    thread = threading.Thread(target=lambda: asyncio.new_event_loop().run_until_complete(inside()))
    thread.start()
    thread.join(30)
    assert "running event loop" in outcome["before"]
    assert outcome["after"] == "ran"

"""Twin: asyncio's private API, in one place (a forked child forgets its parent's loop).

A twin forked on the server's event-loop thread still believes that loop runs
there, so a user's ``asyncio.run`` in a query or test would refuse to start.
``asyncio.events._set_running_loop`` is the one way to say otherwise;
``tests/test_asyncio_compat.py`` is its canary.
"""

from __future__ import annotations

import asyncio.events


def forget_running_loop() -> None:
    asyncio.events._set_running_loop(None)

"""Shared: the messages between the server and a zygote (the twin starter), typed.

The zygote speaks on its own control socket, apart from the twins' channel
(``shared/frames.py`` kinds are in docs/architecture.md): one packet per message,
encoded as a channel frame.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class ZygoteHello(TypedDict):
    """zygote → server, once preloaded: who it is (``zygote.describe``)."""

    k: Literal["zygote"]
    pid: int
    info: dict[str, Any]


class ZygoteFork(TypedDict):
    """server → zygote, with the twin's socket as an ``SCM_RIGHTS`` fd."""

    k: Literal["fork"]
    slot: int
    roots: list[str]
    settings: dict[str, Any]


class ZygoteForked(TypedDict):
    """zygote → server: the new twin's pid."""

    k: Literal["forked"]
    pid: int

"""Twin: queries every twin answers, its status and small probes the tests lean on."""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any

from ...shared.textbuf import text_sha256
from .. import warm_sessions
from ..context import CallContext
from ..warm import WARM_MODULES
from . import index, jedi_world
from .registry import query


@query("status", jedi=False)  # (counters and lengths only: never waits for a search unit)
def status(ctx: CallContext) -> dict[str, Any]:
    """What the twin holds, so a client can check it matches the server byte for byte."""
    st = ctx.state
    return {
        "pid": os.getpid(),
        "uptime": time.time() - st.started,
        "seq": st.applied_seq,
        "overlay_files": len(st.overlay.docs),
        "deleted": sorted(st.overlay.deleted),
        "hashes": {p: text_sha256(t) for p, t in st.overlay.texts().items()},
        "warm": [m for m in WARM_MODULES if m in sys.modules],
        "python": python_info(),
        "skipped": dict(sorted(st.overlay.skipped.items())),
        "jedi": jedi_world.stats(st),
        "index": index.stats(st),
        "zygotes": warm_sessions.of(st).listing(),
        "memory": memory(),
    }


def memory() -> dict[str, int]:
    """The twin's pages in bytes (``rss``, of which ``shared`` with the server and the other
    twins, ``pss`` its share of the machine's) and the objects its collections skip
    (``frozen``: the heap frozen over its fork keeps the shared pages shared)."""
    out = {"frozen": gc.get_freeze_count()}
    fields = {"Rss": "rss", "Pss": "pss", "Shared_Clean": "shared", "Shared_Dirty": "shared"}
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in fields:
                    name = fields[key]
                    out[name] = out.get(name, 0) + int(rest.split()[0]) * 1024
    except OSError:  # not Linux
        pass
    return out


def python_info() -> dict[str, Any]:
    """The twin's interpreter as the zygote described it (forked from the server: itself)."""
    from .. import zygote

    if zygote.INFO:
        return dict(zygote.INFO)
    info = zygote.describe(pytest_fallback=False)
    info["pytest"]["source"] = "server environment"
    return info


@query("read")
def read(ctx: CallContext, path: str) -> str | None:
    """The twin's view of one file (memory, else disk, else None)."""
    return ctx.overlay.read_text(path)


@query("listdir")
def listdir(ctx: CallContext, path: str) -> list[str]:
    return ctx.overlay.listdir(path)


@query("sleep")
def sleep(ctx: CallContext, seconds: float, step: float = 0.01) -> float:
    """Busy-wait cooperatively: a stand-in for a long search in tests of cancel and order."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        ctx.check()
        time.sleep(step)
        n += 1
        if n % 10 == 0:
            ctx.partial([n])
    return seconds


#: The same, in the search lane: a stand-in for a search that never ends by itself.
query("sleep.bulk", bulk=True)(sleep)

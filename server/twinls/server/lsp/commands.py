"""Server: commands every client gets: status (to prove the twin matches) and restart."""

from __future__ import annotations

import os
import time
from typing import Any

from ...shared.schema import PoolStatus, ServerStatus, Status
from .. import stubs
from . import app, pygls_compat
from .server import TwinLanguageServer

STATUS = "twinls.status"
RESTART = "twinls.restart"

_started = time.time()


@app.command(STATUS)
async def status(ls: TwinLanguageServer, *args: Any) -> Status:
    pool = await ls.twin_pool()
    twins = []
    for twin, promise in pool.call_each(stubs.status()):
        info = await ls.await_promise(promise)
        info["slot"] = twin.slot
        twins.append(info)
    return Status(
        server=ServerStatus(
            pid=os.getpid(),
            uptime=time.time() - _started,
            seq=pool.seq,
            encoding=ls.encoding,
            roots=pool.roots,
            hashes=pool.mirror_hashes(),
            interpreter=pool.interpreter_info(),
            interpreters_by_root=ls.interpreters_per_root(),
            # Requests and notifications pygls still tracks (bounded: no leak per edit).
            pending=pygls_compat.pending_requests(ls.protocol),
            untracked=sorted(ls.untracked),
        ),
        pool=PoolStatus(
            size=pool.size,
            live=len(pool.live()),
            gave_up=sorted(pool.gave_up),
            resyncs=pool.resyncs,
        ),
        twins=twins,
    )


@app.command(RESTART)
async def restart(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    pool = await ls.twin_pool()
    pool.restart()
    return {"restarting": pool.size}

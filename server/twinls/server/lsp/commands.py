"""Server: commands every client gets: status (to prove the twin matches) and restart."""

from __future__ import annotations

import os
import time
from typing import Any

from .server import TwinLanguageServer

STATUS = "twinls.status"
RESTART = "twinls.restart"

_started = time.time()


def register(ls: TwinLanguageServer) -> None:
    @ls.command(STATUS)
    async def status(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        pool = await ls.twin_pool()
        twins = []
        for twin, promise in pool.call_each("status"):
            info = await ls.await_promise(promise)
            info["slot"] = twin.slot
            twins.append(info)
        return {
            "server": {
                "pid": os.getpid(),
                "uptime": time.time() - _started,
                "seq": pool.seq,
                "encoding": ls.encoding,
                "roots": pool.roots,
                "hashes": pool.mirror_hashes(),
                "interpreter": pool.interpreter_info(),
                "interpreters_by_root": ls.interpreters_per_root(),
                # Requests and notifications pygls still tracks (bounded: no leak per edit).
                "pending": len(ls.protocol._request_futures),
                "untracked": sorted(ls.untracked),
            },
            "pool": {
                "size": pool.size,
                "live": len(pool.live()),
                "gave_up": sorted(pool.gave_up),
                "resyncs": pool.resyncs,
            },
            "twins": twins,
        }

    @ls.command(RESTART)
    async def restart(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
        pool = await ls.twin_pool()
        pool.restart()
        return {"restarting": pool.size}

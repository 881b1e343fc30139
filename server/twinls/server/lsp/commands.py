"""Server: commands every client gets: status (to prove the twin matches) and restart."""

from __future__ import annotations

import os
import time
from typing import Any

from ...shared.schema import PoolStatus, ServerStatus, Status, TwinLink
from .. import stubs
from ..promise import TwinDied, TwinUnavailable
from . import app, pygls_compat
from .live import Live
from .server import TwinLanguageServer

STATUS = "twinls.status"
RESTART = "twinls.restart"

_started = time.time()


def twin_link(twin: Any) -> TwinLink:
    """How the server reaches a twin: ``remote`` (its gateway; absent for a local one),
    the last ping's round trip, the calls (and chunks) it answered, its measured speed."""
    link: TwinLink = {
        "rtt": twin.rtt,
        "calls": twin.calls,
        "chunks": twin.chunks,
        "files_per_s": twin.files_per_s,
    }
    if twin.host is not None:
        link["remote"] = twin.host.spec
        link["root"] = twin.host.root
    return link


@app.command(STATUS)
async def status(ls: TwinLanguageServer, *args: Any) -> Status:
    pool = await ls.twin_pool()
    twins, lanes = [], []
    for twin, promise in pool.call_each(stubs.status(), lanes=True):
        try:
            info = await ls.await_promise(promise)
        except (TwinDied, TwinUnavailable):
            continue  # it died while asked (e.g. a restart's kill): the others still answer
        info["slot"] = twin.slot
        info.update(twin_link(twin))
        if (group := pool.group_of.get(twin.slot)) is not None and twin.host is None:
            info["folders"] = list(group.roots)  # the folders its interpreter answers for
        (lanes if twin.slot in pool.lanes else twins).append(info)
    return Status(
        server=ServerStatus(
            pid=os.getpid(),
            uptime=time.time() - _started,
            seq=pool.seq,
            encoding=ls.encoding,
            roots=pool.roots,
            hashes=pool.mirror_hashes(),
            interpreter=pool.interpreter_info(),
            interpreters_by_root=pool.interpreters_by_root(),
            # Requests and notifications pygls still tracks (bounded: no leak per edit).
            pending=pygls_compat.pending_requests(ls.protocol),
            untracked=sorted(ls.untracked),
        ),
        pool=PoolStatus(
            size=pool.slot_count(),
            live=len(pool.live()),
            lanes=len(pool.live(lanes=True)) - len(pool.live()),
            gave_up=sorted(pool.gave_up),
            resyncs=pool.resyncs,
            sizing=pool.sizing.as_dict(),
            paused=pool.pause.count,
            paused_s=round(pool.pause.stopped_for, 3),
        ),
        live=ls.part(Live).status(),
        remotes=pool.remotes_info(),
        twins=twins,
        lanes=lanes,
    )


@app.command(RESTART)
async def restart(ls: TwinLanguageServer, *args: Any) -> dict[str, Any]:
    pool = await ls.twin_pool()
    pool.restart()
    return {"restarting": pool.slot_count()}

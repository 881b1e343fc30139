"""Where an interactive request's time goes: stage timestamps in the server and its twins.

    python tests/bench/stages.py DIR [twinls arguments]

Runs twinls (``python -m twinls``) with a few functions wrapped, so that each
process (the server, and every twin, forked from it with the wrappers in place)
appends one JSON line per event to ``DIR/<pid>.jsonl``, stamped with
``time.monotonic()`` (one clock for every process of the machine):

- ``s_recv`` / ``s_send``: the server's loop reads a request / writes its response
  (``framing.dispatch``, pygls's ``_send_data``; the id and the method);
- ``s_call``: the handler asks a twin (``TwinPool.call``: the query, the call id, the
  twin's slot, whether it is an interactive twin);
- ``t_recv``: the twin's reader decoded the call; ``t_start`` / ``t_end``: its worker
  starts and finishes it (``twin.main.run_call``: after the queue and the gate);
- ``s_done``: the server's reader thread decoded the answer;
- ``s_out``: any other message the server wrote (``$/progress`` batches), with its size.

Each event says the calling thread's ``/proc/thread-self/schedstat`` (CPU ns, ns
runnable but waiting for a core), so a gap can be split into work and starvation.
``bench_interactive.py --stages DIR`` runs its server through here and joins the
events to its requests (:func:`breakdown`). For the bench only: never imported by
twinls.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

#: Queries whose calls are traced (the bench's interactive requests).
TRACED = {"search.hover", "search.document_symbols", "runs.lenses", "lang.syntax_errors"}


class Log:
    """One JSON line per event, in a file per process (reopened after a fork)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.pid = 0
        self.fd = -1

    def __call__(self, event: str, **fields: Any) -> None:
        now = time.monotonic()
        if os.getpid() != self.pid:
            self.pid = os.getpid()
            self.fd = os.open(
                os.path.join(self.folder, f"{self.pid}.jsonl"),
                os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                0o644,
            )
        try:
            with open("/proc/thread-self/schedstat") as f:
                cpu, wait, _ = (int(x) for x in f.read().split())
        except OSError:
            cpu = wait = -1
        row = {"e": event, "t": now, "pid": self.pid, "cpu": cpu, "wait": wait, **fields}
        os.write(self.fd, (json.dumps(row) + "\n").encode())


def install(log: Log) -> None:
    from pygls.protocol import JsonRPCProtocol

    from twinls.server import pool as pool_mod
    from twinls.server.lsp import framing
    from twinls.shared import checks
    from twinls.twin import main as twin_main

    dispatch = framing.dispatch

    def traced_dispatch(protocol: Any, framer: Any, body: bytes) -> None:
        if b'"id"' in body and b'"method"' in body:
            data = json.loads(body)
            log("s_recv", id=data.get("id"), method=data.get("method"))
        dispatch(protocol, framer, body)

    framing.dispatch = traced_dispatch

    send_data = JsonRPCProtocol._send_data

    def traced_send_data(self: Any, data: Any) -> None:
        send_data(self, data)
        msg_id = getattr(data, "id", None)
        if msg_id is not None and not hasattr(data, "method"):
            log("s_send", id=msg_id)
        else:
            log("s_out", method=getattr(data, "method", None))

    JsonRPCProtocol._send_data = traced_send_data  # type: ignore[method-assign]

    call = pool_mod.TwinPool.call

    def traced_call(self: Any, target: Any, *args: Any, **kw: Any) -> Any:
        promise = call(self, target, *args, **kw)
        name = getattr(target, "name", None)
        if name in TRACED:
            twin = promise.twin
            slot = getattr(twin, "slot", None)
            log("s_call", q=name, id=promise.call_id, slot=slot, lane=slot in self.lanes)
        return promise

    pool_mod.TwinPool.call = traced_call  # type: ignore[method-assign]

    check = checks.check_message

    def traced_check(msg: Any, kinds: Any, direction: str) -> Any:
        out = check(msg, kinds, direction)
        if isinstance(msg, dict):
            if msg.get("k") == "call" and msg.get("q") in TRACED:
                log("t_recv", id=msg["id"], q=msg["q"])
            elif msg.get("k") in ("done", "fail") and direction.startswith("twin"):
                log("s_done", id=msg["id"])
        return out

    checks.check_message = traced_check

    run_call = twin_main.run_call

    def traced_run_call(state: Any, msg: dict[str, Any], cancelled: set[int]) -> None:
        traced = msg.get("q") in TRACED
        if traced:
            log("t_start", id=msg["id"], q=msg["q"])
        try:
            run_call(state, msg, cancelled)
        finally:
            if traced:
                log("t_end", id=msg["id"], q=msg["q"])

    twin_main.run_call = traced_run_call


def read(folder: str | Path) -> list[dict[str, Any]]:
    rows = []
    for path in Path(folder).glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return sorted(rows, key=lambda r: r["t"])


#: (name, from event, to event): the stages of one request, in order.
STAGES = [
    ("client→server loop", "c_send", "s_recv"),
    ("server handler→stub", "s_recv", "s_call"),
    ("stub→twin reader", "s_call", "t_recv"),
    ("twin queue+gate", "t_recv", "t_start"),
    ("twin work", "t_start", "t_end"),
    ("twin→server reader", "t_end", "s_done"),
    ("server reader→response", "s_done", "s_send"),
    ("server→client", "s_send", "c_recv"),
]


def breakdown(requests: list[dict[str, Any]], folder: str | Path) -> list[dict[str, Any]]:
    """Each request (``c_send``, ``c_recv``, ``method`` from the client, in the order sent,
    one at a time) with its stages' durations (s), the twin's work split into CPU and
    waiting for a core, and the server loop thread's waiting for a core meanwhile."""
    rows = read(folder)
    methods = {r["method"] for r in requests}
    recvs = [r for r in rows if r["e"] == "s_recv" and r.get("method") in methods]
    sends = {r["id"]: r for r in rows if r["e"] == "s_send"}
    out = []
    for req, recv in zip(requests, recvs, strict=False):
        send = sends.get(recv["id"])
        if send is None:
            continue
        window = [r for r in rows if recv["t"] <= r["t"] <= send["t"]]
        calls = [r for r in window if r["e"] == "s_call" and r["pid"] == recv["pid"]]
        if not calls:
            continue
        cid = calls[0]["id"]
        ev = {"c_send": req["c_send"], "c_recv": req["c_recv"], "s_recv": recv["t"]}
        ev["s_send"] = send["t"]
        ev["s_call"] = calls[0]["t"]
        got: dict[str, dict[str, Any]] = {}
        for r in rows:  # the twin's end may come after the response: not only the window
            if r.get("id") == cid and r["e"] in ("t_recv", "t_start", "t_end", "s_done"):
                got.setdefault(r["e"], r)
        for key, r in got.items():
            ev[key] = r["t"]
        stages = {
            name: ev[b] - ev[a] for name, a, b in STAGES if a in ev and b in ev and ev[b] >= ev[a]
        }
        start, end = got.get("t_start"), got.get("t_end")
        twin = {}
        if start and end and start["cpu"] >= 0:
            twin = {
                "cpu": (end["cpu"] - start["cpu"]) / 1e9,
                "runnable": (end["wait"] - start["wait"]) / 1e9,
            }
        out.append(
            {
                **req,
                "total": req["c_recv"] - req["c_send"],
                "stages": stages,
                "twin": twin,
                "lane": calls[0].get("lane"),
                "loop_runnable": (send["wait"] - recv["wait"]) / 1e9,
                "loop_cpu": (send["cpu"] - recv["cpu"]) / 1e9,
                "progress_out": sum(1 for r in window if r["e"] == "s_out"),
            }
        )
    return out


def main() -> None:
    folder, rest = sys.argv[1], sys.argv[2:]
    os.makedirs(folder, exist_ok=True)
    install(Log(folder))
    from twinls.cli import main as twinls_main

    twinls_main(rest)


if __name__ == "__main__":
    main()

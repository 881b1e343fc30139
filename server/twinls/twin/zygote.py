"""Zygote (project interpreter): preload once, then fork a twin per request from the server.

The zygote is the project's Python started by the server (``launch.py``) with
twinls importable (``bootstrap.py``). It imports what every twin needs, then
waits on its control socket (``SOCK_SEQPACKET``: one message per packet). A
``fork`` request carries the twin's end of a fresh socketpair as an
``SCM_RIGHTS`` fd; the zygote forks, the child becomes the twin on that socket
(``twin_main``), and the zygote answers with the pid. It reaps its children and
exits when the server closes the control socket. Being single-threaded, it can
fork at any moment without inheriting a half-held lock.
"""

from __future__ import annotations

import gc
import os
import select
import socket
import sys
from typing import Any

from ..shared import reap
from ..shared.frames import decode, encode
from ..shared.schema import ZygoteFork, ZygoteForked, ZygoteHello

#: What this interpreter is, kept for the twins forked from here (``status``).
INFO: dict[str, Any] = {}

MAX_PACKET = 1 << 20


def describe(pytest_fallback: bool) -> dict[str, Any]:
    """The interpreter, its pytest (whose, which version, where) and msgpack's codec."""
    import msgpack

    info: dict[str, Any] = {
        "executable": sys.executable,
        "version": sys.version,
        "version_info": list(sys.version_info[:3]),
        "prefix": sys.prefix,
        "msgpack": "fallback" if msgpack.Packer.__module__.endswith("fallback") else "compiled",
        "pytest": {"source": "twinls" if pytest_fallback else "project"},
    }
    try:
        import pytest

        info["pytest"].update(version=pytest.__version__, path=os.path.dirname(pytest.__file__))
    except ImportError as exc:
        info["pytest"].update(source="none", error=str(exc))
    return info


def main(spec: dict[str, Any], pytest_fallback: bool = False) -> None:
    """The zygote's life: preload, say hello, fork twins until the server goes."""
    ctl = socket.socket(fileno=int(spec["ctl_fd"]))
    from . import warm

    warm.preload()
    INFO.update(describe(pytest_fallback))
    gc.collect()
    gc.freeze()  # for good: its twins' collections skip (and do not copy) what it holds
    hello: ZygoteHello = {"k": "zygote", "pid": os.getpid(), "info": INFO}
    ctl.sendall(encode(dict(hello)))
    while True:
        ready, _, _ = select.select([ctl], [], [], 1.0)
        _reap()
        if not ready:
            continue
        data, fds, _, _ = socket.recv_fds(ctl, MAX_PACKET, 1)
        if not data:
            os._exit(0)  # the server went away; twins notice on their own channels
        msg: ZygoteFork = decode(data[4:])  # type: ignore[assignment]
        if msg.get("k") != "fork" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            ctl.close()
            _become_twin(fds[0], msg)
        os.close(fds[0])
        reply: ZygoteForked = {"k": "forked", "pid": pid}
        ctl.sendall(encode(dict(reply)))


def _become_twin(fd: int, msg: ZygoteFork) -> None:
    from .main import twin_main

    twin_main(socket.socket(fileno=fd), list(msg["roots"]), dict(msg["settings"]))


def _reap() -> None:
    """Collect exited twins (the server learns of a death from its channel's EOF)."""
    reap.reap_exited()

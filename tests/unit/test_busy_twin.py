"""Server: a silent twin that uses CPU is busy, not hung (``pool._working``); one stopped is hung.

Real processes stand in for twins: one spinning in C with its GIL held (what a
twin's reader thread waits behind), one stopped with SIGSTOP (what a hung twin
looks like from outside). Only ``now`` is handed in, so no assertion depends on
how fast anything runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from twinls.server.pool import BUSY_GRACE, TwinPool
from twinls.server.sizing import cpu_seconds

HANG_AFTER = 15.0


@pytest.fixture
def spinning() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "sum(range(10**14))"])
    yield proc
    proc.kill()
    proc.wait()


def twin(pid: int, last_pong: float) -> SimpleNamespace:
    return SimpleNamespace(
        slot=0, host=None, pid=pid, cpu_seen=None, cpu_busy=False, last_pong=last_pong
    )


def looks(t: SimpleNamespace, now: float) -> bool:
    return TwinPool._working(SimpleNamespace(hang_after=HANG_AFTER), t, now)  # type: ignore[arg-type]


def used_more(pid: int, than: float) -> None:
    """Wait (on the process's own counter) until it has used more CPU than ``than``."""
    while (cpu_seconds(pid) or 0.0) <= than:
        os.sched_yield()


def test_a_twin_computing_in_c_past_hang_after_is_busy(spinning: subprocess.Popen[bytes]) -> None:
    t = twin(spinning.pid, last_pong=0.0)
    assert not looks(t, now=1.0)  # the first look only takes a baseline
    used_more(spinning.pid, t.cpu_seen[0])
    assert looks(t, now=HANG_AFTER + 2.0)
    used_more(spinning.pid, t.cpu_seen[0])
    assert not looks(t, now=BUSY_GRACE * HANG_AFTER + 3.0), "the grace has an end"


def test_a_stopped_twin_is_not_busy(spinning: subprocess.Popen[bytes]) -> None:
    os.kill(spinning.pid, signal.SIGSTOP)
    while open(f"/proc/{spinning.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "T":
        os.sched_yield()
    t = twin(spinning.pid, last_pong=0.0)
    assert not looks(t, now=1.0)
    assert not looks(t, now=HANG_AFTER + 2.0)


def test_a_remote_twin_gets_no_grace(spinning: subprocess.Popen[bytes]) -> None:
    t = twin(spinning.pid, last_pong=0.0)
    t.host = object()
    assert not looks(t, now=1.0)
    used_more(spinning.pid, cpu_seconds(spinning.pid) or 0.0)
    assert not looks(t, now=HANG_AFTER + 2.0)

"""Server: the search twins stopped while an interactive call runs (``server/pause.py``).

A real process (``sleep``) stands in for a search twin; what is checked is its state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from twinls.server import pause
from twinls.server.pause import SearchPause


@pytest.fixture
def sleeper() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "600"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def state(pid: int, want: str) -> str:
    """The process's state letter (``T``: stopped, ``S``: sleeping), polled a while for
    ``want``: a signal lands asynchronously."""
    for _ in range(400):
        with open(f"/proc/{pid}/stat") as f:
            letter = f.read().rpartition(")")[2].split()[0]
        if letter == want:
            break
        time.sleep(0.005)
    return letter


def test_a_hold_stops_and_its_release_continues(sleeper):
    p = SearchPause(600)
    release = p.hold([sleeper])
    assert state(sleeper, "T") == "T"
    release()
    assert state(sleeper, "S") == "S" and p.count == 1 and p.stopped_for > 0
    release()  # twice: harmless
    assert state(sleeper, "S") == "S"


def test_stopped_until_the_last_hold_goes(sleeper):
    p = SearchPause(600)
    first, second = p.hold([sleeper]), p.hold([sleeper])
    first()
    assert state(sleeper, "T") == "T"
    second()
    assert state(sleeper, "S") == "S"


def test_off_or_nothing_busy_stops_nothing(sleeper):
    p = SearchPause(0)
    p.hold([sleeper])
    assert state(sleeper, "S") == "S" and p.count == 0
    assert SearchPause(600).hold([])() is None


def test_no_hold_once_the_share_of_the_window_is_used(sleeper, monkeypatch):
    monkeypatch.setattr(pause, "SHARE", 0.0)  # the window's share used up
    p = SearchPause(600)
    p.hold([sleeper])
    assert state(sleeper, "S") == "S" and p.count == 0


def test_a_dead_pid_is_skipped(sleeper):
    p = SearchPause(600)
    release = p.hold([sleeper, 2**22 + 12345])  # no such process
    assert state(sleeper, "T") == "T"
    release()
    assert state(sleeper, "S") == "S"


def test_a_twin_someone_else_stopped_is_left_stopped(sleeper):
    os.kill(sleeper, signal.SIGSTOP)  # a debugger's, a test's
    assert state(sleeper, "T") == "T"
    p = SearchPause(600)
    p.hold([sleeper])()
    assert state(sleeper, "S") == "T"  # not continued by the release
    os.kill(sleeper, signal.SIGCONT)

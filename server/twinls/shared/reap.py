"""Shared: waiting for, killing and describing child processes (server, zygote, run child).

Each process that forks reaps what it forked: the server its twins, a zygote the
twins it forked, a run's supervisor its executors. One copy of the ``waitpid`` loops
and one wording of an exit status, so a twin's death and a crashed test say it the
same way.
"""

from __future__ import annotations

import os
import signal
import time
from typing import NamedTuple


class Exit(NamedTuple):
    """How a child ended, from the status ``waitpid`` gave (neither: unknown, reaped)."""

    code: int | None = None
    signal: int | None = None

    def __str__(self) -> str:
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = "unknown"
            return f"killed by signal {self.signal} ({name})"
        if self.code is not None:
            return f"exited with status {self.code}"
        return "gone"


def exit_of(status: int | None) -> Exit:
    if status is not None and os.WIFSIGNALED(status):
        return Exit(signal=os.WTERMSIG(status))
    if status is not None and os.WIFEXITED(status):
        return Exit(code=os.WEXITSTATUS(status))
    return Exit()


def wait(pid: int, grace: float | None = None) -> int | None:
    """Wait for ``pid`` and return its status (None: not our child, or reaped already).

    With ``grace``, a process still running after that many seconds is killed first.
    """
    if grace is not None:
        end = time.monotonic() + grace
        while time.monotonic() < end:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if done:
                return status
            time.sleep(0.002)
        kill(pid)
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def kill(pid: int, group: bool = False) -> bool:
    """SIGKILL ``pid`` (its process group with ``group``); False if it was gone."""
    try:
        if group:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def reap_exited() -> bool:
    """Collect every exited child without waiting; is any child still running?"""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True

"""Shared: one wording of how a child ended (``shared/reap.py``)."""

from __future__ import annotations

import os

import pytest

from twinls.shared import reap


@pytest.mark.parametrize(
    "status, expected",
    [
        (3 << 8, "exited with status 3"),
        (0, "exited with status 0"),
        (9, "killed by signal 9 (SIGKILL)"),
        (11, "killed by signal 11 (SIGSEGV)"),
        (None, "gone"),
    ],
)
def test_exit_of_a_status(status, expected):
    assert str(reap.exit_of(status)) == expected


def test_wait_kills_after_the_grace_and_says_so():
    pid = os.fork()
    if pid == 0:  # a child that would outlive any test
        os.execvp("sleep", ["sleep", "60"])
    assert str(reap.exit_of(reap.wait(pid, grace=0.0))) == "killed by signal 9 (SIGKILL)"
    assert reap.wait(pid) is None  # reaped already
    assert reap.reap_exited() in (True, False)

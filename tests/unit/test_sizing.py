"""Server: how many twins a host takes from its figures (``server/sizing.py``), and re-sizing."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from twinls.server.sizing import (
    TWIN_MEMORY,
    CpuMeter,
    Measured,
    choose,
    cpu_seconds,
    fixed,
    measure,
    settle,
)

GIB = 1024**3


@pytest.mark.parametrize(
    "figures, top, size, why",
    [
        # cores, load, available memory -> the size and what limited it
        (dict(cpus=2, load=0.0, mem_available=20 * GIB), 4, 2, "free cores"),
        (dict(cpus=8, load=0.0, mem_available=20 * GIB), 4, 4, "at most 4 twins"),
        (dict(cpus=8, load=5.4, mem_available=20 * GIB), 4, 3, "free cores"),  # 2.6 free
        (dict(cpus=2, load=7.0, mem_available=20 * GIB), 4, 1, "free cores"),  # never 0
        (dict(cpus=16, load=0.0, mem_available=3 * TWIN_MEMORY), 8, 3, "memory"),
        (dict(cpus=16, load=0.0, mem_available=TWIN_MEMORY // 2), 8, 1, "memory"),
        (dict(cpus=4, load=0.0, mem_available=0), 4, 4, "at most 4 twins"),  # memory unknown
        # a cgroup quota of 1.5 cores on an 8-core machine
        (dict(cpus=8, load=0.0, mem_available=20 * GIB, quota=1.5), 4, 2, "free cores"),
        # our own twins' work is not somebody else's load
        (dict(cpus=4, load=3.0, mem_available=20 * GIB, own_cores=3.0, own_twins=3), 4, 4, "at"),
        # our own twins' memory is taken already: room for 1 more besides the 3 running
        (dict(cpus=8, load=0.0, mem_available=TWIN_MEMORY, own_twins=3), 8, 4, "memory"),
    ],
)
def test_choose(figures, top, size, why):
    sizing = choose(Measured(**figures), top)
    assert sizing.size == size
    assert sizing.reason.startswith(why), sizing.reason
    assert f"{figures['cpus']} cores" in sizing.reason and not sizing.fixed


def test_a_setting_wins_and_says_so():
    sizing = fixed(3, "twins")
    assert (sizing.size, sizing.fixed, sizing.reason) == (3, True, "set by the 'twins' setting")
    assert settle(1, sizing) == 3
    assert sizing.as_dict()["free_cores"] is None


@pytest.mark.parametrize(
    "current, cpus, load, mem, settled",
    [
        (2, 4, 1.4, 20 * GIB, 2),  # 2.6 free rounds to 3, but not a whole core more than 2
        (2, 4, 1.0, 20 * GIB, 3),  # 3.0 free: grow
        (3, 4, 1.6, 20 * GIB, 3),  # 2.4 free rounds to 2, but not a whole core less
        (3, 4, 2.0, 20 * GIB, 2),  # 2.0 free: shrink
        (3, 8, 0.0, 2 * TWIN_MEMORY, 2),  # memory short: shrink at once
        (0, 4, 3.9, 20 * GIB, 1),  # nothing yet: take what is chosen
    ],
)
def test_settle_moves_only_on_a_noticeable_change(current, cpus, load, mem, settled):
    assert settle(current, choose(Measured(cpus, load, mem), 8)) == settled


def test_this_machine_is_measured():
    m = measure()
    assert 1 <= m.cpus <= (os.cpu_count() or 1)
    assert m.load >= 0.0 and m.mem_available > 0
    assert 1 <= choose(m, 4).size <= 4


def test_cpu_time_of_processes_is_read_and_metered():
    assert cpu_seconds(os.getpid()) is not None
    assert cpu_seconds(2**22 + 12345) is None  # no such process
    meter = CpuMeter()
    assert meter.sample([os.getpid()]) == 0.0  # the first look has nothing to compare
    assert meter.sample([os.getpid()]) >= 0.0


def host():
    return SimpleNamespace(slots=[])


def test_a_host_gets_slots_after_the_local_ones_and_shrinks_and_grows_again():
    from twinls.server.pool import TwinPool

    pool = TwinPool(["/nonexistent/ws"], size=2)
    h = host()
    assert pool._set_slots(h, 3) == []
    assert h.slots == [2, 3, 4] and pool._slots_of(h) == [2, 3, 4]
    assert pool._pending >= {2, 3, 4}
    pool._pending.clear()
    assert pool._set_slots(h, 1) == []  # no twin was running: nothing to stop
    assert pool._slots_of(h) == [2] and pool.retired == {3, 4}
    pool._set_slots(None, 3)  # the local pool grows past the host's slots
    assert pool._slots_of(None) == [0, 1, 5]
    pool._set_slots(h, 2)  # the retired slot comes back first
    assert pool._slots_of(h) == [2, 3] and pool.retired == {4} and 3 in pool._pending
    pool.restart()  # a restart does not revive a retired slot
    assert 4 not in pool._pending


def test_a_busy_twin_is_not_retired_mid_call():
    from twinls.server.pool import TwinPool

    pool = TwinPool(["/nonexistent/ws"], size=1)
    h = host()
    pool._set_slots(h, 2)
    busy = SimpleNamespace(alive=True, in_flight=1)
    idle = SimpleNamespace(alive=True, in_flight=0)
    pool.twins[1], pool.twins[2] = idle, busy
    assert pool._set_slots(h, 0) == [idle]  # the busy one stays until a later look
    assert pool._slots_of(h) == [2] and pool.twins[1] is None


def test_a_twin_left_busy_by_a_shrink_goes_at_the_next_look(monkeypatch):
    from twinls.server import pool as pool_module

    pool = pool_module.TwinPool(["/nonexistent/ws"])
    monkeypatch.setattr(pool_module, "local_sizing", lambda own, n: choose(Measured(4, 0, 0), 4))
    pool.size = 1
    pool._resize_local()
    busy = SimpleNamespace(alive=True, in_flight=1, host=None, pid=0, stop=lambda grace: None)
    pool.twins[3] = busy
    monkeypatch.setattr(pool_module, "local_sizing", lambda own, n: choose(Measured(4, 3, 0), 4))
    pool._resize_local()
    assert pool.size == 1 and pool._slots_of(None) == [0, 3]  # slot 3 was busy
    busy.in_flight = 0
    pool._resize_local()  # the same figures: the leftover goes now
    assert pool._slots_of(None) == [0]


def test_a_host_that_is_up_is_resized_only_on_a_noticeable_change():
    from twinls.server.pool import TwinPool

    pool = TwinPool(["/nonexistent/ws"], size=1)
    h = host()
    pool._set_slots(h, 2)
    figures = iter([Measured(4, 1.4, 20 * GIB), Measured(4, 0.5, 20 * GIB), Measured(4, 3.5, 0)])
    h.spec = "popen"
    h.remeasure = lambda: choose(next(figures), 8)
    pool._resize_host(h)  # 2.6 free: not a whole core more than 2
    assert pool._slots_of(h) == [1, 2] and h.sizing.size == 3
    pool._resize_host(h)  # 3.5 free: grow
    assert pool._slots_of(h) == [1, 2, 3, 4]
    pool._resize_host(h)  # 0.5 free: shrink to one
    assert pool._slots_of(h) == [1]


def test_the_local_pool_is_resized_by_its_measurement(monkeypatch):
    from twinls.server import pool as pool_module

    pool = pool_module.TwinPool(["/nonexistent/ws"])
    monkeypatch.setattr(pool_module, "local_sizing", lambda own, n: choose(Measured(4, 0, 0), 4))
    pool.size = 1
    pool._resize_local()
    assert pool.size == 4 and len(pool._slots_of(None)) == 4
    assert pool.sizing.reason.startswith("at most 4 twins")
    monkeypatch.setattr(pool_module, "local_sizing", lambda own, n: choose(Measured(4, 3, 0), 4))
    pool._resize_local()
    assert pool.size == 1 and pool._slots_of(None) == [0]

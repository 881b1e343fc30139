"""Server: the interactive twin's slot and who is picked for what (``server/pool.py``)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from twinls.server import stubs
from twinls.server.pool import TwinPool


def twin(slot: int, in_flight: int = 0, alive: bool = True) -> SimpleNamespace:
    ready = threading.Event()
    ready.set()
    return SimpleNamespace(slot=slot, in_flight=in_flight, alive=alive, ready=ready, host=None)


def pool(size: int = 2, lane: bool = True) -> TwinPool:
    return TwinPool(["/nonexistent/ws"], size=size, lane=lane)


def test_the_interactive_twin_is_one_more_slot_after_the_search_twins():
    p = pool(2)
    assert len(p.twins) == 3 and p.lanes == {2} and p.groups[0].lane == 2
    assert p.slot_count() == 2  # the size the pool reports: searching twins
    assert p._slots_of(None) == [0, 1]  # sizing never grows or retires it
    off = pool(2, lane=False)
    assert len(off.twins) == 2 and off.lanes == set() and off.groups[0].lane is None


@pytest.mark.parametrize(
    "loads, interactive, picked",
    [
        ((1, 1, 0), True, 2),  # a search busies both: the interactive twin answers
        ((0, 0, 0), True, 2),  # all idle: it first
        ((0, 1, 1), True, 0),  # it busy, a search twin idle: the idle one
        ((1, 0, 0), False, 1),  # a search, a run, a plan: never the interactive twin
        ((1, 1, 0), False, 0),
    ],
)
def test_pick(loads, interactive, picked):
    p = pool(2)
    p.twins[:] = [twin(slot, n) for slot, n in enumerate(loads)]
    assert p.pick(None, interactive).slot == picked


def test_with_the_interactive_twin_down_the_search_twins_answer():
    p = pool(2)
    p.twins[:] = [twin(0, 1), twin(1, 2), twin(2, alive=False)]
    assert p.pick(None, True).slot == 0
    assert [t.slot for t in p.live()] == [0, 1]
    assert [t.slot for t in p.live(lanes=True)] == [0, 1]


def test_sharded_and_run_work_leaves_it_out():
    p = pool(1)
    p.twins[:] = [twin(0, 3), twin(1)]
    assert [t.slot for t in p.live()] == [0]  # shards.py, plan.py, kept.py deal from these
    assert [t.slot for t in p.live(lanes=True)] == [0, 1]  # the heartbeat, twinls.status


def test_stubs_say_which_queries_are_interactive():
    assert stubs.hover("/p", 0, 0, "utf-16").interactive
    assert stubs.lenses("/p").interactive
    assert stubs.document_symbols("/p", "utf-16").interactive
    assert not stubs.refs_plan("/p", 0, 0, "utf-16").interactive
    assert not stubs.workspace_symbols("x", "utf-16").interactive  # builds the index
    assert not stubs.run_start({}).interactive

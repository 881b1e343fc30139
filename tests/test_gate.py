"""The twin's jedi gate (twin/gate.py): one thread in jedi at a time, interactive calls first.

Threads and events only, no timing: each test would hang (and hit its timeout) or
fail on order if the gate let two threads in, or kept an interactive call out
until a bulk call ended.
"""

from __future__ import annotations

import threading

from twinls.twin.gate import JediGate

LOOPS = 50_000_000  # a bulk call that never pauses long enough would end here, failing


def test_an_interactive_call_gets_in_at_a_bulk_calls_next_safe_point():
    gate = JediGate()
    inside, served = threading.Event(), threading.Event()
    state = {"loops": 0, "inside_together": False}

    def bulk() -> None:
        with gate.bulk():
            inside.set()
            while not served.is_set() and state["loops"] < LOOPS:
                state["loops"] += 1
                gate.pause()  # a safe point

    def interactive() -> None:
        inside.wait()
        with gate.interactive():
            state["inside_together"] = t.is_alive() and state["loops"] < LOOPS
            served.set()

    t = threading.Thread(target=bulk)
    t.start()
    other = threading.Thread(target=interactive)
    other.start()
    other.join(60)
    t.join(60)
    assert served.is_set() and state["loops"] < LOOPS  # served while the bulk call ran on
    assert state["inside_together"]


def test_a_bulk_call_waits_for_the_interactive_call_inside():
    gate = JediGate()
    order: list[str] = []
    holding, tried = threading.Event(), threading.Event()

    def bulk() -> None:
        holding.wait()
        tried.set()
        with gate.bulk():
            order.append("bulk")

    t = threading.Thread(target=bulk)
    t.start()
    with gate.interactive():
        holding.set()
        tried.wait(60)
        order.append("interactive done")
    t.join(60)
    assert order == ["interactive done", "bulk"]


def test_a_call_made_from_a_call_does_not_wait_for_itself():
    gate = JediGate()
    with gate.interactive(), gate.interactive(), gate.bulk():
        gate.pause()  # not a bulk holder's pause: nothing happens
    with gate.bulk(), gate.bulk(), gate.interactive():
        gate.pause()
    with gate.interactive():  # and the gate is free again
        pass

"""Server: dealing known test durations out to shards (``server/plan.py``), per host."""

from __future__ import annotations

import pytest

from twinls.server.plan import Durations, deal_by_timings, host_speeds, shard


@pytest.mark.parametrize(
    "seconds, n, expected",
    [
        ({}, 2, []),
        ({"a": 1.0}, 2, [["a"]]),
        ({"a": 3.0, "b": 2.0, "c": 2.0}, 2, [["b", "c"], ["a"]]),
        ({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}, 2, [["a", "c"], ["b", "d"]]),
        ({"a": 5.0, "b": 1.0, "c": 1.0}, 3, [["a"], ["b"], ["c"]]),
        ({"a": 1.0, "b": 1.0}, 1, [["a", "b"]]),
    ],
)
def test_shard(seconds, n, expected):
    assert shard(seconds, n) == expected


# -- dealing by test timings per host (issue 18) ---------------------------------------

FAR = "ssh=me@far"


def test_a_host_that_ran_the_same_tests_twice_as_slow_gets_half_as_much():
    timings = {f"t{i}": {"": 1.0, FAR: 2.0} for i in range(9)}
    assert host_speeds(timings) == {"": 1.0, FAR: 0.5}
    here, far = deal_by_timings(timings, [("", 1.0), (FAR, 1.0)])  # its search share: equal
    assert (len(here), len(far)) == (6, 3)
    assert sorted(here + far) == sorted(timings)


def test_each_test_costs_what_it_took_on_that_host():
    # "slow" is slow only far away (say, it reads a big file over NFS there)
    timings = {"slow": {"": 1.0, FAR: 9.0}, "a": {"": 1.0, FAR: 1.0}, "b": {"": 1.0, FAR: 1.0}}
    here, far = deal_by_timings(timings, [("", 1.0), (FAR, 1.0)])
    assert "slow" in here and far  # never where it is slow, and the far host still works


def test_a_host_without_timings_is_rated_by_its_search_share():
    timings = {f"t{i}": {"": 1.0} for i in range(9)}
    assert host_speeds(timings) == {"": 1.0}  # the far host has run nothing yet
    here, far = deal_by_timings(timings, [("", 1.0), (FAR, 0.5)])
    assert (len(here), len(far)) == (6, 3)
    same = deal_by_timings(timings, [("", 1.0), (FAR, 1.0)])
    assert [len(g) for g in same] == [5, 4]


def test_durations_are_kept_per_host_and_scaled_to_the_reference():
    d = Durations()
    tests = [{"nodeid": f"f.py::t{i}", "file": "/ws/f.py", "qualname": f"t{i}", "duration": 1.0,
              "twin": 0} for i in range(3)]  # fmt: skip
    d.record(tests, lambda slot: "")
    d.record([{**t, "duration": 2.0, "twin": 5} for t in tests[:2]], lambda slot: FAR)
    assert d.timings("/ws/f.py")["f.py::t0"] == {"": 1.0, FAR: 2.0}
    assert d.timings("/ws/f.py")["f.py::t2"] == {"": 1.0}
    assert d.known("/ws/f.py") == {"f.py::t0": 1.0, "f.py::t1": 1.0, "f.py::t2": 1.0}
    assert d.known("/ws/other.py") == {}

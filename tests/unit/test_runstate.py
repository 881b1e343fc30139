"""Server: the pieces of a server's run state (``server/lsp/runstate/``)."""

from __future__ import annotations

import pytest

from twinls.server.lsp.runstate.flight import InFlight
from twinls.server.lsp.runstate.history import LensHistory
from twinls.server.lsp.runstate.latest import LatestResults
from twinls.server.lsp.runstate.scope import covers, covers_test, in_scope
from twinls.server.plan import Target


@pytest.mark.parametrize(
    "qualname, kind, scope, expected",
    [
        ("test_a", "test", "test_a", True),
        ("test_ab", "test", "test_a", False),
        ("TestA::test_x", "class", "TestA", True),
        ("TestAB::test_x", "class", "TestA", False),
        ("TestA", "class", "TestA", False),
        ("anything", "file", "", True),
        ("anything", "folder", "", True),
    ],
)
def test_in_scope(qualname, kind, scope, expected):
    assert in_scope(qualname, kind, scope) is expected


@pytest.mark.parametrize(
    "target, file, expected",
    [
        (Target("file", "/w/t.py"), "/w/t.py", True),
        (Target("file", "/w/t.py"), "/w/u.py", False),
        (Target("folder", "/w/pkg"), "/w/pkg/t.py", True),
        (Target("folder", "/w/pkg/"), "/w/pkg/sub/t.py", True),
        (Target("folder", "/w/pkg"), "/w/pkg2/t.py", False),
        (Target("test", "/w/t.py", "test_a"), "/w/t.py", True),
    ],
)
def test_covers(target, file, expected):
    assert covers(target, file) is expected


def test_covers_test_needs_file_and_name():
    target = Target("class", "/w/t.py", "TestA")
    assert covers_test(target, "/w/t.py", "TestA::test_x")
    assert not covers_test(target, "/w/t.py", "test_x")
    assert not covers_test(target, "/w/u.py", "TestA::test_x")


def entry(nodeid: str) -> dict:
    return {"nodeid": nodeid, "qualname": nodeid.partition("::")[2]}


def test_latest_keeps_the_newest_entry_and_its_run():
    latest = LatestResults()
    latest.record("/w/t.py", entry("t.py::test_a"), 1, example=False)
    newer = entry("t.py::test_a")
    latest.record("/w/t.py", newer, 2, example=False)
    assert latest.tests == {"/w/t.py": {"t.py::test_a": newer}}
    assert latest.run_of == {"t.py::test_a": 2} and latest.runs() == {2}


@pytest.mark.parametrize(
    "kind, qualname, expected",
    [
        ("test", "test_a", ["t.py::test_a"]),
        ("class", "TestB", ["t.py::TestB::test_x"]),
        ("file", "", ["t.py::test_a", "t.py::TestB::test_x"]),
        ("test", "test_missing", []),
    ],
)
def test_latest_of_lens(kind, qualname, expected):
    latest = LatestResults()
    for nodeid in ("t.py::test_a", "t.py::TestB::test_x"):
        latest.record("/w/t.py", entry(nodeid), 1, example=False)
    assert [e["nodeid"] for e in latest.of_lens("/w/t.py", kind, qualname)] == expected


def test_latest_examples_are_by_qualname():
    latest = LatestResults()
    example = {"nodeid": "t.py::f", "qualname": "f"}
    latest.record("/w/t.py", example, 3, example=True)
    assert latest.of_lens("/w/t.py", "example", "f") == [example]
    assert latest.of_lens("/w/t.py", "example", "g") == []
    assert latest.tests == {}


@pytest.mark.parametrize(
    "target, seen, left",
    [
        (Target("file", "/w/t.py"), {"t.py::test_a"}, {"t.py::test_a"}),
        (Target("test", "/w/t.py", "test_a"), set(), {"t.py::TestB::test_x"}),
        (Target("class", "/w/t.py", "TestB"), set(), {"t.py::test_a"}),
        (Target("file", "/w/u.py"), set(), {"t.py::test_a", "t.py::TestB::test_x"}),
    ],
)
def test_latest_forget_drops_what_the_run_did_not_see(target, seen, left):
    latest = LatestResults()
    for nodeid in ("t.py::test_a", "t.py::TestB::test_x"):
        latest.record("/w/t.py", entry(nodeid), 1, example=False)
    latest.forget(target, seen)
    assert set(latest.tests["/w/t.py"]) == left


class FakeRun:
    """A stand-in for ``plan.Run``: only its id and ``cancel`` are used here."""

    def __init__(self, id: int) -> None:
        self.id = id
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def test_flight_tracks_and_counts_per_lens():
    flight = InFlight()
    key = ("/w/t.py", "test", "test_a")
    one, two = FakeRun(1), FakeRun(2)
    with flight.track(one, key):  # type: ignore[arg-type]
        with flight.track(two, key):  # type: ignore[arg-type]
            assert flight.is_running(key) and flight.newest() == 2
        assert flight.is_running(key) and flight.newest() == 1
    assert not flight.is_running(key) and flight.newest() is None
    assert flight.active == {} and flight.running == {}


def test_flight_untracks_on_error():
    flight = InFlight()
    key = ("/w/t.py", "file", "")
    with pytest.raises(RuntimeError), flight.track(FakeRun(1), key):  # type: ignore[arg-type]
        raise RuntimeError("the run failed to start")
    assert not flight.is_running(key) and flight.active == {}


@pytest.mark.parametrize("ids, cancelled", [([], [1, 2]), ([2], [2]), ([9], [])])
def test_flight_cancel(ids, cancelled):
    flight = InFlight()
    runs = [FakeRun(1), FakeRun(2)]
    with flight.track(runs[0], ("a", "file", "")), flight.track(runs[1], ("b", "file", "")):  # type: ignore[arg-type]
        assert flight.cancel(ids) == cancelled
    assert [r.id for r in runs if r.cancelled] == cancelled


def result(run_id: int, tests: int, duration: float = 1.5) -> dict:
    return {
        "runId": run_id,
        "outcome": "passed",
        "message": None,
        "summary": {},
        "duration": duration,
        "tests": [{}] * tests,
    }


def test_history_wall_only_for_the_lens_own_run():
    history = LensHistory()
    key = ("/w/t.py", "test", "test_a")
    history.finished(key, 7, result(7, 1), live={7})
    entries = [entry("t.py::test_a")]
    assert history.wall_of(key, entries, {"t.py::test_a": 7}) == 1.5
    assert history.wall_of(key, entries, {"t.py::test_a": 8}) is None  # a bigger run's
    assert history.wall_of(("/w/t.py", "test", "other"), entries, {}) is None
    assert history.last[key]["tests"] == 1


def test_history_forgets_walls_no_result_comes_from():
    history = LensHistory()
    history.ended(1, 0.5)
    history.ended(2, 0.7)
    history.finished(("/w/t.py", "file", ""), 3, result(3, 0), live={2, 3})
    assert history.walls == {2: 0.7, 3: 1.5}

"""Server: a sharded call's queues, home first, then stealing (``server/shards.py``)."""

from __future__ import annotations

from collections import deque

import pytest

from twinls.server.shards import FIRST_CHUNK, MAX_CHUNK, ShardedCall


def queues(**slots: str) -> ShardedCall:
    call = ShardedCall(pool=None, target="q", items=[], args=())  # type: ignore[arg-type]
    call.queues = {int(k[1:]): deque(v) for k, v in slots.items()}
    return call


@pytest.mark.parametrize(
    "slots, takes, expected",
    [
        # the own queue's head, in chunks that double from FIRST_CHUNK
        ({"s0": "abcdefg"}, [0, 0, 0], ["ab", "cdef", "g"]),
        # an empty own queue steals one item from the tail of the longest other queue
        ({"s0": "", "s1": "abc", "s2": "de"}, [0, 0], ["c", "b"]),
        ({"s0": "", "s1": ""}, [0], [""]),
    ],
)
def test_take(slots, takes, expected):
    call = queues(**slots)
    assert ["".join(call._take(slot)) for slot in takes] == expected


def test_steals_only_within_its_lane():
    """Folders in two interpreters: a twin steals only its own group's files (a remote
    twin, lane None, takes any)."""
    call = queues(s0="", s1="abc", s2="de", s3="")
    call.lanes = True
    call.lane = {0: "A", 1: "B", 2: "A", 3: None}
    assert ["".join(call._take(0)) for _ in range(3)] == ["e", "d", ""]
    assert "".join(call._take(3)) == "c"


def test_chunks_stop_growing_at_max_chunk():
    call = queues(s0="x" * 1000)
    sizes = [len(call._take(0)) for _ in range(8)]
    assert sizes[0] == FIRST_CHUNK
    assert max(sizes) == MAX_CHUNK


class _Twin:
    host = None

    def __init__(self, slot: int) -> None:
        self.slot = slot


class _Pool:
    """Stands in for the pool: only which twins are live and each slot's group."""

    def __init__(self, live: list[_Twin], lanes: dict[int, str]) -> None:
        self._live, self.group_of = live, lanes

    def live(self) -> list[_Twin]:
        return self._live


@pytest.mark.parametrize(
    "live, expected_end, expected_taken",
    [
        # Lane B's twin is live: it is dealt next and takes its own file; A must not end
        # the call (it once did: a two-folder search lost b/other.py under load).
        ([0, 1], False, ""),
        # Lane B has no live twin: A takes the file rather than drop it.
        ([0], False, "x"),
    ],
)
def test_an_idle_twin_never_ends_a_call_with_files_queued_in_another_lane(
    live, expected_end, expected_taken
):
    twins = {slot: _Twin(slot) for slot in (0, 1)}
    call = ShardedCall(
        pool=_Pool([twins[s] for s in live], {0: "A", 1: "B"}), target="q", items=[], args=()
    )  # type: ignore[arg-type]  # noqa: E501
    call.queues = {0: deque(), 1: deque("x")}
    call.lanes = True
    call.lane = {0: "A", 1: "B"}
    taken: list[str] = []
    call.pool.call = lambda _t, chunk, *a, twin: taken.extend(chunk) or _Never()  # type: ignore[attr-defined]
    call._deal(twins[0])
    assert call._stopped is expected_end
    assert "".join(taken) == expected_taken


def test_a_call_ends_when_nothing_is_queued_or_running():
    twin = _Twin(0)
    call = ShardedCall(pool=_Pool([twin], {0: "A"}), target="q", items=[], args=())  # type: ignore[arg-type]
    call.queues = {0: deque(), 1: deque()}
    call._deal(twin)
    assert call._stopped is True


class _Never:
    """A promise that never settles (the test looks only at what was dealt)."""

    def cancel(self) -> None: ...

    def on_partial(self, _fn) -> None: ...

    class _future:  # noqa: N801
        @staticmethod
        def add_done_callback(_fn) -> None: ...

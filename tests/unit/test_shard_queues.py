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

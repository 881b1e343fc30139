"""Server: dealing known test durations out to shards (``server/plan.py``)."""

from __future__ import annotations

import pytest

from twinls.server.plan import shard


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

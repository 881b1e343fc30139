"""Server: initializationOptions, range-checked (``server/lsp/options.py``)."""

from __future__ import annotations

import pytest

from twinls.server.lsp import options


@pytest.mark.parametrize(
    "raw, key, value, problem",
    [
        ({}, "heartbeat", 2.0, None),
        ({"heartbeat": 0}, "heartbeat", 0.1, "heartbeat 0 is outside 0.1..60; using 0.1"),
        ({"heartbeat": "x"}, "heartbeat", 2.0, "heartbeat must be a number, got 'x'; using 2.0"),
        ({"heartbeat": True}, "heartbeat", 2.0, "heartbeat must be a number, got True; using 2.0"),
        ({"maxRestarts": 3.7}, "maxRestarts", 3, None),
        ({"hangAfter": 3, "heartbeat": 2}, "hangAfter", 4.0, "shorter than two heartbeats"),
        ({"pool": 0}, "pool", None, "pool must be a whole number"),
        ({"exclude": "x"}, "exclude", None, "exclude must be a list of glob strings; ignored"),
        ({"exclude": ["build/*"]}, "exclude", ["build/*"], None),
        ([], "heartbeat", 2.0, None),  # Lua's empty table
        ("x", "heartbeat", 2.0, "initializationOptions must be an object, not str"),
    ],
)
def test_check(raw, key, value, problem):
    checked = options.check(raw)
    assert checked.values.get(key) == value
    if problem is None:
        assert checked.problems == []
    else:
        assert any(problem in p for p in checked.problems), checked.problems

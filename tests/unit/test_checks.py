"""Shared: runtime checks of the schema's types at a boundary's decode (``shared/checks.py``)."""

from __future__ import annotations

import pytest

from twinls.shared import checks, results, schema

SERVER, TWIN, RUN = checks.SERVER_MESSAGES, checks.TWIN_MESSAGES, checks.RUN_EVENTS


def test_every_kind_of_each_channel_has_its_type():
    assert set(SERVER) == {"edit", "settings", "call", "cancel", "ping"}
    assert set(TWIN) == {"hello", "partial", "progress", "done", "fail", "pong", "resync", "log"}
    assert set(RUN) == {
        "start",
        "collected",
        "result",
        "failing",
        "end",
        "debug",
        "executed",
        "imports",
        "pid",
    }


@pytest.mark.parametrize(
    "msg, kinds",
    [
        (
            {"k": "edit", "seq": 3, "op": "open", "path": "/w/a.py", "version": 1, "text": "x"},
            SERVER,
        ),
        ({"k": "edit", "seq": 4, "op": "change", "path": "/w/a.py", "edits": [], "crc": 7}, SERVER),
        ({"k": "call", "id": 1, "q": "core.status", "args": [], "seq": 0}, SERVER),
        ({"k": "ping", "n": 2}, SERVER),
        ({"k": "done", "id": 1, "value": None}, TWIN),
        ({"k": "fail", "id": 1, "type": "Cancelled", "message": "cancelled"}, TWIN),
        ({"k": "pong", "n": 2, "seq": 5, "busy": 0, "cancelled_for": 0.5}, TWIN),
        ({"k": "progress", "id": 1, "done": 1, "total": 2, "msg": None}, TWIN),
        ({"k": "result", "test": results.test_entry("t.py::test_a", "/w/t.py")}, RUN),
        ({"k": "end", "imported": [], "exitcode": 0}, RUN),  # extra keys ride along
    ],
)
def test_a_well_formed_message_passes(msg, kinds):
    assert checks.check_message(msg, kinds, "here") is msg


@pytest.mark.parametrize(
    "msg, kinds, error",
    [
        ([1, 2], TWIN, "here: expected a message (a map), got list"),
        ({"id": 1}, TWIN, "here: unknown message kind None"),
        ({"k": "edit", "seq": 1, "op": "open", "path": "/a"}, TWIN, "unknown message kind 'edit'"),
        ({"k": "done"}, TWIN, "here 'done' message: missing 'id', 'value'"),
        ({"k": "fail", "id": "7"}, TWIN, "'id': expected a whole number, got '7'"),
        ({"k": "pong", "n": 1, "busy": True}, TWIN, "'busy': expected a number, got True"),
        ({"k": "edit", "seq": 1, "op": "paste", "path": "/a"}, SERVER, "'op': expected one of"),
        (
            {"k": "call", "id": 1, "q": "x", "args": "no", "seq": 0},
            SERVER,
            "'args': expected a list",
        ),
        ({"k": "hello", "proto": 1, "pid": 2, "queries": None}, TWIN, "'queries': expected a list"),
        ({"k": "log", "level": "info", "msg": None}, TWIN, "'msg': expected str, got None"),
        ({"k": "result", "test": "passed"}, RUN, "'test': expected a map (Test)"),
    ],
)
def test_a_malformed_message_is_a_clear_error(msg, kinds, error):
    with pytest.raises(checks.MessageError) as caught:
        checks.check_message(msg, kinds, "here")
    assert error in str(caught.value)


def test_a_deep_check_reaches_nested_rows():
    entry = results.test_entry("t.py::test_a", "/w/t.py")
    entry["subtests"] = [{"name": "(i=0)", "outcome": "passed", "trace": [{"path": "/w/t.py"}]}]
    checks.check(entry, schema.Test, "top level only")  # lists' items are not checked
    with pytest.raises(
        checks.MessageError, match=r"'subtests': item 0: 'trace': item 0: missing 'line'"
    ):
        checks.check(entry, schema.Test, "deep", deep=True)


@pytest.mark.parametrize(
    "value, error",
    [
        ({"nodeid": "a", "name": "a", "outcome": "passed", "line": 1.5}, "'line': expected"),
        ({"nodeid": "a", "name": "a", "outcome": "passed", "line": None}, None),
        ({"nodeid": "a", "outcome": "passed"}, "missing 'name'"),
    ],
)
def test_optional_and_required_fields_of_a_test(value, error):
    if error is None:
        checks.check(value, schema.Test, "t", deep=True)
        return
    with pytest.raises(checks.MessageError, match=error):
        checks.check(value, schema.Test, "t", deep=True)

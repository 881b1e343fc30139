"""Units of a file and the affected-test map (pure functions: no twin, no pipe)."""

from __future__ import annotations

import textwrap

from twinls.server.testmap import TestMap
from twinls.shared.units import MODULE, changed, parse

SOURCE = textwrap.dedent(
    """\
    import os

    LIMIT = 3


    def top(x):
        def inner():
            return x
        return inner()


    @decorated
    class Shape:
        sides = 0

        def area(self):
            return 0

        class Inner:
            def deep(self):
                return 1
    """
)


def test_each_line_belongs_to_its_innermost_unit():
    units = parse(SOURCE)
    assert units.unit_at(1) == MODULE
    assert units.unit_at(6) == "top"
    assert units.unit_at(7) == "top"  # a nested function is its function's
    assert units.unit_at(12) == "Shape"  # the decorator line starts the class
    assert units.unit_at(16) == "Shape.area"
    assert units.unit_at(20) == "Shape.Inner.deep"


def test_an_edit_changes_exactly_the_units_it_touches():
    before = parse(SOURCE)
    assert changed(before, parse(SOURCE.replace("return 0", "return 1"))) == {"Shape.area"}
    assert changed(before, parse(SOURCE.replace("return x", "return -x"))) == {"top"}
    assert changed(before, parse(SOURCE.replace("sides = 0", "sides = 4"))) == {"Shape"}
    assert changed(before, parse(SOURCE.replace("LIMIT = 3", "LIMIT = 4"))) == {MODULE}
    assert changed(before, parse("\n\n" + SOURCE)) == set()  # moved, not changed
    added = SOURCE.replace(
        "    class Inner:", "    def perimeter(self):\n        return 0\n\n    class Inner:"
    )
    assert changed(before, parse(added)) == {"Shape", "Shape.perimeter"}  # the class changed


def _map(root: str) -> TestMap:
    tm = TestMap(root)
    tm.complete = True
    tm.record(
        {"nodeid": "test_t.py::a", "file": f"{root}/test_t.py", "units": {f"{root}/m.py": ["f"]}}
    )
    tm.record(
        {"nodeid": "test_t.py::b", "file": f"{root}/test_t.py", "units": {f"{root}/m.py": ["C.m"]}}
    )
    tm.record({"nodeid": "test_u.py::c", "file": f"{root}/test_u.py", "units": {}})
    tm.record_imports({"tests": [f"{root}/test_u.py"], "files": [f"{root}/m.py"]})
    return tm


def test_the_map_selects_tests_by_the_units_they_executed():
    root = "/ws"
    tm = _map(root)
    assert tm.affected({"/ws/m.py": {"f"}}).nodeids == {"test_t.py::a"}
    assert tm.affected({"/ws/m.py": {"C"}}).nodeids == {
        "test_t.py::b"
    }  # the class: its methods too
    assert tm.affected({"/ws/m.py": {"g"}}).nodeids == set()
    module = tm.affected({"/ws/m.py": {MODULE}})
    assert module.nodeids == {"test_t.py::a", "test_t.py::b"} and module.files == {"/ws/test_u.py"}
    edited_test = tm.affected({"/ws/test_t.py": {"test_x"}})
    assert edited_test.files == {"/ws/test_t.py"} and not edited_test.nodeids
    assert tm.affected({"/ws/sub/conftest.py": {MODULE}}).folders == {"/ws/sub"}


def test_an_incomplete_or_untrusted_map_runs_everything():
    root = "/ws"
    assert TestMap(root).affected({"/ws/m.py": {"f"}}).folders == {root}
    tm = _map(root)
    assert tm.affected({"/ws/pyproject.toml": None}).folders == {root}
    assert not tm.complete and not tm.executed  # dependencies changed: recorded again


def test_a_cancelled_runs_tests_are_owed_to_the_next():
    """Rapid edits: the stale run's selection joins the next one's (nothing is lost)."""
    from twinls.server.testmap import Selection

    stale = Selection(nodeids={"test_t.py::a"}, tests_of={"test_t.py::a": "/ws/test_t.py"})
    fresh = Selection(nodeids={"test_u.py::c"}, tests_of={"test_u.py::c": "/ws/test_u.py"})
    both = fresh.merged(stale)
    assert both.nodeids == {"test_t.py::a", "test_u.py::c"}
    covered = Selection(files={"/ws/test_t.py"}).merged(stale)
    assert covered.files == {"/ws/test_t.py"} and not covered.nodeids  # the file covers it

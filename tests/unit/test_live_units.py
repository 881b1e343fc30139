"""Units of a file and the affected-test map (pure functions: no twin, no pipe)."""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import pytest

from twinls.run.trace import Codes
from twinls.server.testmap import KEPT_TEXTS, Selection, TestMap, Texts, by_file, split
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


FEED = "def f():\n    return 1\n\x0c\ndef g():\n    a = 1\n    return a\n"


@pytest.mark.parametrize(
    "before, after, expected",
    [
        (SOURCE, SOURCE.replace("return 0", "return 1"), {"Shape.area"}),
        (SOURCE, SOURCE.replace("sides = 0", "sides = 4"), {"Shape"}),
        (SOURCE, SOURCE.replace("return 1", "return 2"), {"Shape.Inner.deep"}),
        (SOURCE, "\n\n" + SOURCE, set()),
        (SOURCE, SOURCE.replace("def top(x):", "def top(x, y=0):"), {"top"}),
        (SOURCE, SOURCE.replace("class Shape:", "class Shape(Base):"), {"Shape"}),
        # a form feed is a line break to str.splitlines, not to the parser: g's last line
        (FEED, FEED.replace("return a", "return -a"), {"g"}),
        (FEED.replace("\n", "\r\n"), FEED.replace("\n", "\r\n").replace("a = 1", "a = 2"), {"g"}),
        (FEED, FEED.replace("return 1", "return 1  # same code"), set()),
    ],
)
def test_a_parse_that_reuses_the_last_one_sees_the_same_units(before, after, expected):
    """``fire``'s parse reuses the file's last units for unchanged lines: same answer."""
    old = parse(before)
    reused, fresh = parse(after, reuse=old), parse(after)
    assert reused.prints == fresh.prints
    assert reused.spans == fresh.spans
    assert changed(old, reused) == expected


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


def test_a_folder_is_cut_by_test_file_and_one_part_keeps_the_rest_of_it():
    sel = Selection(folders={"/ws"})
    files = ["/ws/test_a.py", "/ws/test_b.py", "/ws/test_c.py", "/elsewhere/test_d.py"]
    parts = split(sel, files, 2)
    assert len(parts) == 2
    first, second = parts
    # The part that keeps the folder skips the files the other part runs.
    assert first.sel.folders == {"/ws"} and first.skip == second.sel.files
    assert first.sel.files | second.sel.files == {"/ws/test_a.py", "/ws/test_b.py", "/ws/test_c.py"}
    assert not first.sel.files & second.sel.files
    assert second.sel.folders == set() and second.skip == set()


def test_exact_tests_go_with_their_file_and_a_budget_of_one_does_not_cut():
    sel = Selection(
        files={"/ws/test_a.py"},
        nodeids={"test_b.py::x", "test_b.py::y", "test_c.py::z"},
        tests_of={
            "test_b.py::x": "/ws/test_b.py",
            "test_b.py::y": "/ws/test_b.py",
            "test_c.py::z": "/ws/test_c.py",
        },
    )
    assert [p.sel for p in split(sel, [], 1)] == [sel]
    parts = split(sel, [], 3)
    assert sorted(sorted(p.sel.nodeids) for p in parts) == [
        [],
        ["test_b.py::x", "test_b.py::y"],
        ["test_c.py::z"],
    ]
    assert {f for p in parts for f in p.sel.files} == {"/ws/test_a.py"}
    assert len(split(sel, [], 9)) == 3  # never more parts than pieces (files)


def test_exact_tests_run_one_part_per_file_the_edited_file_then_the_smallest_first():
    sel = Selection(
        files={"/ws/test_a.py", "/ws/test_d.py"},
        nodeids={"test_b.py::x", "test_b.py::y", "test_c.py::z", "lost::w"},
        tests_of={
            "test_b.py::x": "/ws/test_b.py",
            "test_b.py::y": "/ws/test_b.py",
            "test_c.py::z": "/ws/test_c.py",
        },
    )
    sizes = {"/ws/test_a.py": 5, "/ws/test_d.py": 1}.__getitem__
    parts = by_file(sel, ["/ws/test_a.py"], sizes)
    # The edited test file first, then by selected tests: test_c (1), test_d (1 recorded),
    # test_b (2); a test whose file is unknown goes with the first.
    assert [(p.files, p.nodeids) for p in parts] == [
        ({"/ws/test_a.py"}, {"lost::w"}),
        (set(), {"test_c.py::z"}),
        ({"/ws/test_d.py"}, set()),
        (set(), {"test_b.py::x", "test_b.py::y"}),
    ]
    assert parts[3].tests_of == {"test_b.py::x": "/ws/test_b.py", "test_b.py::y": "/ws/test_b.py"}
    assert by_file(Selection(), []) == []


def test_lines_recorded_on_an_older_text_move_with_it_and_changed_lines_drop():
    texts = Texts()
    old = "a = 1\nb = 2\nc = 3\n"
    ran = texts.ran(old, [1, 2, 3])
    assert texts.carried(ran, old) == {1, 2, 3}
    assert texts.carried(ran, "new = 0\na = 1\nb = 22\nc = 3\n") == {2, 4}
    assert texts.carried(texts.ran(None, [5]), old) == {5}  # text unknown: as recorded


def test_texts_no_record_names_are_dropped():
    tm = TestMap("/ws")
    for n in range(70):  # 70 versions of one file, each test recorded on its own
        text = f"x = {n}\n"
        tm.record(
            {"nodeid": "t::a", "file": "/ws/t.py", "units": {}, "lines": {"/ws/m.py": [1]}},
            lambda p, text=text: text,
        )
    # Past KEPT_TEXTS the texts no record names went: 64 dropped at once, 6 since.
    assert len(tm.texts.by_key) == 70 - KEPT_TEXTS
    assert tm.texts.key("x = 0\n") not in tm.texts.by_key
    assert tm.ran("/ws/m.py", "x = 69\n") == {1}


def test_a_stale_runs_record_keeps_the_tests_lines_from_before():
    tm = TestMap("/ws")
    event = {"nodeid": "t::a", "file": "/ws/t.py", "units": {}, "lines": {"/ws/m.py": [1]}}
    tm.record(event, lambda p: "a = 1\n")
    tm.record({**event, "lines": {"/ws/m.py": [2]}}, None)  # its text is gone
    assert tm.ran("/ws/m.py", "a = 1\n") == {1}


def _called() -> int:
    return 1


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ records with sys.monitoring")
def test_a_tracer_already_there_keeps_sys_settrace_and_functions_are_still_recorded():
    def other(frame: Any, event: str, arg: Any) -> None:
        return None

    codes = Codes(lambda path: True)
    previous = sys.gettrace()
    try:
        sys.settrace(other)  # pytest-cov, a debugger
        codes.arm()
        _called()
        seen, lines = codes.disarm()
        assert sys.gettrace() is other
        assert "_called" in {c.co_name for c in seen} and not lines
        sys.settrace(None)
        codes.arm()
        _called()
        seen, lines = codes.disarm()
        assert "_called" in {c.co_name for c in seen}
        assert (__file__, _called.__code__.co_firstlineno + 1) in lines  # its body's line
    finally:
        sys.settrace(previous)

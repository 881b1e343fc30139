"""The live map kept in the cache (``server/mapstore.py``): its form and the staleness rule."""

from __future__ import annotations

import msgpack
import pytest

from twinls.server.mapstore import FORMAT, Snapshot, decode, encode, restore, verdict
from twinls.server.testmap import Selection, TestMap, Texts

ROOT = "/ws"
CALC = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST = "from calc import add, mul\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
DISK = {
    "/ws/calc.py": CALC,
    "/ws/test_calc.py": TEST,
    "/ws/pyproject.toml": "[project]\n",
    "/ws/conftest.py": "",
}
K = Texts.key


def check_verdict(kept, now, kept_guards, now_guards, expected) -> None:
    assert verdict(kept, now, kept_guards, now_guards) == expected


@pytest.mark.parametrize(
    "kept, now, kept_guards, now_guards, expected",
    [
        ({"/ws/a.py": "1"}, {"/ws/a.py": "1"}, {}, {}, {}),  # unchanged: every record stands
        ({"/ws/a.py": "1"}, {"/ws/a.py": "2"}, {}, {}, {"/ws/a.py": None}),  # changed
        ({"/ws/a.py": "1"}, {"/ws/a.py": None}, {}, {}, {"/ws/a.py": None}),  # deleted
        ({"/ws/a.py": None}, {"/ws/a.py": None}, {}, {}, {"/ws/a.py": None}),  # unknown then
        # a dependency file changed, added or removed: the map is not trusted
        ({}, {}, {"/ws/pyproject.toml": "1"}, {"/ws/pyproject.toml": "2"}, None),
        ({}, {}, {}, {"/ws/requirements-dev.txt": "1"}, None),
        ({}, {}, {"/ws/setup.cfg": "1"}, {}, None),
        # a conftest changed or added: treated as an edit of it (its folder's tests)
        ({}, {}, {"/ws/conftest.py": "1"}, {"/ws/conftest.py": "2"}, {"/ws/conftest.py": None}),
        ({}, {}, {}, {"/ws/sub/conftest.py": "1"}, {"/ws/sub/conftest.py": None}),
    ],
)
def test_the_staleness_rule(kept, now, kept_guards, now_guards, expected):
    check_verdict(kept, now, kept_guards, now_guards, expected)


def recorded() -> tuple[TestMap, dict]:
    """A map of two tests of test_calc.py, recorded against DISK's texts."""
    m = TestMap(ROOT)
    read = DISK.get
    for nodeid, unit, line in (
        ("test_calc.py::test_add", "add", 2),
        ("test_calc.py::t2", "mul", 6),
    ):
        m.record(
            {
                "nodeid": nodeid,
                "file": "/ws/test_calc.py",
                "units": {"/ws/calc.py": [unit], "/ws/test_calc.py": ["test_add"]},
                "lines": {"/ws/calc.py": [line]},
            },
            read,
        )
    m.record_imports(
        {"tests": ["/ws/test_calc.py"], "files": ["/ws/calc.py"], "lines": {"/ws/calc.py": [1]}},
        read,
    )
    results = {
        "test_calc.py::test_add": {"nodeid": "test_calc.py::test_add", "outcome": "passed"},
        "test_calc.py::t2": {"nodeid": "test_calc.py::t2", "outcome": "failed", "handle": "1-2-3"},
        "gone.py::test_x": {"nodeid": "gone.py::test_x", "outcome": "passed"},  # not in the map
    }
    return m, results


def kept(disk=DISK, m=None, results=None) -> dict:
    if m is None:
        m, results = recorded()
    blob = encode(Snapshot.of(m, results or {}, ["/site:1"]), disk.get, listdir)
    data = decode(blob, ROOT)
    assert data is not None
    return data


def listdir(folder: str) -> list[str]:
    return sorted({p[len(folder) + 1 :] for p in DISK if p.rpartition("/")[0] == folder})


def test_a_map_round_trips_with_the_keys_of_the_texts_it_names():
    data = kept()
    assert data["files"] == {"/ws/calc.py": K(CALC), "/ws/test_calc.py": K(TEST)}
    assert data["guards"] == {"/ws/conftest.py": K(""), "/ws/pyproject.toml": K("[project]\n")}
    # the last outcomes of the map's tests, without a parked child's handle
    assert data["results"] == {
        "test_calc.py::test_add": {"nodeid": "test_calc.py::test_add", "outcome": "passed"},
        "test_calc.py::t2": {"nodeid": "test_calc.py::t2", "outcome": "failed"},
    }
    back = restore(data, DISK.get, ["/site:1"], ["/ws/test_calc.py"], [ROOT], listdir)
    assert back is not None and back.changes == {} and back.map.complete
    assert back.map.executed == recorded()[0].executed
    assert back.map.ran("/ws/calc.py", CALC) == {1, 2, 6}  # lines stand on the same text
    assert set(back.results) == {"test_calc.py::test_add", "test_calc.py::t2"}


def test_a_changed_file_runs_its_tests_and_loses_its_lines():
    data = kept()
    now = {**DISK, "/ws/calc.py": CALC.replace("a * b", "b * a")}
    back = restore(data, now.get, ["/site:1"], ["/ws/test_calc.py"], [ROOT], listdir)
    assert back is not None and back.changes == {"/ws/calc.py": None}
    assert back.map.affected(back.changes).files == {"/ws/test_calc.py"}  # collection imports it
    assert back.map.ran("/ws/calc.py", now["/ws/calc.py"]) == set()  # no line of an old text
    assert back.results == {}  # every test runs at start: no kept outcome shown for them


def test_a_line_record_of_an_older_text_is_not_kept():
    m, results = recorded()
    now = {**DISK, "/ws/calc.py": "\n" + CALC}  # edited since the records (no unit changed)
    data = kept(now, m, results)
    assert data["lines"]["test_calc.py::test_add"] == {}
    assert data["collected"] == {}


def test_a_new_test_file_runs_and_an_unchanged_one_does_not():
    data = kept()
    files = ["/ws/test_calc.py", "/ws/test_new.py"]
    back = restore(data, DISK.get, ["/site:1"], files, [ROOT], listdir)
    assert back is not None and back.changes == {"/ws/test_new.py": None}
    assert set(back.results) == {"test_calc.py::test_add", "test_calc.py::t2"}


def test_a_changed_sys_path_or_dependency_file_drops_the_map():
    data = kept()
    assert restore(data, DISK.get, ["/site:2"], [], [ROOT], listdir) is None  # a package installed
    now = {**DISK, "/ws/pyproject.toml": "[project]\nname = 'x'\n"}
    assert restore(data, now.get, ["/site:1"], [], [ROOT], listdir) is None


@pytest.mark.parametrize(
    "blob",
    [
        b"\x00\x01 not msgpack",
        msgpack.packb([1, 2]),
        msgpack.packb({"format": FORMAT + 1, "root": ROOT}),  # another format
        msgpack.packb({"format": FORMAT, "root": "/elsewhere"}),  # another folder's
        msgpack.packb({"format": FORMAT, "root": ROOT, "files": []}),  # a field of another type
    ],
)
def test_a_foreign_entry_is_not_a_map(blob):
    assert decode(blob, ROOT) is None


@pytest.mark.parametrize(
    "sel, collected, on_disk, gone",
    [
        # the file collected without t2 (deleted, renamed): forgotten, no outcome kept of it
        (Selection(files={"/ws/test_calc.py"}), {"test_calc.py::test_add"}, True, {"t2"}),
        # the file is gone: all its tests
        (Selection(files={"/ws/test_calc.py"}), set(), False, {"test_add", "t2"}),
        # its collection failed (nothing collected, still on disk): not known to be gone
        (Selection(files={"/ws/test_calc.py"}), set(), True, set()),
        # a folder holds it, like a file
        (Selection(folders={ROOT}), {"test_calc.py::t2"}, True, {"test_add"}),
        # exact tests only: the others of the file were not asked for
        (Selection(nodeids={"test_calc.py::test_add"}), {"test_calc.py::test_add"}, True, set()),
    ],
)
def test_a_run_forgets_the_recorded_tests_that_are_gone(sel, collected, on_disk, gone):
    m, _ = recorded()
    forgot = m.forget_gone(sel, collected, lambda path: on_disk)
    assert forgot == {f"test_calc.py::{n}" for n in gone}
    assert set(m.test_file) == set(recorded()[0].test_file) - forgot
    assert not forgot & (set(m.executed) | set(m.lines))


@pytest.mark.parametrize(
    "buffer, changes, results",
    [
        # an unsaved edit of mul over the disk's text: mul's tests only
        (CALC.replace("a * b", "b * a"), {"/ws/calc.py": {"mul"}}, {"test_calc.py::test_add"}),
        # a comment: nothing the records know changed
        (CALC + "# note\n", {}, {"test_calc.py::test_add", "test_calc.py::t2"}),
        # a buffer that does not parse: the whole file, as an unknown old text
        (CALC + "def (:\n", {"/ws/calc.py": None}, set()),
    ],
)
def test_an_unsaved_buffer_over_the_kept_disk_text_is_an_edit_of_it(buffer, changes, results):
    data = kept()
    now = {**DISK, "/ws/calc.py": buffer}  # the mirror: the open buffer
    back = restore(data, now.get, ["/site:1"], [], [ROOT], listdir, disk=DISK.get)
    assert back is not None and back.changes == changes
    assert set(back.results) == results
    if changes.get("/ws/calc.py", ()) is not None:  # lines move from the disk's text
        assert back.map.ran("/ws/calc.py", buffer) >= {1, 2}

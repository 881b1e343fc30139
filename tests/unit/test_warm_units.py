"""Unit layer for warm collection: which items a run's targets select, which runs go warm."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from twinls.run.warm_session import matches
from twinls.twin.warm_sessions import WarmSessions


@pytest.mark.parametrize(
    ("nodeid", "target", "expected"),
    [
        ("t.py::test_a", "t.py", True),  # the file: everything in it
        ("t.py::test_a", "", True),
        ("t.py::test_a", "t.py::test_a", True),
        ("t.py::test_a[1]", "t.py::test_a", True),  # every case of a parametrized test
        ("t.py::test_a[1]", "t.py::test_a[1]", True),
        ("t.py::test_a[10]", "t.py::test_a[1]", False),
        ("t.py::test_ab", "t.py::test_a", False),  # a name prefix is another test
        ("t.py::TestC::test_m", "t.py::TestC", True),
        ("t.py::TestCD::test_m", "t.py::TestC", False),
        ("sub/t.py::test_a", "t.py", False),
    ],
)
def test_a_target_selects_what_pytest_selects_for_that_argument(nodeid, target, expected):
    assert matches(nodeid, target) is expected


@pytest.fixture
def sessions(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_a():\n    pass\n")
    (tmp_path / "calc.py").write_text("")
    state = SimpleNamespace(overlay=SimpleNamespace(listeners=[]), settings={})
    return WarmSessions(state), str(tmp_path / "test_x.py")


@pytest.mark.parametrize(
    ("spec", "warm"),
    [
        ({"targets": ["{f}"]}, True),
        ({"targets": ["{f}::test_a", "{f}::test_b[2]"]}, True),
        ({"targets": ["{f}", "{d}/test_y.py"]}, False),  # two files
        ({"targets": ["{d}"]}, False),  # a folder
        ({"targets": ["{f}"], "debug": True}, False),  # a Debug run
        ({"targets": ["{f}"], "kind": "example"}, False),
        ({"targets": ["{d}/calc.py"], "path": "{d}/calc.py"}, False),  # not a test module
        ({"targets": ["{d}/test_new.py"], "path": "{d}/test_new.py"}, False),  # not on disk
    ],
)
def test_runs_whose_targets_lie_in_one_test_file_on_disk_go_warm(sessions, spec, warm):
    ws, path = sessions
    d = path.rsplit("/", 1)[0]
    fill = {"f": path, "d": d}
    spec = {"kind": "tests", "path": path, **spec}
    spec = {k: (v.format(**fill) if isinstance(v, str) else v) for k, v in spec.items()}
    spec["targets"] = [t.format(**fill) for t in spec["targets"]]
    assert (ws.file_of(spec) is not None) is warm


def test_warm_max_zero_turns_warm_collection_off(sessions):
    ws, path = sessions
    ws.state.settings["warmMax"] = 0
    assert ws.file_of({"kind": "tests", "path": path, "targets": [path]}) is None

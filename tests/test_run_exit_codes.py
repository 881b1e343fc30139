"""``twinls run`` against ``python -m pytest`` on the same targets: closing line, exit code.

Each case is a small project and a target; both commands run it for real and
the counts of pytest's closing line, its exit code and its run-level error
text must be the same (subtests, deselection, warnings, collection errors, a
missing test id, a config error, folders and the whole workspace).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SUBTESTS = textwrap.dedent(
    """\
    import unittest


    class TestNumbers(unittest.TestCase):
        def test_odd(self):
            for i in range(4):
                with self.subTest(i=i):
                    self.assertNotIn(i, (1, 3))

        def test_fine(self):
            for i in range(2):
                with self.subTest(i=i):
                    pass


    def test_fixture(subtests):
        for name in ("a", "b"):
            with subtests.test(msg=name):
                assert name == "a"


    def test_all_pass(subtests):
        with subtests.test(msg="one"):
            pass
    """
)

MIXED = textwrap.dedent(
    """\
    import warnings

    import pytest


    @pytest.fixture
    def bad_teardown():
        yield
        raise RuntimeError("teardown broke")


    def test_fails_and_teardown_breaks(bad_teardown):
        assert 1 == 2


    def test_warns():
        warnings.warn(UserWarning("careful"))


    @pytest.mark.slow
    def test_slow():
        pass
    """
)

#: pytest's plural/singular words as twinls's summary keys.
KEYS = {"warning": "warnings", "errors": "error"}

CLOSING = re.compile(r"^=*\s*(.*?) in [\d.]+s\s*=*$")


def closing_counts(stdout: str) -> dict[str, int] | None:
    """The counts of pytest's closing line (None when it printed none)."""
    for line in reversed(stdout.strip().splitlines()):
        m = CLOSING.match(line)
        if m:
            if m.group(1) == "no tests ran":
                return {}
            found = re.findall(r"(\d+) ([a-z ]+?)(?=,|$)", m.group(1))
            return {KEYS.get(w, w): int(n) for n, w in found}
    return None


def command(root: Path, *argv: str) -> subprocess.CompletedProcess:
    return finish(start(root, *argv))


def start(root: Path, *argv: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", *argv],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=180)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def both(
    root: Path, *target: str
) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """``python -m pytest TARGET`` and ``twinls run TARGET``, side by side."""
    ours, plain = start(root, "twinls", "run", *target), start(root, "pytest", *target)
    return finish(plain), finish(ours)


def project(root: Path, ini: str = "") -> None:
    (root / "tests").mkdir()
    (root / "tests" / "test_subtests.py").write_text(SUBTESTS)
    (root / "tests" / "test_mixed.py").write_text(MIXED)
    (root / "test_top.py").write_text("def test_top():\n    pass\n")
    (root / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    slow: slow tests\naddopts = -m 'not slow'\n" + ini
    )


def assert_same(plain: subprocess.CompletedProcess, ours: subprocess.CompletedProcess) -> None:
    said = f"\n--- pytest:\n{plain.stdout}{plain.stderr}\n--- twinls:\n{ours.stdout}{ours.stderr}"
    assert ours.returncode == plain.returncode, said
    assert closing_counts(ours.stdout) == closing_counts(plain.stdout), said
    errors = [ln for ln in (plain.stdout + plain.stderr).splitlines() if ln.startswith("ERROR:")]
    for line in errors:
        assert line in ours.stdout + ours.stderr, said


@pytest.mark.parametrize(
    "target",
    [
        ("tests/test_subtests.py",),  # failing subtests: 1, their counts
        ("tests/test_subtests.py::test_all_pass",),  # 0
        ("tests/test_mixed.py",),  # failure + teardown error, a warning, 1 deselected
        ("tests/test_mixed.py::test_slow",),  # only deselected: 5
        ("tests/test_mixed.py::test_missing",),  # not found: 4
        ("tests",),  # a folder
        (),  # the whole workspace
    ],
    ids=["subtests", "green", "mixed", "deselected", "not-found", "folder", "workspace"],
)
def test_closing_line_and_exit_code_match_pytest(tmp_path, target):
    project(tmp_path)
    plain, ours = both(tmp_path, *target)
    assert_same(plain, ours)


def test_verbose_runs_count_passed_subtests_as_pytest_does(tmp_path):
    project(tmp_path, ini="")
    ini = tmp_path / "pytest.ini"
    ini.write_text(ini.read_text().replace("addopts = ", "addopts = -v "))
    plain, ours = both(tmp_path, "tests/test_subtests.py")
    assert "subtests passed" in plain.stdout  # the verbose form counts them
    assert_same(plain, ours)
    lines = ours.stdout.splitlines()
    assert "SUBFAILED(i=1) tests/test_subtests.py::TestNumbers::test_odd" in lines
    assert "SUBFAILED[b] tests/test_subtests.py::test_fixture" in lines
    odd = next(ln for ln in lines if ln.startswith("FAILED tests/test_subtests.py::TestNumbers::"))
    assert "test_odd" in odd  # pytest calls the test itself PASSED: twinls says it failed


def test_collection_and_config_errors_match_pytest(tmp_path):
    project(tmp_path)
    (tmp_path / "tests" / "test_broken.py").write_text("import no_such_module_here\n")
    plain, ours = both(tmp_path, "tests")
    assert plain.returncode == 2
    assert_same(plain, ours)

    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-config\nbogus_key = 1\n")
    plain, ours = both(tmp_path, "test_top.py")
    assert plain.returncode == 4
    assert_same(plain, ours)
    assert "ERROR: Unknown config option: bogus_key" in ours.stderr


def test_teardown_error_of_a_failed_test_is_printed(tmp_path):
    project(tmp_path)
    _, ours = both(tmp_path, "tests/test_mixed.py::test_fails_and_teardown_breaks")
    lines = ours.stdout.splitlines()
    assert "    assert 1 == 2" in lines
    i = lines.index("    error in teardown:")
    assert lines[i + 1] == "      RuntimeError: teardown broke"


def test_plugin_keys_twinls_blocks_are_accepted(tmp_path):
    """faulthandler and cacheprovider keys under --strict-config and filterwarnings=error."""
    project(tmp_path)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-config --ff --sw\nfilterwarnings = error\n"
        "asyncio_default_fixture_loop_scope = function\n"
        "faulthandler_timeout = 30\nfaulthandler_exit_on_timeout = false\n"
        "cache_dir = .cache_here\n"
    )
    ours = command(tmp_path, "twinls", "run", "test_top.py")
    assert not (tmp_path / ".cache_here").exists()  # twinls keeps no cache
    plain = command(tmp_path, "pytest", "test_top.py")
    assert plain.returncode == 0
    assert_same(plain, ours)

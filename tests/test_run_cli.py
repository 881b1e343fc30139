"""``twinls run FILE[::TEST]``: results printed as they arrive, pytest's exit status."""

from __future__ import annotations

import subprocess
import sys

from test_run_lenses import snapshot, write_project


def twinls_run(root, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinls", "run", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_a_test_a_file_and_an_example_from_the_terminal(tmp_path):
    write_project(tmp_path)
    before = snapshot(tmp_path)

    one = twinls_run(tmp_path, "test_calc.py::test_add")
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines()[0].startswith("PASSED test_calc.py::test_add (")
    assert one.stdout.splitlines()[-1].startswith("1 passed in ")

    whole = twinls_run(tmp_path, "test_calc.py")
    assert whole.returncode == 1
    lines = whole.stdout.splitlines()
    failed = lines.index(next(ln for ln in lines if ln.startswith("FAILED")))
    assert lines[failed].startswith("FAILED test_calc.py::test_add_wrong")
    assert lines[failed + 1] == "    at test_calc.py:12"
    assert lines[failed + 2] == "    assert 4 == 5"
    assert lines[-1].startswith("1 failed, 5 passed in ")

    example = twinls_run(tmp_path, "calc.py::double")
    assert example.returncode == 0
    assert "PASSED calc.py::double" in example.stdout and example.stdout.count("→ 42") == 1
    assert snapshot(tmp_path) == before

    # A project whose addopts name the cache plugins' options still runs, and writes no cache.
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --ff --sw\n")
    cached = twinls_run(tmp_path, "test_calc.py::test_add")
    assert cached.returncode == 0, cached.stdout + cached.stderr
    assert not (tmp_path / ".pytest_cache").exists()

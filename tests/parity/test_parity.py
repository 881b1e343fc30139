"""CI's slice of the parity suite: one real project's files, plain and broken, both ways.

The whole suite (five projects, every test file) runs on purpose:
``python tests/parity/harness.py --markdown`` (see docs/benchmarks.md). This
downloads the pinned sdist from the package index on first use and keeps it,
unpacked, with its venv, in the parity cache folder (never in the repo).
"""

from __future__ import annotations

import harness
import pytest
from projects import CI_SUBSET, PROJECTS


@pytest.mark.timeout(1200)  # the first run builds the project's venv
def test_a_real_projects_files_count_and_exit_as_pytest_does():
    rows = []
    for project in PROJECTS:
        if project.name in CI_SUBSET:
            rows += harness.run_project(project, CI_SUBSET[project.name], jobs=2)
    assert rows and any(r.broken for r in rows)
    assert any(r.pytest_exit == 1 for r in rows if r.broken)  # the break does break tests
    assert any(r.pytest_exit == 0 for r in rows if not r.broken)
    assert all(r.same for r in rows), harness.markdown(rows)

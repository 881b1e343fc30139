"""Run results (pure): pytest's closing line, exit codes, run-level errors, sections."""

from __future__ import annotations

import pytest

from twinls.run.pytest_plugin import run_error, section
from twinls.server.plan import run_outcome
from twinls.shared import results


def test_closing_line_in_pytests_order_and_words():
    counts = results.summarize(
        [
            {"outcome": "failed", "categories": ["passed", "failed", "subtests passed"]},
            {"outcome": "error", "categories": ["passed", "error"]},
        ],
        {"deselected": 2, "warnings": 1},
    )
    assert results.summary_line(counts) == (
        "1 failed, 2 passed, 2 deselected, 1 warning, 1 error, 1 subtests passed"
    )
    assert results.summary_line({"warnings": 2, "error": 3}, 0.5) == "2 warnings, 3 errors in 0.50s"
    assert results.summary_line(dict.fromkeys(results.CATEGORIES, 0)) == "no tests ran"


@pytest.mark.parametrize(
    ("codes", "outcomes", "code"),
    [
        ([0], ["passed"], 0),
        ([0, 5], ["passed"], 0),  # one shard had nothing left to run
        ([1], ["failed"], 1),
        ([None], ["passed"], 0),  # an example: no pytest session
        ([None], ["error"], 1),  # a crashed child
        ([2], ["error"], 2),  # interrupted by a collection error
        ([4], [], 4),
        ([5], [], 5),
        ([], [], 5),
        ([3, 1], ["failed"], 3),
    ],
)
def test_exit_code_of_a_run_made_of_sessions(codes, outcomes, code):
    assert results.exit_code(codes, [{"outcome": o} for o in outcomes]) == code


def test_a_run_without_tests_says_why():
    assert run_outcome([], 5, {"deselected": 1}) == "deselected"
    assert run_outcome([], 5, {"deselected": 0}) == "empty"
    assert run_outcome([], 4, {}) == "error"
    assert run_outcome([{"outcome": "passed"}], 2, {}) == "error"
    assert run_outcome([{"outcome": "failed"}], 1, {}) == "failed"


def test_run_errors_in_pytests_words():
    out = (
        "\nno tests ran in 0.01s\nERROR: not found: /p/t.py::x\n"
        "(no match in any of [<Module t.py>])\n"
    )
    assert run_error(out) == "ERROR: not found: /p/t.py::x\n(no match in any of [<Module t.py>])"
    assert (
        run_error("ERROR: Unknown config option: bogus\n\n")
        == "ERROR: Unknown config option: bogus"
    )
    interrupted = "=== 1 error in 0.1s ===\n!!!!! Interrupted: 1 error during collection !!!!!\n"
    assert run_error(interrupted) == "Interrupted: 1 error during collection"
    assert run_error("INTERNALERROR> boom\nINTERNALERROR> bang\n") == (
        "INTERNALERROR> boom\nINTERNALERROR> bang"
    )


def test_warnings_section():
    out = (
        "t.py .\n\n=============== warnings summary ===============\nt.py::test_w\n"
        "  /p/t.py:5: UserWarning: hey\n\n-- Docs: https://docs.pytest.org\n"
        "========== 1 passed, 1 warning in 0.1s ==========\n"
    )
    assert section(out, "warnings summary") == (
        "t.py::test_w\n  /p/t.py:5: UserWarning: hey\n\n-- Docs: https://docs.pytest.org"
    )
    assert section(out, "short test summary info") is None

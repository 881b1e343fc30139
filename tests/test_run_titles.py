"""Lens titles (pure): codicons for VS Code, plain marks elsewhere, wall time, re-run."""

from __future__ import annotations

import pytest

from twinls.server.lsp import titles


def entry(outcome: str, duration: float = 0.004, **more: object) -> dict:
    return {"nodeid": "t.py::test_x", "outcome": outcome, "duration": duration, **more}


@pytest.mark.parametrize(
    ("client", "option", "icons"),
    [
        ("Visual Studio Code", None, titles.CODICONS),
        ("code-server", None, titles.CODICONS),
        ("VSCodium", None, titles.CODICONS),
        ("Neovim", None, titles.TEXT),
        (None, None, titles.TEXT),
        ("Neovim", "codicons", titles.CODICONS),
        ("Visual Studio Code", "text", titles.TEXT),
    ],
)
def test_icons_follow_the_client(client, option, icons):
    assert titles.icons_for(client, option) is icons


def test_titles_in_both_styles():
    code, text = titles.CODICONS, titles.TEXT
    assert titles.base(code, "test") == "$(play) Run test"
    assert titles.running(code) == "$(loading~spin) Running…"
    assert titles.running(text) == "… Running…"
    passed = [entry("passed")]
    assert titles.of_tests(code, passed, None) == "$(pass) 4 ms · $(debug-rerun) Run again"
    assert titles.of_tests(text, passed, 0.022) == "✓ 22 ms · ▶ Run again"
    failed = [entry("failed", message="assert 1 == 2")]
    assert titles.of_tests(code, failed, None) == (
        "$(error) AssertionError: assert 1 == 2 · $(debug-rerun) Run again"
    )
    assert titles.of_tests(text, [], None) is None
    assert "$(" not in "".join(
        str(titles.of_tests(text, e, 1.5)) for e in (passed, failed, [entry("skipped")])
    )


def test_a_group_shows_the_runs_wall_time_not_the_sum():
    group = [entry("passed", 0.004), entry("passed", 0.004, nodeid="t.py::test_y")]
    assert titles.of_tests(titles.TEXT, group, 2.2) == "✓ 2 passed · 2.20 s · ▶ Run again"
    assert titles.of_tests(titles.TEXT, group, None) == "✓ 2 passed · 8 ms · ▶ Run again"


def test_a_run_without_tests_says_why():
    text = titles.TEXT
    deselected = {"outcome": "deselected", "summary": {"deselected": 2}, "message": None}
    assert titles.of_run(text, deselected) == "⊘ 2 deselected · ▶ Run again"
    missing = {"outcome": "error", "summary": {}, "message": "ERROR: not found: t.py::x\n(no…)"}
    assert titles.of_run(text, missing) == "✗ ERROR: not found: t.py::x · ▶ Run again"

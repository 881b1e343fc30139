"""Server: lens titles (``server/lsp/titles.py``)."""

from __future__ import annotations

import pytest

from twinls.server.lsp import titles
from twinls.shared import results

TEXT = titles.icons_for("Neovim")
CODICONS = titles.icons_for("Visual Studio Code")


@pytest.mark.parametrize(
    "client, option, expected",
    [
        ("Visual Studio Code", None, CODICONS),
        ("code-server", None, CODICONS),
        ("Neovim", None, TEXT),
        (None, None, TEXT),
        ("Neovim", "codicons", CODICONS),
        ("Visual Studio Code", "text", TEXT),
    ],
)
def test_icons_for(client, option, expected):
    assert titles.icons_for(client, option) == expected


def entry(outcome: str, duration: float = 0.5, **fields) -> dict:
    return results.test_entry("t.py::test_a", "t.py", outcome=outcome, duration=duration, **fields)


@pytest.mark.parametrize(
    "entries, wall, example, expected",
    [
        ([], None, False, None),
        ([entry("passed", 0.012)], None, False, "✓ 12 ms · ▶ Run again"),
        ([entry("passed", 0.012)], 1.5, False, "✓ 1.50 s · ▶ Run again"),
        (
            [entry("failed", message="assert 1 == 2")],
            None,
            False,
            "✗ AssertionError: assert 1 == 2 · ▶ Run again",
        ),
        ([entry("skipped")], None, False, "⊘ skipped · ▶ Run again"),
        ([entry("passed", value="42")], None, True, "✓ → 42 · ▶ Run again"),
        (
            [entry("passed", 1.0), entry("failed", 1.0)],
            None,
            False,
            "✗ 1 failed, 1 passed · 2.00 s · ▶ Run again",
        ),
    ],
)
def test_of_tests(entries, wall, example, expected):
    assert titles.of_tests(TEXT, entries, wall, example=example) == expected


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("short", 60, "short"),
        ("line one\nline two", 60, "line one"),
        ("abcdef", 4, "abc…"),
        ("  ", 60, ""),
    ],
)
def test_shorten(text, limit, expected):
    assert titles.shorten(text, limit) == expected

"""Executable statements (server/statements.py) agree with coverage.py's, file by file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from coverage.python import PythonParser

from twinls.server import statements as statements_module
from twinls.server.statements import NO_COVER, statements

REPO = Path(__file__).resolve().parents[2]

SAMPLE = textwrap.dedent(
    '''\
    """A module docstring."""

    import os


    @decorator(
        "arg",
    )
    def f(a,
          b):
        """Its docstring."""
        if a and (
            b
        ):
            return [
                1,
                2,
            ]
        else:
            return None


    class C:
        x = 1

        def m(self):  # pragma: no cover
            return 2

    try:
        import missing
    except ImportError:  # pragma: no cover
        missing = None

    if os.name == "nt":  # pragma: no cover
        SEP = "\\\\"
    else:
        SEP = "/"
    '''
)


def coverage_statements(text: str) -> set[int]:
    parser = PythonParser(text=text, exclude=NO_COVER.pattern)
    parser.parse_source()
    return set(parser.statements)


def test_a_sample_with_every_kind_of_line_counts_as_coverage_py_counts_it():
    mine = statements(SAMPLE)
    assert mine is not None
    assert set(mine.lines) == coverage_statements(SAMPLE)
    # Docstrings, `else:`, a multi-line statement's later lines and excluded blocks
    # do not count; a line inside a statement counts for its first line.
    assert 1 not in mine.lines and 11 not in mine.lines  # docstrings
    assert 19 not in mine.lines and 13 not in mine.lines  # else:, the if's 2nd line
    assert 25 not in mine.lines and 26 not in mine.lines  # the excluded method
    assert mine.ran([13, 16, 17]) == {12, 15}


@pytest.mark.parametrize(
    "path",
    ["server/twinls/server/plan.py", "server/twinls/run/child.py", "server/twinls/shared/units.py"],
)
def test_real_files_count_as_coverage_py_counts_them(path: str):
    text = (REPO / path).read_text()
    mine = statements(text, path)
    assert mine is not None and set(mine.lines) == coverage_statements(text)


def test_text_that_does_not_parse_has_no_statements():
    assert statements("def broken(:\n") is None
    assert statements_module.statements("") == statements_module.Statements(frozenset(), {})

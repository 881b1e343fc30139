"""Shared: what a file can run, for lenses (``shared/collect.py``)."""

from __future__ import annotations

import pytest

from twinls.shared.collect import enclosing, find_units


def check(text: str, path: str, expected: list[tuple]) -> None:
    """``expected``: (kind, qualname, line, col, end_col, mode) per unit, in text order."""
    got = [
        (u["kind"], u["qualname"], u["line"], u["col"], u["end_col"], u["mode"])
        for u in find_units(text, path)
    ]
    assert got == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("def test_a(): pass\n", [("test", "test_a", 0, 0, 10, "pytest")]),
        (
            "class TestA:\n    def test_b(self): pass\n",
            [("class", "TestA", 0, 0, 11, "pytest"), ("test", "TestA::test_b", 1, 4, 14, "pytest")],
        ),
        ("class TestA:\n    def __init__(self): pass\n", []),
        ("def helper(): pass\n", []),
        ("é = 1\ndef test_é(): pass\n", [("test", "test_é", 1, 0, 10, "pytest")]),
        # A form feed is no LSP line break: the lens stays on its name.
        ("# \f\ndef test_a(): pass\n", [("test", "test_a", 1, 0, 10, "pytest")]),
        ("x = 1  # \x0b \u2028\ndef test_a(): pass\n", [("test", "test_a", 1, 0, 10, "pytest")]),
    ],
)
def test_units_of_a_test_module(text, expected):
    units = [u for u in find_units(text, "test_m.py") if u["kind"] != "file"]
    assert [
        (u["kind"], u["qualname"], u["line"], u["col"], u["end_col"], u["mode"]) for u in units
    ] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("def example_a(): return 1\n", [("example", "example_a", 0, 0, 13, "call")]),
        (
            'def f():\n    """\n    >>> f()\n    """\n',
            [("example", "f", 0, 0, 5, "doctest")],
        ),
        ("def f(): pass\n", []),
        ("\fdef example_a(): return 1\n", [("example", "example_a", 0, 1, 14, "call")]),
    ],
)
def test_examples_of_any_module(text, expected):
    check(text, "m.py", expected)


def test_a_test_module_has_a_file_lens_first():
    assert find_units("def test_a(): pass\n", "test_m.py")[0]["kind"] == "file"
    assert find_units("def test_a(): pass\n", "m_test.py")[0]["kind"] == "file"


@pytest.mark.parametrize(
    "line, expected",
    [(0, "TestA"), (1, "TestA::test_b"), (2, "TestA::test_b"), (3, "example_c"), (5, None)],
)
def test_the_enclosing_unit(line, expected):
    text = (
        "class TestA:\n    def test_b(self):\n        pass\ndef example_c():\n    return 1\nx = 1\n"
    )
    found = enclosing(find_units(text, "test_m.py"), line)
    assert (found["qualname"] if found else None) == expected

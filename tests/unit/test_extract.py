"""Twin: one file's index entry from its text (``twin/queries/extract.py``)."""

from __future__ import annotations

import pytest

from twinls.twin.queries.extract import extract, name_at_column


def check(text: str, expected: list[tuple]) -> None:
    """``expected``: (kind, qualname, line, col, bases) per definition, in text order."""
    entry = extract(text)
    assert [(d.kind, d.qualname, d.line, d.col, d.bases) for d in entry.defs] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("def f(): pass\n", [("function", "f", 0, 4, ())]),
        ("async def f(): pass\n", [("function", "f", 0, 10, ())]),
        (
            "class A:\n    def m(self): pass\n",
            [("class", "A", 0, 6, ()), ("method", "A.m", 1, 8, ())],
        ),
        ("@dec\ndef f(): pass\n", [("function", "f", 1, 4, ())]),
        (
            "def outer():\n    def inner(): pass\n",
            [
                ("function", "outer", 0, 4, ()),
                ("function", "outer.inner", 1, 8, ()),
            ],
        ),
        ("class B(A, m.C): pass\n", [("class", "B", 0, 6, ("A", "m.C"))]),
        (
            "from ast import NodeVisitor as NV\nclass X(NV): pass\n",
            [("class", "X", 1, 6, ("ast.NodeVisitor",))],
        ),
        ("é = 1\ndef f(): pass\n", [("function", "f", 1, 4, ())]),
        ("x = 'é'; def_ = 1\ndef é(): pass\n", [("function", "é", 1, 4, ())]),  # code points
    ],
)
def test_definitions(text, expected):
    check(text, expected)


def test_identifiers_and_imports():
    entry = extract("import os.path as p\nfrom a.b import c\nvalue = c(p)\n")
    assert all(entry.has(name) for name in ("value", "c", "p", "os", "path"))
    assert not any(entry.has(name) for name in ("valu", "alue", "a.b", "", "b\nc"))
    assert entry.imports == {"p": "os.path", "c": "a.b.c"}
    assert entry.ok


def test_a_syntax_error_keeps_the_last_good_definitions():
    good = extract("def f(): pass\n")
    broken = extract("def f(:\n", previous=good)
    assert not broken.ok
    assert [d.name for d in broken.defs] == ["f"]
    assert [d.name for d in extract("def f(:\n").defs] == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "import os as o\nfrom .a import b\nclass X(o.PathLike[str], b.Y):\n    def m(self): pass\n",
        "def é(): return 'ü'\n",
        "def broken(:\n",
    ],
)
def test_an_entry_survives_the_server_cache_whole(text):
    """Issue 10: kept entries (``to_row`` through msgpack, ``from_row``) equal fresh ones."""
    import msgpack

    from twinls.twin.queries.extract import from_row, to_row

    entry = extract(text)
    assert from_row(msgpack.unpackb(msgpack.packb(to_row(entry)))) == entry


@pytest.mark.parametrize(
    "text, col, expected",
    [
        ("    target(1)", 4, ("target", 4)),  # at its start
        ("    target(1)", 7, ("target", 4)),  # inside
        ("    target(1)", 10, ("target", 4)),  # just after it
        ("a.b", 1, ("a", 0)),  # just after ``a``, before the dot
        ("a.b", 2, ("b", 2)),  # inside ``b`` wins over just after the dot
        ("ab cd", 2, ("ab", 0)),
        ("ab cd", 3, ("cd", 3)),
        ("def join(a):", 1, None),  # a keyword is no name
        ("def join(a):", 4, ("join", 4)),
        ("x = 1e5", 5, None),  # in a number: no identifier starts with a digit...
        ("    ", 2, None),
        ("é = çà", 5, ("çà", 4)),  # code points
    ],
)
def test_the_name_at_a_column(text, col, expected):
    assert name_at_column(text, col) == expected

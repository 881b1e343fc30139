"""Body-only edits (``twin/body_edits.py``): which edits a zygote's runs may swap in."""

from __future__ import annotations

import textwrap

import pytest

from twinls.run.code_swap import Functions, Started, may_swap
from twinls.twin.body_edits import body_changes, parsed

BEFORE = textwrap.dedent(
    '''\
    import os

    LIMIT = 3


    def add(a, b):
        """Adds."""
        return a + b


    def outer(x):
        def inner():
            return x
        return inner()


    @decorated
    def wrapped(n=1):
        return n


    class Shape:
        sides = 0

        def area(self):
            return 0

        def gen(self):
            yield 1
    '''
)


def edit(old: str, new: str) -> str:
    assert BEFORE.count(old) == 1, old
    return BEFORE.replace(old, new)


def check(after: str, expected: set[str] | None) -> None:
    assert body_changes(parsed(BEFORE, "calc.py"), parsed(after, "calc.py")) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Bodies only: these functions' code changes, the zygote may stay.
        (edit("return a + b", "return a - b"), {"add"}),
        (edit("return a + b", "c = a\n    return c + b"), {"add"}),  # lines move below
        (edit("        return x", "        return -x"), {"outer"}),  # nested: outer's
        (edit("        return 0", "        return 4"), {"Shape.area"}),
        (edit("    return n", "    return n + 1"), {"wrapped"}),
        (edit("return a + b", "return a + b  # note"), set()),  # a comment: no code changed
        (edit("LIMIT = 3\n", "LIMIT = 3\n\n"), set()),  # a blank line: only lines moved
        # Anything else: the zygote is replaced.
        (edit("def add(a, b):", "def add(a, b, c=0):"), None),  # signature
        (edit("@decorated\n", "@other\n"), None),  # decorator
        (edit("def wrapped(n=1)", "def wrapped(n=2)"), None),  # a default
        (edit('"""Adds."""', '"""Sums."""'), None),  # docstring (``__doc__``)
        (edit("LIMIT = 3", "LIMIT = 4"), None),  # module statement
        (edit("import os", "import sys"), None),  # import
        (edit("    sides = 0", "    sides = 1"), None),  # a class's own statement
        (edit("def add(a, b):", "def plus(a, b):"), None),  # renamed
        (BEFORE + "\n\ndef more():\n    return 1\n", None),  # added
        (edit("        return 0", "        return super().area()"), None),  # a __class__ cell
        (edit("        return x", "        return os"), {"outer"}),  # a global: fine
        (edit("        return 0", "        yield 0"), None),  # became a generator
        (edit("        yield 1", "        return 1"), None),  # stopped being one
        (edit("return a + b", "return a +"), None),  # does not parse
    ],
)
def test_body_only_edits(after: str, expected: set[str] | None) -> None:
    check(after, expected)


def test_a_closure_over_a_new_outer_variable_is_not_swapped() -> None:
    before = "def outer(x):\n    def inner():\n        return 1\n    return inner\n"
    after = "def outer(x):\n    def inner():\n        return x\n    return inner\n"
    # outer's own code changes (x becomes a cell), its free variables do not: outer swaps.
    assert body_changes(parsed(before, "m.py"), parsed(after, "m.py")) == {"outer"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/w/calc.py", True),
        ("/w/pkg/util.py", True),
        ("/w/test_calc.py", False),
        ("/w/calc_test.py", False),
        ("/w/conftest.py", False),
        ("/w/pyproject.toml", False),
    ],
)
def test_which_modules_a_run_may_swap_bodies_into(path: str, expected: bool) -> None:
    assert may_swap(path) is expected


def test_a_swap_changes_the_function_objects_and_keeps_their_cells(tmp_path) -> None:
    path = str(tmp_path / "calc.py")
    before = textwrap.dedent(
        """\
        def add(a, b):
            return a + b


        def make(k):
            def f():
                return k
            return f
        """
    )
    module: dict = {"__name__": "calc_under_test"}
    started = Started()
    started.start()
    try:
        exec(compile(before, path, "exec"), module)
        closure = module["make"](5)  # ran "while collecting"
    finally:
        started.stop()
    functions = Functions([path])
    info = functions.info(started, lambda p: before)
    assert info[path]["found"] == ["add", "make", "make.<locals>.f"]
    assert info[path]["started"] == ["<module>", "make"]  # add never ran
    after = before.replace("return a + b", "x = 1\n    return a - b").replace(
        "return k", "return k * 2"
    )
    assert (
        functions.swap(path, compile(after, path, "exec")) == 3
    )  # add; make and f moved a line, f changed
    assert module["add"](5, 3) == 2
    assert closure() == 10  # the existing closure keeps its cell, runs the new code
    assert module["add"].__code__.co_firstlineno == 1
    assert module["make"].__code__.co_firstlineno == 6

"""Line coverage over a real LSP pipe: the lines a live run's tests ran, and those they did not."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from lsp_harness import lsp_session
from test_interpreter import env_python
from test_live import T, listen, outcomes

CALC = textwrap.dedent(
    """\
    def sign(x):
        if x > 0:
            return "positive"
        else:
            return "not positive"


    def unused():
        return 1
    """
)

TESTS = textwrap.dedent(
    """\
    from calc import sign


    def test_positive():
        total = 0
        for n in range(1, 50):  # a loop: each line counts once
            total += len(sign(n))
        assert total
    """
)


def file_of(cov: dict[str, Any], uri: str) -> dict[str, Any]:
    return next(f for f in cov["files"] if f["uri"] == uri)


#: The tracer each interpreter gets (``run/trace.py``): sys.settrace before 3.12,
#: sys.monitoring from 3.12 (the project venv tests/test_interpreter.py uses).
TRACERS = {"settrace": None, "monitoring": "3.12"}


@pytest.mark.parametrize("tracer", sorted(TRACERS))
async def test_the_lines_a_test_ran_are_covered_and_the_other_branch_is_not(
    tmp_path: Path, tracer: str
) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_calc.py").write_text(TESTS)
    options: dict[str, Any] = {"liveTests": True}
    version = TRACERS[tracer]
    if version is not None:
        options["python"] = env_python(version)
    async with lsp_session(tmp_path, init_options=options) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        if version is not None:
            (twin,) = (await client.command("twinls.status"))["twins"]
            assert twin["python"]["version"].startswith(version + ".")
        assert outcomes(notes[0]) == {"test_calc.py::test_positive": "passed"}

        cov = await client.command("twinls.coverage")
        calc = file_of(cov, client.uri("calc.py"))
        # 0-based: the defs ran at import, the positive branch in the test; the else
        # branch and unused()'s body never ran. `else:` is no statement.
        assert calc["covered"] == [0, 1, 2, 7]
        assert calc["uncovered"] == [4, 8]
        assert calc["statements"] == 6
        assert [(u["name"], u["tests"]) for u in calc["units"]] == [("sign", 1), ("unused", 0)]
        tests = file_of(cov, client.uri("test_calc.py"))
        assert tests["covered"] == [0, 3, 4, 5, 6, 7] and tests["uncovered"] == []

        # An unsaved edit adds a line to the branch that ran: after the live re-run it
        # is covered, and the lines below it moved with the text.
        client.change(
            "calc.py",
            types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(2, 0), types.Position(2, 0)),
                text="        x = x * 2\n",
            ),
        )
        await client.wait_for(lambda: len(notes) >= 2, what="the live re-run", timeout=T)
        assert outcomes(notes[1]) == {"test_calc.py::test_positive": "passed"}
        calc = file_of(await client.command("twinls.coverage"), client.uri("calc.py"))
        assert calc["covered"] == [0, 1, 2, 3, 8]
        assert calc["uncovered"] == [5, 9]

"""Code lenses and runs over a real LSP connection, a real twin and real pytest."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from lsprotocol import types

from lsp_harness import lsp_session

CALC = textwrap.dedent(
    '''\
    def add(a, b):
        return a + b


    def example_total():
        return {"total": add(2, 3)}


    def double(x):
        """Twice ``x``.

        >>> double(21)
        42
        """
        return 2 * x
    '''
)

TESTS = textwrap.dedent(
    """\
    import pytest

    from calc import add


    def test_add():
        assert add(1, 2) == 3


    def test_add_wrong():
        print("computing")
        assert add(2, 2) == 5


    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_param(n):
        assert add(n, 0) == n


    class TestCalc:
        def test_zero(self):
            assert add(0, 0) == 0
    """
)


def write_project(root: Path) -> None:
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TESTS)


async def lenses(client, rel: str) -> list[types.CodeLens]:
    return await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=client.uri(rel)))
    )


def by_title(found: list[types.CodeLens]) -> list[tuple[int, str, str]]:
    return [(lens.range.start.line, lens.command.title, lens.command.command) for lens in found]


async def test_lenses_sit_on_tests_examples_and_the_file(tmp_path):
    write_project(tmp_path)
    async with lsp_session(tmp_path) as client:
        client.open("test_calc.py")
        found = by_title(await lenses(client, "test_calc.py"))
        assert found == [
            (0, "▶ Run file", "twinls.runFile"),
            (5, "▶ Run test", "twinls.runTest"),
            (9, "▶ Run test", "twinls.runTest"),
            (15, "▶ Run test", "twinls.runTest"),
            (19, "▶ Run test", "twinls.runTest"),
            (20, "▶ Run test", "twinls.runTest"),
        ]
        client.open("calc.py")
        assert by_title(await lenses(client, "calc.py")) == [
            (4, "▶ Run example", "twinls.runExample"),
            (8, "▶ Run example", "twinls.runExample"),
        ]
        # Lenses follow the unsaved text.
        client.replace_all("calc.py", "\n\n" + CALC)
        assert [ln for ln, *_ in by_title(await lenses(client, "calc.py"))] == [6, 10]


def count_refreshes(client) -> list[None]:
    """The ``workspace/codeLens/refresh`` requests the client answered (from now on)."""
    client.lens_refreshes.clear()
    return client.lens_refreshes


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` and its text: a run must add or change none."""
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


async def run_lens(client, rel: str, line: int) -> dict:
    lens = next(ln for ln in await lenses(client, rel) if ln.range.start.line == line)
    return await client.command(lens.command.command, *lens.command.arguments)


async def test_runs_report_outcomes_and_follow_unsaved_edits(tmp_path):
    write_project(tmp_path)
    before = snapshot(tmp_path)
    async with lsp_session(tmp_path) as client:
        refreshes = count_refreshes(client)
        client.open("test_calc.py")
        uri = client.uri("test_calc.py")

        tokens = set(client.progress_values)
        ok = await run_lens(client, "test_calc.py", 5)
        assert ok["kind"] == "test" and ok["outcome"] == "passed"
        (token,) = set(client.progress_values) - tokens  # a bar the server asked the client for
        await client.wait_for(lambda: len(client.progress_values[token]) >= 2, what="bar's end")
        kinds = [v["kind"] for v in client.progress_values[token]]
        assert kinds[0] == "begin" and kinds[-1] == "end"
        assert ok["uri"] == uri
        (test,) = ok["tests"]
        assert test["nodeid"] == "test_calc.py::test_add"
        assert test["outcome"] == "passed" and test["line"] == 5 and test["duration"] > 0
        assert ok["summary"]["passed"] == 1

        bad = await run_lens(client, "test_calc.py", 9)
        (test,) = bad["tests"]
        assert bad["outcome"] == "failed" and test["outcome"] == "failed"
        assert test["message"].startswith("assert 4 == 5")
        assert test["uri"] == uri and test["line"] == 11
        assert test["stdout"] == "computing\n"
        diags = await client.wait_for(lambda: client.diagnostics.get(uri), what="diagnostics")
        (diag,) = diags
        assert diag.range.start.line == 11 and diag.source == "twinls"
        assert "assert 4 == 5" in diag.message

        # Fix the code under test without saving: the failing test passes, the passing one fails.
        client.open("calc.py")
        client.replace_all("calc.py", CALC.replace("return a + b", "return a + b + (a == 2)"))
        fixed = await run_lens(client, "test_calc.py", 9)
        assert fixed["outcome"] == "passed"
        await client.wait_for(lambda: not client.diagnostics[uri], what="cleared diagnostics")

        # An unsaved edit to the test itself counts too, asserts still rewritten.
        client.replace_all("test_calc.py", TESTS.replace("add(1, 2) == 3", "add(1, 2) == 30"))
        broken = await run_lens(client, "test_calc.py", 5)
        (test,) = broken["tests"]
        assert test["outcome"] == "failed" and test["message"].startswith("assert 3 == 30")
        assert "where 3 = add(1, 2)" in test["message"]

        await client.wait_for(lambda: refreshes, what="a codeLens refresh")
        titles = {
            ln.range.start.line: ln.command.title for ln in await lenses(client, "test_calc.py")
        }
        assert titles[5].startswith("✗ AssertionError: assert 3 == 30")
        assert titles[5].endswith(" · ▶ Run again")  # a lens that ran still runs again
        assert re.fullmatch(r"✓ (\d+ ms|\d+\.\d\d s) · ▶ Run again", titles[9]), titles[9]
        assert titles[15] == "▶ Run test"

        # A syntax error in the unsaved text: the file's run errors at that line.
        client.replace_all("test_calc.py", TESTS.replace("def test_add():", "def test_add(:"))
        syntax = await client.command("twinls.runFile", uri)
        (test,) = syntax["tests"]
        assert syntax["outcome"] == "error" and test["line"] == 5
        assert test["message"].startswith("SyntaxError")
        await client.wait_for(
            lambda: [d.range.start.line for d in client.diagnostics[uri]] == [5],
            what="the syntax error's diagnostic alone",
        )
    assert snapshot(tmp_path) == before  # no __pycache__, no .pytest_cache, no temp copies


async def test_examples_return_their_repr_and_run_at_cursor(tmp_path):
    write_project(tmp_path)
    async with lsp_session(tmp_path) as client:
        client.open("calc.py")
        total = await run_lens(client, "calc.py", 4)
        assert total["kind"] == "example" and total["outcome"] == "passed"
        (entry,) = total["tests"]
        assert entry["value"] == "{'total': 5}" and entry["line"] == 4

        doc = await run_lens(client, "calc.py", 8)
        assert doc["outcome"] == "passed" and doc["tests"][0]["value"] == "42"

        # An unsaved edit breaks the doctest: the failing example's line is named.
        client.replace_all("calc.py", CALC.replace("return 2 * x", "return 3 * x"))
        broken = await run_lens(client, "calc.py", 8)
        (entry,) = broken["tests"]
        assert entry["outcome"] == "failed" and entry["line"] == 11
        assert "Expected:\n    42\nGot:\n    63" in entry["message"]
        titles = {ln.range.start.line: ln.command.title for ln in await lenses(client, "calc.py")}
        assert titles == {
            4: "✓ → {'total': 5} · ▶ Run again",
            8: "✗ Failed example: double(21) · ▶ Run again",
        }

        # Run at cursor: inside an example, inside a parametrized test, inside a method.
        at = await client.command(
            "twinls.runAt", client.uri("calc.py"), {"line": 5, "character": 4}
        )
        assert at["kind"] == "example" and at["tests"][0]["value"] == "{'total': 5}"
        uri = client.uri("test_calc.py")
        param = await client.command("twinls.runAt", uri, {"line": 16, "character": 8})
        assert [t["nodeid"] for t in param["tests"]] == [
            "test_calc.py::test_param[1]",
            "test_calc.py::test_param[2]",
            "test_calc.py::test_param[3]",
        ]
        assert param["summary"]["passed"] == 3
        method = await client.command("twinls.runAt", uri, {"line": 21, "character": 0})
        assert [t["name"] for t in method["tests"]] == ["test_zero"]

        # A client may name less than a lens carries: the twin fills in the rest.
        cls = await client.command(
            "twinls.runTest", {"uri": uri, "nodeid": "test_calc.py::TestCalc"}
        )
        assert [t["nodeid"] for t in cls["tests"]] == ["test_calc.py::TestCalc::test_zero"]
        named = await client.command(
            "twinls.runExample", {"uri": client.uri("calc.py"), "name": "double"}
        )
        assert "Got:\n    63" in named["tests"][0]["message"]  # its doctest ran, not a call

        whole = await client.command("twinls.runFile", uri)
        assert whole["kind"] == "file" and whole["outcome"] == "failed"
        assert {k: n for k, n in whole["summary"].items() if n} == {"failed": 1, "passed": 5}
        assert whole["exitcode"] == 1 and whole["message"] is None


async def test_lens_and_diagnostic_columns_follow_the_negotiated_encoding(tmp_path):
    failing = '    assert "😀" + "é" == "x"'
    (tmp_path / "test_wide.py").write_text(f"def test_café():\n{failing}\n")
    async with lsp_session(tmp_path, encodings=["utf-8"]) as client:
        uri = client.open("test_wide.py")
        _, lens = await lenses(client, "test_wide.py")
        assert lens.range.end.character == len(b"def test_caf\xc3\xa9")
        result = await client.command(lens.command.command, *lens.command.arguments)
        assert result["outcome"] == "failed"
        (diag,) = await client.wait_for(lambda: client.diagnostics.get(uri), what="diagnostic")
        assert (diag.range.start.line, diag.range.start.character) == (1, 4)
        assert diag.range.end.character == len(failing.encode())

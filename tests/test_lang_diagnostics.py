"""Syntax errors as diagnostics over a real LSP connection, beside test failures.

Both sources publish for the same file; every publish must carry both (LSP
replaces a file's diagnostics with each publish), and each source clears only
its own.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp_harness import TwinClient, lsp_session
from test_search import write

TESTS = """\
def add(a, b):
    return a + b


def test_add():
    assert add(1, 2) == 30
"""


def syntax(client: TwinClient, uri: str) -> list[types.Diagnostic]:
    return [d for d in client.diagnostics.get(uri, []) if d.code == "syntax-error"]


def failures(client: TwinClient, uri: str) -> list[types.Diagnostic]:
    return [d for d in client.diagnostics.get(uri, []) if d.code != "syntax-error"]


async def test_syntax_errors_published_cleared_and_merged_with_test_failures(tmp_path: Path):
    write(tmp_path, {"test_calc.py": TESTS})
    async with lsp_session(tmp_path, {"syntaxDebounce": 0.05}) as client:
        # An unsaved file with two errors: both reported, at their lines.
        uri = client.open("draft.py", "def f(:\n    pass\n\nx = (1,\n")
        found = await client.wait_for(lambda: syntax(client, uri), what="syntax diagnostics")
        assert {d.range.start.line for d in found} >= {0}
        assert all(d.source == "twinls" and d.severity == 1 for d in found)
        for fix in range(2):  # fixed, broken again, fixed again: each publish checked
            client.replace_all("draft.py", "def f():\n    pass\n")
            await client.wait_for(
                lambda: uri in client.diagnostics and not client.diagnostics[uri],
                what="cleared syntax diagnostics",
            )
            if fix == 0:
                client.replace_all("draft.py", "def f():\n    pass\n\n  x = 1\n")
                (d,) = await client.wait_for(lambda: syntax(client, uri), what="indent error")
                assert d.range.start.line == 3

        # A test failure, then a syntax error elsewhere in the same file: both shown.
        test_uri = client.open("test_calc.py", TESTS)
        result = await client.command("twinls.runFile", test_uri)
        assert result["outcome"] == "failed"
        (fail,) = await client.wait_for(lambda: failures(client, test_uri), what="failure")
        assert fail.range.start.line == 5
        client.replace_all("test_calc.py", TESTS + "\ndef broken(:\n")
        await client.wait_for(lambda: syntax(client, test_uri), what="syntax error beside it")
        assert [d.range.start.line for d in failures(client, test_uri)] == [5]
        assert syntax(client, test_uri)[0].range.start.line == 7
        # Fixing the syntax clears only the syntax error; the failure stays.
        client.replace_all("test_calc.py", TESTS)
        await client.wait_for(lambda: not syntax(client, test_uri), what="syntax cleared")
        assert [d.range.start.line for d in failures(client, test_uri)] == [5]
        # Fixing the test clears only the failure.
        client.replace_all("test_calc.py", TESTS.replace("== 30", "== 3") + "\ndef broken(:\n")
        await client.wait_for(lambda: syntax(client, test_uri), what="syntax again")
        result = await client.command("twinls.runFile", test_uri)
        assert result["outcome"] == "error"  # the file does not parse now
        client.replace_all("test_calc.py", TESTS.replace("== 30", "== 3"))
        await client.wait_for(lambda: not syntax(client, test_uri), what="syntax cleared again")
        result = await client.command("twinls.runFile", test_uri)
        assert result["outcome"] == "passed"
        await client.wait_for(lambda: not client.diagnostics[test_uri], what="all cleared")

"""pytest's rules over LSP: subtests, deselection, run-level errors, folders, faulthandler.

Real server, real twin, real pytest; the counts are checked against a plain
``python -m pytest`` of the same project.
"""

from __future__ import annotations

import re
import textwrap

from lsp_harness import lsp_session
from test_run_exit_codes import MIXED, SUBTESTS, closing_counts, command
from test_run_lenses import count_refreshes, lenses
from twinls.shared import checks, schema


def write(root, ini: str = "") -> None:
    (root / "tests").mkdir()
    (root / "tests" / "test_subtests.py").write_text(SUBTESTS)
    (root / "tests" / "test_mixed.py").write_text(MIXED)
    (root / "test_top.py").write_text("def test_top():\n    pass\n")
    (root / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    slow: slow tests\naddopts = -m 'not slow'\n" + ini
    )


def counts(summary: dict[str, int]) -> dict[str, int]:
    return {k: n for k, n in summary.items() if n}


async def titles(client, rel: str) -> dict[int, str]:
    return {ln.range.start.line: ln.command.title for ln in await lenses(client, rel)}


async def test_a_failing_subtest_fails_its_test_everywhere(tmp_path):
    write(tmp_path)
    expected = closing_counts(command(tmp_path, "pytest", "tests/test_subtests.py").stdout)
    assert expected == {"failed": 4, "passed": 3}  # 3 SUBFAILED + the fixture test itself
    async with lsp_session(tmp_path) as client:
        refreshes = count_refreshes(client)
        uri = client.open("tests/test_subtests.py")
        result = await client.command("twinls.runFile", uri)
        # The answer is the schema's RunResult (protocol.ts is checked against it).
        checks.check(result, schema.RunResult, "twinls.runFile's answer", deep=True)
        assert counts(result["summary"]) == expected
        assert result["outcome"] == "failed" and result["exitcode"] == 1
        tests = {t["name"]: t for t in result["tests"]}
        odd = tests["test_odd"]
        assert odd["outcome"] == "failed"  # pytest's own line says PASSED for it
        assert odd["message"] == "(i=1): AssertionError: 1 unexpectedly found in (1, 3)"
        assert odd["line"] == 7 and odd["uri"] == uri
        assert [(s["name"], s["outcome"]) for s in odd["subtests"]] == [
            ("(i=0)", "passed"),
            ("(i=1)", "failed"),
            ("(i=2)", "passed"),
            ("(i=3)", "failed"),
        ]
        assert [s["line"] for s in odd["subtests"] if s["outcome"] == "failed"] == [7, 7]
        assert "AssertionError: 3 unexpectedly found in (1, 3)" in odd["traceback"]
        fixture = tests["test_fixture"]
        assert fixture["outcome"] == "failed" and fixture["line"] == 18
        assert fixture["message"].startswith("[b]: AssertionError: assert 'b' == 'a'")
        assert tests["test_fine"]["outcome"] == "passed"
        assert tests["test_all_pass"]["outcome"] == "passed"

        diags = await client.wait_for(
            lambda: len(client.diagnostics.get(uri, [])) == 3 and client.diagnostics[uri],
            what="a diagnostic per failing subtest",
        )
        assert sorted(d.range.start.line for d in diags) == [7, 7, 18]
        assert {d.message for d in diags if d.range.start.line == 7} == {
            "test_odd (i=1): AssertionError: 1 unexpectedly found in (1, 3)",
            "test_odd (i=3): AssertionError: 3 unexpectedly found in (1, 3)",
        }
        await client.wait_for(lambda: refreshes, what="a codeLens refresh")
        shown = await titles(client, "tests/test_subtests.py")
        assert shown[4].startswith("✗ (i=1): AssertionError: 1 unexpectedly found in (1, 3)")
        assert shown[15].startswith("✗ [b]: ")
        # A test's own time (the file's run brought it), its passed subtests, a re-run.
        assert re.fullmatch(
            r"✓ 2 subtests passed · (\d+ ms|\d+\.\d\d s) · ▶ Run again", shown[9]
        ), shown[9]

        # Fixed without saving: the test, its lens and its diagnostics turn green.
        client.replace_all(
            "tests/test_subtests.py",
            SUBTESTS.replace("(1, 3)", "()"),
        )
        lens = next(
            ln for ln in await lenses(client, "tests/test_subtests.py") if ln.range.start.line == 4
        )
        again = await client.command(lens.command.command, *lens.command.arguments)
        (test,) = again["tests"]
        assert test["outcome"] == "passed" and again["exitcode"] == 0
        assert [s["outcome"] for s in test["subtests"]] == ["passed"] * 4
        await client.wait_for(
            lambda: [d.range.start.line for d in client.diagnostics[uri]] == [18],
            what="test_odd's diagnostics cleared, test_fixture's kept",
        )
        shown = await titles(client, "tests/test_subtests.py")
        assert shown[4].startswith("✓ ")


async def test_deselected_tests_and_missing_ids_say_what_pytest_says(tmp_path):
    write(tmp_path)
    async with lsp_session(tmp_path) as client:
        uri = client.open("tests/test_mixed.py")
        slow = next(
            ln for ln in await lenses(client, "tests/test_mixed.py") if ln.range.start.line == 20
        )
        result = await client.command(slow.command.command, *slow.command.arguments)
        assert result["outcome"] == "deselected" and result["tests"] == []
        assert counts(result["summary"]) == {"deselected": 1}
        assert result["exitcode"] == 5
        shown = await titles(client, "tests/test_mixed.py")
        assert shown[20] == "⊘ 1 deselected · ▶ Run again"

        whole = await client.command("twinls.runFile", uri)
        assert counts(whole["summary"]) == {
            "failed": 1,
            "passed": 1,
            "deselected": 1,
            "warnings": 1,
            "error": 1,
        }
        (bad,) = [t for t in whole["tests"] if t["name"] == "test_fails_and_teardown_breaks"]
        assert [(e["when"], e["message"]) for e in bad["errors"]] == [
            ("call", "assert 1 == 2"),
            ("teardown", "RuntimeError: teardown broke"),
        ]
        assert "UserWarning: careful" in whole["warnings"]

        missing = await client.command(
            "twinls.runTest", {"uri": uri, "qualname": "test_missing", "kind": "test"}
        )
        assert missing["outcome"] == "error" and missing["tests"] == []
        assert missing["exitcode"] == 4
        assert missing["message"].startswith("ERROR: not found: ")
        assert "test_mixed.py::test_missing" in missing["message"]


async def test_folders_and_the_workspace_run_as_pytest_runs_them(tmp_path):
    write(tmp_path)
    folder = closing_counts(command(tmp_path, "pytest", "tests").stdout)
    everything = closing_counts(command(tmp_path, "pytest").stdout)
    async with lsp_session(tmp_path) as client:
        tests = await client.command("twinls.runFolder", client.uri("tests"))
        assert tests["kind"] == "folder"
        assert counts(tests["summary"]) == folder
        assert {t["nodeid"].split("::")[0] for t in tests["tests"]} == {
            "tests/test_mixed.py",
            "tests/test_subtests.py",
        }
        whole = await client.command("twinls.runFolder")
        assert counts(whole["summary"]) == everything
        assert "test_top.py::test_top" in {t["nodeid"] for t in whole["tests"]}


# CPython's watchdog reads the main thread's frames without the GIL while it dumps
# them (best effort, racy by design: python/cpython#143109), so a test that calls
# Python functions, or returns, during the dump can take the process down with
# SIGSEGV. That flaked here under load. The body waits in a loop of C calls only
# (no frame is pushed or popped) until the watchdog thread has dumped and exited:
# an event, not a time.
SLOW = textwrap.dedent(
    """\
    import os


    def test_slow():
        while len(os.listdir("/proc/self/task")) > 1:  # the watchdog thread, until it is done
            os.sched_yield()
    """
)


async def test_faulthandler_timeout_dumps_stacks_into_the_tests_stderr(tmp_path):
    (tmp_path / "test_slow.py").write_text(SLOW)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-config\nfilterwarnings = error\n"
        "asyncio_default_fixture_loop_scope = function\nfaulthandler_timeout = 0.05\n"
    )
    async with lsp_session(tmp_path) as client:
        result = await client.command("twinls.runFile", client.uri("test_slow.py"))
        assert len(result["tests"]) == 1, result["tests"]  # once flaked in CI: see the note
        (test,) = result["tests"]
        assert test["outcome"] == "passed", (test.get("message"), test.get("traceback"))
        # The dump may come during setup on a loaded machine: its frames are pytest's then.
        assert "Timeout (0:00:00.05" in test["stderr"]
        assert "(most recent call first):" in test["stderr"]
        assert re.search(r'File ".*", line \d+ in \w+', test["stderr"])

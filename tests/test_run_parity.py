"""twinls's outcomes and counts match a plain ``python -m pytest`` run of the same file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

from lsp_harness import lsp_session

SAMPLE = textwrap.dedent(
    """\
    import pytest


    @pytest.fixture
    def broken():
        raise RuntimeError("fixture broke")


    @pytest.fixture
    def bad_teardown():
        yield 1
        raise RuntimeError("teardown broke")


    def test_pass():
        print("fine")


    def test_fail():
        assert 1 == 2


    def test_error(broken):
        pass


    def test_teardown_error(bad_teardown):
        pass


    def test_skip():
        pytest.skip("not today")


    @pytest.mark.skipif(True, reason="never")
    def test_skipif():
        pass


    @pytest.mark.xfail(reason="known bug")
    def test_xfail():
        assert False


    @pytest.mark.xfail(reason="maybe fixed")
    def test_xpass():
        pass


    @pytest.mark.xfail(strict=True)
    def test_xpass_strict():
        pass


    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_param(n):
        assert n != 2


    class TestGroup:
        def test_a(self):
            pass

        def test_b(self):
            raise ValueError("boom")
    """
)

WORDS = {"PASSED": "passed", "FAILED": "failed", "ERROR": "error", "XFAIL": "xfailed"}
WORDS["XPASS"] = "xpassed"


def plain_pytest(root) -> tuple[dict[str, set[str]], dict[str, int]]:
    """Per node id the outcomes ``-rA`` lists, and the closing line's counts."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "test_sample.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    per_test: dict[str, set[str]] = {}
    for m in re.finditer(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+)", proc.stdout, re.M):
        per_test.setdefault(m.group(2), set()).add(WORDS[m.group(1)])
    closing = proc.stdout.strip().splitlines()[-1]
    counts = {}
    for n, word in re.findall(r"(\d+) (\w+)", closing.rpartition(" in ")[0]):
        word = {"errors": "error"}.get(word, word)
        counts[word] = int(n)
    return per_test, counts


async def test_outcomes_and_counts_match_plain_pytest(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    expected_tests, expected_counts = plain_pytest(tmp_path)
    assert expected_counts["failed"] == 4 and expected_counts["error"] == 2  # the sample works
    async with lsp_session(tmp_path) as client:
        result = await client.command("twinls.runFile", client.uri("test_sample.py"))
    summary = {k: v for k, v in result["summary"].items() if v}
    assert summary == {k: v for k, v in expected_counts.items() if k in result["summary"]}
    ours = {t["nodeid"]: t for t in result["tests"]}
    for nodeid, outcomes in expected_tests.items():
        assert ours[nodeid]["outcome"] in outcomes, nodeid
    skipped = [t for t in result["tests"] if t["outcome"] == "skipped"]
    assert len(skipped) == expected_counts["skipped"]
    assert ours["test_sample.py::test_teardown_error"]["outcome"] == "error"
    assert ours["test_sample.py::test_fail"]["message"] == "assert 1 == 2"
    assert ours["test_sample.py::test_fail"]["line"] == 19
    error = ours["test_sample.py::test_error"]
    assert error["message"] == "RuntimeError: fixture broke" and error["line"] == 5
    assert ours["test_sample.py::test_skip"]["message"] == "Skipped: not today"
    assert ours["test_sample.py::test_pass"]["stdout"] == "fine\n"
    assert ours["test_sample.py::TestGroup::test_b"]["message"] == "ValueError: boom"

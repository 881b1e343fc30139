"""Warm collection over a real LSP pipe: a collected test file stays collected in a zygote.

The second lens run of a test in a parametrized module is served by the zygote
the first one left (the result's ``warm`` names it), answers exactly what a cold
run (``warmMax: 0``) answers, sets its session fixture up afresh, and an unsaved
edit of a module the test file imports replaces the zygote (the result then
reflects the edit).
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from lsp_harness import lsp_session

T = 180.0

CALC = "def add(a, b):\n    return a + b\n"

TESTS = textwrap.dedent(
    """\
    import pytest

    from calc import add

    SETUPS = []


    @pytest.fixture(scope="session")
    def session_state():
        SETUPS.append(1)
        yield SETUPS
        SETUPS.clear()


    @pytest.mark.parametrize("n", range(200))
    def test_case(n, session_state):
        print("case", n)
        assert session_state == [1]  # set up once per run: no run sees another's
        assert add(n, 1) == n + 1


    def test_fails():
        assert add(2, 2) == 5
    """
)


def same(result: dict[str, Any]) -> dict[str, Any]:
    """What a user sees of a run, without times and the run's identity."""
    tests = [
        {k: t.get(k) for k in ("nodeid", "outcome", "message", "stdout", "line", "categories")}
        for t in result["tests"]
    ]
    return {
        "outcome": result["outcome"],
        "summary": result["summary"],
        "exitcode": result["exitcode"],
        "message": result["message"],
        "tests": tests,
    }


async def run(client: Any, qualname: str) -> dict[str, Any]:
    uri = client.uri("test_cases.py")
    return await client.command("twinls.runTest", {"uri": uri, "qualname": qualname})


async def test_a_second_run_is_served_warm_and_an_imported_edit_replaces_the_zygote(
    tmp_path: Path,
) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_cases.py").write_text(TESTS)

    async with lsp_session(tmp_path, init_options={"warmMax": 0}) as client:
        cold = {q: await run(client, q) for q in ("test_case[3]", "test_case", "test_fails")}
    assert [r["warm"] for r in cold.values()] == [[], [], []]
    assert cold["test_case"]["summary"]["passed"] == 200
    assert cold["test_fails"]["tests"][0]["outcome"] == "failed"

    async with lsp_session(tmp_path) as client:
        first = await run(client, "test_case[3]")
        [zygote] = first["warm"]
        assert zygote["run"] == 1
        for n, qualname in enumerate(["test_case[3]", "test_case", "test_fails"], start=2):
            again = await run(client, qualname)
            assert again["warm"] == [
                {"zygote": zygote["zygote"], "file": zygote["file"], "run": n, "swapped": []}
            ], qualname
            assert same(again) == same(cold[qualname]), qualname
        assert same(first) == same(cold["test_case[3]"])
        assert first["tests"][0]["stdout"] == "case 3\n"

        # An unsaved edit of a module the test file imports: a new zygote, the edit's result
        # (a signature: an edit of bodies only keeps the zygote, tests/test_code_swap.py).
        client.open("calc.py")
        client.replace_all("calc.py", "def add(a, b, c=0):\n    return a - b\n")
        edited = await run(client, "test_case[3]")
        [fresh] = edited["warm"]
        assert fresh["zygote"] != zygote["zygote"] and fresh["run"] == 1
        assert [t["outcome"] for t in edited["tests"]] == ["failed"]
        assert "assert 2 ==" in edited["tests"][0]["message"]
        second = await run(client, "test_case[3]")
        assert second["warm"] == [
            {"zygote": fresh["zygote"], "file": fresh["file"], "run": 2, "swapped": []}
        ]
        assert same(second) == same(edited)


#: A test that blocks its run until the test releases it.
BLOCK = textwrap.dedent(
    """\


    def test_wait():
        import pathlib
        import time

        here = pathlib.Path(__file__).parent
        (here / "started").write_text("")
        while not (here / "release").exists():
            time.sleep(0.02)
    """
)


async def test_a_file_runs_again_on_the_twin_that_holds_its_zygote(tmp_path: Path) -> None:
    """With two twins, a test file's runs go to the twin whose zygote collected it, even
    while that twin is busy and the other idle: the least busy twin would collect the
    file again (the result's ``warm`` would name a new zygote) and keep a second zygote."""
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_cases.py").write_text(TESTS + BLOCK)
    async with lsp_session(tmp_path, {"pool": 2}) as client:
        while (await client.status())["pool"]["live"] < 2:  # both twins: a choice to make
            await asyncio.sleep(0.05)
        first = await run(client, "test_case[3]")
        [zygote] = first["warm"]
        block = asyncio.ensure_future(run(client, "test_wait"))  # its twin stays busy
        while not (tmp_path / "started").exists():
            await asyncio.sleep(0.02)
        again = await run(client, "test_case[3]")
        (tmp_path / "release").write_text("")
        blocked = await block
        assert blocked["outcome"] == "passed"
        assert blocked["twins"] == again["twins"] == first["twins"]
        assert [w["zygote"] for w in blocked["warm"] + again["warm"]] == [zygote["zygote"]] * 2
        assert same(again) == same(first)

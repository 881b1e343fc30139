"""Live runs over several test files, over a real LSP pipe: one warm run per test file.

An unsaved edit of ``calc.add``, which tests in two test files call, is followed
by one live run whose answer was served by each file's collection zygote (a run
over both files would collect them cold: ``warm`` empty). Each file's broken
test gets its diagnostic; fixing the body swaps it into both zygotes. With
``liveMax`` 1 the second file's run waits for the first; a newer edit cancels
the live run and the file run still waiting never starts: its tests are owed
to the next live run.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from lsp_harness import lsp_session
from test_live import T, edit, failing_lines, listen, outcomes

CALC = textwrap.dedent(
    """\
    def add(a, b):
        return a + b


    def mul(a, b):
        return a * b
    """
)


def suite_of(name: str) -> str:
    return textwrap.dedent(
        f"""\
        from calc import add, mul


        def test_add_{name}():
            assert add(1, 2) == 3


        def test_mul_{name}():
            assert mul(2, 3) == 6
        """
    )


async def test_an_edit_whose_tests_span_two_files_runs_each_file_warm(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_one.py").write_text(suite_of("one"))
    (tmp_path / "test_two.py").write_text(suite_of("two"))
    files = {name: str((tmp_path / name).resolve()) for name in ("test_one.py", "test_two.py")}
    async with lsp_session(tmp_path, init_options={"liveTests": True, "liveMax": 1}) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        assert notes[0]["reason"] == "baseline"
        assert set(outcomes(notes[0]).values()) == {"passed"}

        # Break add (a body-only edit): its tests in both files run, each in its file's zygote.
        edit(client, 1, "return a + b", "return a - b")
        await client.wait_for(lambda: len(notes) >= 2, what="the run after the edit", timeout=T)
        broken = notes[1]
        assert broken["reason"] == "edit"
        assert outcomes(broken) == {
            "test_one.py::test_add_one": "failed",
            "test_two.py::test_add_two": "failed",
        }
        warm = broken["result"]["warm"]
        assert sorted(w["file"] for w in warm) == sorted(files.values())
        assert len({w["zygote"] for w in warm}) == 2  # two zygotes, one per file
        assert all(w["run"] == 1 for w in warm)
        for name in files:
            await client.wait_for(
                lambda name=name: (
                    failing_lines(client, client.uri(name)) == [f"test_add_{name[5:-3]}"]
                ),
                what=f"{name}'s failing test's diagnostic",
                timeout=T,
            )

        # Fix it: the same zygotes serve again, each with calc's body as it collected it:
        # a zygote collected ahead after the baseline (``Live.prewarm``) has the fixed text
        # already (the break was swapped in), one the break's run collected has the break.
        edit(client, 1, "return a - b", "return a + b")
        await client.wait_for(lambda: len(notes) >= 3, what="the run after the fix", timeout=T)
        fixed = notes[2]
        assert outcomes(fixed) == {
            "test_one.py::test_add_one": "passed",
            "test_two.py::test_add_two": "passed",
        }
        calc = str((tmp_path / "calc.py").resolve())
        again = {w["file"]: w for w in fixed["result"]["warm"]}
        for w in warm:
            assert again[w["file"]] == {**w, "run": 2, "swapped": [] if w["swapped"] else [calc]}
        for name in files:
            await client.wait_for(
                lambda name=name: failing_lines(client, client.uri(name)) == [],
                what=f"{name}'s diagnostic cleared",
                timeout=T,
            )
        status = (await client.command("twinls.status"))["live"]
        assert status["peak"] == 1 and status["running"] == 0 and status["waiting"] == 0


#: test_one's test blocks (once mul says "slow") while the file ``block`` exists.
BLOCKING = textwrap.dedent(
    """\
    import pathlib
    import time

    from calc import mul

    HERE = pathlib.Path(__file__).parent


    def test_mul_one():
        if mul.__doc__ == "slow":
            (HERE / "started").touch()
            while (HERE / "block").exists():
                time.sleep(0.01)
        assert mul(2, 3) == 6
    """
)


async def test_a_newer_edit_cancels_the_file_runs_still_queued_and_owes_their_tests(
    tmp_path: Path,
) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_one.py").write_text(BLOCKING)
    (tmp_path / "test_two.py").write_text(suite_of("two"))
    (tmp_path / "block").touch()
    async with lsp_session(tmp_path, init_options={"liveTests": True, "liveMax": 1}) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)

        # mul's tests lie in both files (one test each: test_one.py first, by name); its
        # run blocks, so test_two.py's waits for the budget.
        edit(client, 5, "return a * b", '"slow"; return a * b')
        await client.wait_for((tmp_path / "started").exists, what="test_one's run", timeout=T)
        status = (await client.command("twinls.status"))["live"]
        assert status["running"] == 1 and status["waiting"] == 1

        # A newer edit (of add only): the stale run is cancelled before test_two.py's run
        # starts; mul's tests are owed to the next run, beside add's.
        edit(client, 1, "return a + b", "return a - b")
        await client.wait_for(lambda: len(notes) >= 2, what="the stale run's end", timeout=T)
        stale = notes[1]
        assert stale["result"]["outcome"] == "cancelled"
        assert "test_two.py::test_mul_two" not in outcomes(stale)
        (tmp_path / "block").unlink()
        await client.wait_for(lambda: len(notes) >= 3, what="the next run", timeout=T)
        assert outcomes(notes[2]) == {
            "test_one.py::test_mul_one": "passed",
            "test_two.py::test_add_two": "failed",
            "test_two.py::test_mul_two": "passed",
        }
        files = {Path(w["file"]).name for w in notes[2]["result"]["warm"]}
        assert files == {"test_one.py", "test_two.py"}
        status = (await client.command("twinls.status"))["live"]
        assert status["owed"] == 0 and status["cancelled"] == 1 and status["peak"] == 1

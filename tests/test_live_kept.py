"""Live tests' map kept in the server's cache, over a real LSP pipe: two sessions.

Session 1 (``liveTests``, ``cache: true``) runs the baseline and writes the map;
session 2 on the same workspace (the same ``XDG_CACHE_HOME``) reads it back:
with nothing changed no run covers the workspace and the first edit of a function
runs only the tests that executed it; a test file changed on disk runs at start; a
changed ``pyproject.toml`` drops the map (a whole baseline); ``cache: false``
writes nothing and session 2 runs the baseline again.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from disk_snapshot import diff, snapshot
from lsp_harness import TwinClient, lsp_session, private_home
from test_live import CALC, T, edit, failing_lines, listen, outcomes

ONE = textwrap.dedent(
    """\
    from calc import add, mul


    def test_add():
        assert add(1, 2) == 3


    def test_mul():
        assert mul(2, 3) == 6


    def test_mul_known_bad():
        assert mul(1, 1) == 2
    """
)
TWO = textwrap.dedent(
    """\
    from calc import add


    def test_add_two():
        from helper import four  # imported when it runs: only this test executes helper.py

        assert add(2, 2) == four()
    """
)
HELPER = "def four():\n    return 4\n"
EVERY = {
    "test_one.py::test_add": "passed",
    "test_one.py::test_mul": "passed",
    "test_one.py::test_mul_known_bad": "failed",
    "test_two.py::test_add_two": "passed",
}
OPTIONS = {"liveTests": True, "cache": True, "liveMax": 1}


def workspace(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    ws, home = tmp_path / "ws", tmp_path / "home"
    ws.mkdir()
    (ws / "calc.py").write_text(CALC)
    (ws / "test_one.py").write_text(ONE)
    (ws / "test_two.py").write_text(TWO)
    (ws / "helper.py").write_text(HELPER)
    (ws / "pyproject.toml").write_text('[project]\nname = "calc"\n')
    return ws, home, private_home(home)


async def live_status(client: TwinClient, until: Any) -> dict[str, Any]:
    """The ``live`` block once ``until(block)`` holds (polled: a bound, not a timing)."""
    for _ in range(int(T / 0.05)):
        live = (await client.status())["live"]
        if until(live):
            return live
        await asyncio.sleep(0.05)
    raise AssertionError(f"live status never got there: {live}")


async def first_session(ws: Path, env: dict[str, str], options=OPTIONS) -> list[dict]:
    """The baseline, and (cache on) the map written once it is over."""
    async with lsp_session(ws, env=env, init_options=options) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        assert notes[0]["reason"] == "baseline" and outcomes(notes[0]) == EVERY
        if options.get("cache"):
            await live_status(client, lambda live: live["saved"] >= 1)
    return notes


def kept_maps(home: Path) -> list[Path]:
    return sorted((home / ".cache" / "twinls").glob("v*/livemap/*/*"))


async def test_an_unchanged_restart_runs_nothing_and_an_edit_only_its_tests(tmp_path):
    ws, home, env = workspace(tmp_path)
    before = snapshot(ws, home)
    await first_session(ws, env)
    assert len(kept_maps(home)) == 1
    cache_dir = str(home / ".cache" / "twinls")
    outside = [
        line
        for line in diff(before, snapshot(ws, home))
        if not (line[2:] + "/").startswith(cache_dir + "/") and line != f"~ {home / '.cache'}"
    ]
    assert outside == []  # the map is written in the cache dir only

    async with lsp_session(ws, env=env, init_options=OPTIONS) as client:
        notes = listen(client)
        client.open("calc.py")
        one = client.uri("test_one.py")
        # The kept outcomes are shown (Testing view, diagnostics): nothing ran for them.
        await client.wait_for(lambda: notes, what="the restored outcomes", timeout=T)
        assert notes[0]["reason"] == "restored" and outcomes(notes[0]) == EVERY
        await client.wait_for(
            lambda: failing_lines(client, one) == ["test_mul_known_bad"],
            what="the kept failure's diagnostic",
        )
        live = await live_status(client, lambda live: live["restored"] == 4)
        assert live["runs"] == 0  # no baseline, no run at all
        # The kept line records: calc.py's defs ran at import, both bodies in tests.
        cov = await client.command("twinls.coverage")
        calc = next(f for f in cov["files"] if f["uri"] == client.uri("calc.py"))
        assert (calc["covered"], calc["uncovered"]) == ([0, 1, 4, 5], [])

        # The first edit of add runs add's tests only (the kept records say which).
        edit(client, 1, "return a + b", "return a - b")
        await client.wait_for(lambda: len(notes) >= 2, what="the edit's live run", timeout=T)
        assert notes[1]["reason"] == "edit"
        assert outcomes(notes[1]) == {
            "test_one.py::test_add": "failed",
            "test_two.py::test_add_two": "failed",
        }
        await client.wait_for(
            lambda: failing_lines(client, one) == ["test_add", "test_mul_known_bad"],
            what="test_add's diagnostic beside the kept one",
            timeout=T,
        )
        assert [n["reason"] for n in notes] == ["restored", "edit"]


async def test_a_file_changed_between_sessions_runs_its_tests_at_start(tmp_path):
    """(A module the collection imported would select every test file collected with it:
    ``TestMap.affected``'s rule for a file whose old text is unknown.)"""
    ws, home, env = workspace(tmp_path)
    await first_session(ws, env)
    (ws / "helper.py").write_text(HELPER.replace("4", "5"))
    async with lsp_session(ws, env=env, init_options=OPTIONS) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: len(notes) >= 2, what="restored, then changed", timeout=T)
        restored, changed = notes[0], notes[1]
        assert restored["reason"] == "restored"
        # test_add_two's kept outcome is not shown: it runs at start, and that is its result.
        assert outcomes(restored) == {k: v for k, v in EVERY.items() if "two" not in k}
        assert changed["reason"] == "changed"
        assert outcomes(changed) == {"test_two.py::test_add_two": "failed"}


async def test_a_changed_pyproject_drops_the_kept_map(tmp_path):
    ws, home, env = workspace(tmp_path)
    await first_session(ws, env)
    (ws / "pyproject.toml").write_text('[project]\nname = "calc"\nversion = "2"\n')
    async with lsp_session(ws, env=env, init_options=OPTIONS) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        assert notes[0]["reason"] == "baseline" and outcomes(notes[0]) == EVERY
        assert (await client.status())["live"]["restored"] == 0


async def test_cache_false_writes_no_map_and_runs_the_baseline_again(tmp_path):
    ws, home, env = workspace(tmp_path)
    before = snapshot(ws, home)
    options = {**OPTIONS, "cache": False}
    await first_session(ws, env, options)
    assert diff(before, snapshot(ws, home)) == []
    notes = await first_session(ws, env, options)  # asserts the baseline ran again
    assert notes[0]["reason"] == "baseline"
    assert diff(before, snapshot(ws, home)) == []


async def test_a_test_renamed_in_session_one_is_not_restored_as_a_ghost(tmp_path):
    ws, home, env = workspace(tmp_path)
    renamed = TWO.replace("test_add_two", "test_add_2")
    async with lsp_session(ws, env=env, init_options=OPTIONS) as client:
        notes = listen(client)
        client.open("test_two.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        (ws / "test_two.py").write_text(renamed)  # saved as the editor has it
        client.replace_all("test_two.py", renamed)
        await client.wait_for(lambda: len(notes) >= 2, what="the edit's live run", timeout=T)
        ran = outcomes(notes[1])  # (test_one.py's too: its collection imported test_two)
        assert ran["test_two.py::test_add_2"] == "passed" and "test_two.py::test_add_two" not in ran
        await live_status(client, lambda live: live["saved"] >= 1 and live["runs"] == 2)
    async with lsp_session(ws, env=env, init_options=OPTIONS) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the restored outcomes", timeout=T)
        assert notes[0]["reason"] == "restored"
        assert outcomes(notes[0]) == {
            **{k: v for k, v in EVERY.items() if "two" not in k},
            "test_two.py::test_add_2": "passed",
        }
        assert (await client.status())["live"]["restored"] == 4


async def test_a_buffer_reopened_with_unsaved_text_is_an_edit_of_the_disk_text(tmp_path):
    """(An editor restoring its unsaved buffers at start.) The kept records are of the
    disk's text: the buffer's difference from it runs the tests of what it changed."""
    ws, home, env = workspace(tmp_path)
    await first_session(ws, env)
    async with lsp_session(ws, env=env, init_options=OPTIONS) as client:
        notes = listen(client)
        client.open("test_one.py")
        await client.wait_for(lambda: notes, what="the restored outcomes", timeout=T)
        assert notes[0]["reason"] == "restored" and outcomes(notes[0]) == EVERY
        client.open("calc.py", CALC.replace("a + b", "a - b"))
        await client.wait_for(lambda: len(notes) >= 2, what="the buffer's live run", timeout=T)
        assert notes[1]["reason"] == "edit"
        assert notes[1]["changed"] == [{"uri": client.uri("calc.py"), "units": ["add"]}]
        assert outcomes(notes[1]) == {
            "test_one.py::test_add": "failed",
            "test_two.py::test_add_two": "failed",
        }


async def test_a_buffer_opened_first_with_unsaved_text_runs_the_tests_of_what_it_changed(
    tmp_path,
):
    """The same, when that buffer is the session's first document (the kept map is read
    after it): its edit of the disk's text is known unit by unit, not a changed file."""
    ws, home, env = workspace(tmp_path)
    await first_session(ws, env)
    async with lsp_session(ws, env=env, init_options=OPTIONS) as client:
        notes = listen(client)
        client.open("calc.py", CALC.replace("a + b", "a - b"))
        await client.wait_for(lambda: len(notes) >= 2, what="restored, then changed", timeout=T)
        restored, changed = notes[0], notes[1]
        assert restored["reason"] == "restored"
        assert outcomes(restored) == {k: v for k, v in EVERY.items() if "add" not in k}
        assert changed["reason"] == "changed"
        assert changed["changed"] == [{"uri": client.uri("calc.py"), "units": ["add"]}]
        assert outcomes(changed) == {
            "test_one.py::test_add": "failed",
            "test_two.py::test_add_two": "failed",
        }

"""Live tests over a real LSP pipe: unsaved edits re-run exactly the tests they affect."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_harness import TwinClient, lsp_session

T = 180.0  # seconds before a wait gives up (a loaded machine; nothing asserts a time)

CALC = textwrap.dedent(
    """\
    def add(a, b):
        return a + b


    def mul(a, b):
        return a * b
    """
)

TESTS = textwrap.dedent(
    """\
    import pathlib
    import time

    from calc import add, mul

    STARTED = pathlib.Path(__file__).with_name("started")


    def test_add():
        assert add(1, 2) == 3


    def test_add_zero():
        assert add(0, 0) == 0


    def test_mul():
        assert mul(2, 3) == 6


    def test_mul_known_bad():
        assert mul(1, 1) == 2


    def test_waits():
        if mul.__doc__ == "slow":
            STARTED.touch()
            while True:
                time.sleep(0.01)
        assert mul(2, 2) == 4
    """
)


def listen(client: TwinClient) -> list[dict[str, Any]]:
    """Every ``twinls/runResults`` notification, as plain dicts, in order."""
    got: list[dict[str, Any]] = []

    @client.feature("twinls/runResults")
    def on_results(params: Any) -> None:
        got.append(_plain(params))

    return got


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        value = value._asdict()
    elif hasattr(value, "__dict__") and not isinstance(value, (str, int, float)):
        value = dict(vars(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def outcomes(note: dict[str, Any]) -> dict[str, str]:
    return {t["nodeid"]: t["outcome"] for t in note["result"]["tests"]}


def failing_lines(client: TwinClient, uri: str) -> list[str]:
    return sorted(d.message.split(":")[0] for d in client.diagnostics.get(uri, []))


def edit(client: TwinClient, line: int, old: str, new: str) -> None:
    client.change(
        "calc.py",
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(line, 4), types.Position(line, 4 + len(old))),
            text=new,
        ),
    )


async def test_an_unsaved_edit_reruns_only_the_tests_that_call_it(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_calc.py").write_text(TESTS)
    # A test file that does not import stops no live run of the others.
    (tmp_path / "test_broken.py").write_text("import not_installed_anywhere\n")
    async with lsp_session(tmp_path, init_options={"liveTests": True}) as client:
        notes = listen(client)
        client.open("calc.py")
        client.open("test_calc.py")
        test_uri = client.uri("test_calc.py")

        # The first live run records every test once.
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        first = notes[0]
        assert first["live"] is True and first["reason"] == "baseline"
        assert outcomes(first) == {
            "test_broken.py": "error",
            "test_calc.py::test_add": "passed",
            "test_calc.py::test_add_zero": "passed",
            "test_calc.py::test_mul": "passed",
            "test_calc.py::test_mul_known_bad": "failed",
            "test_calc.py::test_waits": "passed",
        }
        await client.wait_for(
            lambda: failing_lines(client, test_uri) == ["test_mul_known_bad"],
            what="the known failure's diagnostic",
        )

        # Break add (unsaved): only add's two tests run; the one that breaks is reported.
        edit(client, 1, "return a + b", "return a - b")
        await client.wait_for(
            lambda: len(notes) >= 2, what="the live run after the edit", timeout=T
        )
        broken = notes[1]
        assert broken["reason"] == "edit"
        assert broken["changed"] == [{"uri": client.uri("calc.py"), "units": ["add"]}]
        assert outcomes(broken) == {
            "test_calc.py::test_add": "failed",
            "test_calc.py::test_add_zero": "passed",
        }
        await client.wait_for(
            lambda: failing_lines(client, test_uri) == ["test_add", "test_mul_known_bad"],
            what="test_add's diagnostic beside the known failure's",
        )

        # Fix it: the diagnostic clears, the other test's stays.
        edit(client, 1, "return a - b", "return a + b")
        await client.wait_for(lambda: len(notes) >= 3, what="the live run after the fix", timeout=T)
        assert outcomes(notes[2]) == {
            "test_calc.py::test_add": "passed",
            "test_calc.py::test_add_zero": "passed",
        }
        await client.wait_for(
            lambda: failing_lines(client, test_uri) == ["test_mul_known_bad"],
            what="test_add's diagnostic cleared",
        )

        # A run still going when the next edit comes is stale: it is cancelled.
        started = tmp_path / "started"
        edit(client, 5, "return a * b", '"slow"; return a * b')
        await client.wait_for(started.exists, what="the slow live run to start", timeout=T)
        edit(client, 5, '"slow"; return a * b', "return a * b")
        await client.wait_for(
            lambda: len(notes) >= 5, what="the stale run and its successor", timeout=T
        )
        stale, fresh = notes[3], notes[4]
        assert stale["result"]["outcome"] == "cancelled"
        assert "test_calc.py::test_waits" not in outcomes(stale)
        assert outcomes(fresh) == {
            "test_calc.py::test_mul": "passed",
            "test_calc.py::test_mul_known_bad": "failed",
            "test_calc.py::test_waits": "passed",
        }
        assert failing_lines(client, test_uri) == ["test_mul_known_bad"]

        # What the recorded tests executed, per function (twinls.coverage).
        cov = await client.command("twinls.coverage")
        calc = next(f for f in cov["files"] if f["uri"] == client.uri("calc.py"))
        assert [(u["name"], u["startLine"], u["tests"]) for u in calc["units"]] == [
            ("add", 0, 2),
            ("mul", 4, 3),
        ]


async def test_toggle_turns_live_tests_on_and_off(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_calc.py").write_text(TESTS)
    async with lsp_session(tmp_path) as client:
        notes = listen(client)
        client.open("calc.py")
        edit(client, 1, "return a + b", "return a - b")
        assert await client.command("twinls.toggleLiveTests") == {"liveTests": True}
        await client.wait_for(lambda: notes, what="the baseline run once turned on", timeout=T)
        assert notes[0]["reason"] == "baseline"
        assert outcomes(notes[0])["test_calc.py::test_add"] == "failed"  # the unsaved text
        assert await client.command("twinls.toggleLiveTests", False) == {"liveTests": False}
        edit(client, 1, "return a - b", "return a + b")  # off: no live run follows
        assert await client.command("twinls.toggleLiveTests", True) == {"liveTests": True}
        await client.wait_for(
            lambda: len(notes) >= 2, what="the baseline run once on again", timeout=T
        )
        assert notes[1]["reason"] == "baseline"
        assert outcomes(notes[1])["test_calc.py::test_add"] == "passed"


async def test_discovery_lists_every_test_before_any_run(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_calc.py").write_text(TESTS)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "test_more.py").write_text(
        "import pytest\n\n\nclass TestMore:\n    def test_one(self):\n        pass\n\n\n"
        "@pytest.mark.parametrize('n', [1, 2])\ndef test_cases(n):\n    pass\n"
    )
    async with lsp_session(tmp_path) as client:
        client.open("sub/test_more.py")
        client.change(
            "sub/test_more.py",
            types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                text="def test_unsaved():\n    pass\n\n\n",
            ),
        )
        found = await client.command("twinls.discoverTests")
        listed = {f["uri"]: [t["nodeid"] for t in f["tests"]] for f in found["files"]}
        assert listed == {
            client.uri("sub/test_more.py"): [
                "sub/test_more.py::test_unsaved",
                "sub/test_more.py::TestMore",
                "sub/test_more.py::TestMore::test_one",
                "sub/test_more.py::test_cases",
            ],
            client.uri("test_calc.py"): [
                "test_calc.py::test_add",
                "test_calc.py::test_add_zero",
                "test_calc.py::test_mul",
                "test_calc.py::test_mul_known_bad",
                "test_calc.py::test_waits",
            ],
        }
        await client.command("twinls.runFile", client.uri("sub/test_more.py"))
        found = await client.command("twinls.discoverTests")
        more = next(f for f in found["files"] if f["uri"].endswith("test_more.py"))
        assert [t["nodeid"] for t in more["tests"] if t["kind"] == "case"] == [
            "sub/test_more.py::test_cases[1]",
            "sub/test_more.py::test_cases[2]",
        ]


GATED = textwrap.dedent(
    """\
    import pathlib
    import time

    from calc import add

    HERE = pathlib.Path(__file__).parent


    def test_add():
        assert add(1, 2) == 3


    def test_gated():
        if add.__doc__ == "gated":
            (HERE / "started").touch()
            while not (HERE / "go").exists():
                time.sleep(0.01)
        assert add(2, 2) == 4
    """
)


async def test_a_live_run_yields_to_a_search_and_resumes_what_it_owed(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_gated.py").write_text(GATED)
    started, go = tmp_path / "started", tmp_path / "go"
    async with lsp_session(tmp_path, init_options={"liveTests": True}) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        edit(client, 1, "return a + b", '"gated"; return a + b')
        await client.wait_for(started.exists, what="the gated test to start", timeout=T)
        started.unlink()
        # A search starts while the live run waits (it would wait forever: no 'go' yet).
        refs = await client.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=client.uri("calc.py")),
                position=types.Position(0, 4),
                context=types.ReferenceContext(include_declaration=False),
            )
        )
        assert refs and {r.uri for r in refs} == {client.uri("test_gated.py")}
        await client.wait_for(
            lambda: len(notes) >= 2, what="the live run to yield to the search", timeout=T
        )
        yielded = notes[1]
        assert (yielded["reason"], yielded["result"]["outcome"]) == ("edit", "cancelled")
        assert "test_gated.py::test_gated" not in outcomes(yielded)
        # Once the search is over, what it owed runs (the gated test again).
        await client.wait_for(started.exists, what="the resumed run to start", timeout=T)
        go.touch()
        await client.wait_for(lambda: len(notes) >= 3, what="the resumed run", timeout=T)
        resumed = notes[2]
        assert resumed["reason"] == "resumed"
        assert outcomes(resumed)["test_gated.py::test_gated"] == "passed"
        ran = {n for n in outcomes(resumed) if "::" in n}  # (a loaded machine may add a
        assert ran <= {"test_gated.py::test_add", "test_gated.py::test_gated"}  # file error)


async def test_after_the_baseline_the_open_modules_test_files_are_collected_ahead(
    tmp_path: Path,
) -> None:
    """The baseline is a folder run and leaves no collection zygote; right after it, the
    test file whose tests ran the open module is collected in one (not a test file that
    does not touch it), so the first body-only edit is served by it, swapped, instead of
    collecting its test file first."""
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_calc.py").write_text(TESTS)
    (tmp_path / "test_other.py").write_text("def test_alone():\n    pass\n")
    async with lsp_session(tmp_path, init_options={"liveTests": True, "pool": 1}) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline run", timeout=T)
        assert notes[0]["reason"] == "baseline" and notes[0]["result"]["warm"] == []
        test_calc = str(tmp_path / "test_calc.py")
        ready: list[dict[str, Any]] = []

        async def collected() -> bool:
            [twin] = (await client.status())["twins"]
            ready[:] = [z for z in twin["zygotes"] if z["ready"]]
            return bool(ready)

        for _ in range(int(T / 0.05)):
            if await collected():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no collection zygote ready after the baseline")
        assert [(z["path"], z["items"], z["runs"]) for z in ready] == [(test_calc, 5, 0)]

        edit(client, 1, "return a + b", "return a - b")
        await client.wait_for(lambda: len(notes) >= 2, what="the edit's live run", timeout=T)
        [served] = notes[1]["result"]["warm"]
        assert served["zygote"] == ready[0]["pid"] and served["run"] == 1
        assert served["swapped"], served  # the zygote collected before the edit: swapped
        assert outcomes(notes[1]) == {
            "test_calc.py::test_add": "failed",
            "test_calc.py::test_add_zero": "passed",
        }

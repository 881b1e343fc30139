"""Live results over a real LSP pipe: examples' values and failures, parked and inspected.

Real twins, real run children, real pytest; a parked child's exit is waited on
through a pidfd (the event), never by sleeping.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import select
import subprocess
import sys
import textwrap
from pathlib import Path

from lsprotocol import types

from lsp_harness import lsp_session

SHAPES = textwrap.dedent(
    '''\
    import base64

    PNG = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )


    class Plot:
        def _repr_png_(self):
            return PNG

        def _repr_html_(self):
            return "<b>plot</b>"


    class Huge:
        """A lazy sequence of 10**10 items: only what is asked for exists."""

        def __len__(self):
            return 10**10

        def __getitem__(self, i):
            if not 0 <= i < 10**10:
                raise IndexError(i)
            return i * 2

        def __repr__(self):
            return "Huge(" + "x" * 10_000_000 + ")"


    class Tree:
        def __init__(self):
            self.kids = [1, 2]

        def _twinls_views_(self):
            return [
                {"title": "Kids", "value": self.kids},
                {"title": "Note", "mime": {"text/markdown": "**two**"}},
            ]


    def example_nested():
        return {"a": [1, {"b": (2, {"c": "deep"})}], "n": 3}


    def example_plot():
        return Plot()


    def example_huge():
        return {"lazy": Huge(), "range": range(10**10), "list": list(range(5000))}


    def example_views():
        return Tree()
    '''
)

TESTS = textwrap.dedent(
    """\
    from shapes import example_nested


    def helper(values):
        total = sum(values)
        assert total == 0, "not zero"


    def test_fails():
        numbers = [1, 2, 3]
        label = "three numbers"
        helper(numbers)


    def test_passes():
        assert example_nested()["n"] == 3
    """
)


def workspace(root: Path) -> None:
    (root / "shapes.py").write_text(SHAPES)
    (root / "test_shapes.py").write_text(TESTS)


async def run_example(client, name: str) -> dict:
    result = await client.command(
        "twinls.runExample", {"uri": client.uri("shapes.py"), "qualname": name, "mode": "call"}
    )
    (test,) = result["tests"]
    assert test["outcome"] == "passed", test
    return test


async def inspect(client, handle: str, **page: int) -> dict:
    answer = await client.command("twinls.inspect", handle, page) if page else None
    if answer is None:
        answer = await client.command("twinls.inspect", handle)
    assert not answer.get("error"), answer
    return answer


def item(answer: dict, name: str) -> dict:
    return next(c for c in answer["items"] if c["name"] == name)


async def exited(pid: int) -> None:
    """Wait for ``pid`` to exit (its pidfd becomes readable): an event, not a clock."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready = await asyncio.to_thread(select.select, [fd], [], [], 60)
        assert ready[0], f"process {pid} did not exit"
    finally:
        os.close(fd)


async def test_an_example_value_expands_three_levels_and_rich_views(tmp_path):
    workspace(tmp_path)
    async with lsp_session(tmp_path) as client:
        client.open("shapes.py")
        test = await run_example(client, "example_nested")
        top = await inspect(client, test["handle"])
        assert top["type"] == "dict" and top["kind"] == "mapping" and top["length"] == 2
        assert [c["name"] for c in top["items"]] == ["'a'", "'n'"]
        assert item(top, "'n'") == {
            "name": "'n'",
            "handle": None,
            "type": "int",
            "repr": "3",
            "kind": "leaf",
        }
        level1 = await inspect(client, item(top, "'a'")["handle"])
        assert level1["kind"] == "sequence" and [c["repr"] for c in level1["items"]] == [
            "1",
            "{'b': (2, {'c': 'deep'})}",
        ]
        level2 = await inspect(client, item(level1, "1")["handle"])
        level3 = await inspect(client, item(level2, "'b'")["handle"])
        assert level3["type"] == "tuple" and level3["items"][1]["repr"] == "{'c': 'deep'}"
        level4 = await inspect(client, level3["items"][1]["handle"])
        assert item(level4, "'c'")["repr"] == "'deep'"
        again = await inspect(client, test["handle"])  # the same object, the same answer
        assert again == top

        plot = await run_example(client, "example_plot")
        shown = await inspect(client, plot["handle"])
        assert shown["mime"]["text/html"] == "<b>plot</b>"
        assert shown["mime"]["image/png"].startswith("iVBORw0KGgo")

        views = await inspect(client, (await run_example(client, "example_views"))["handle"])
        kids, note = views["views"]
        assert kids["title"] == "Kids" and kids["child"]["repr"] == "[1, 2]"
        assert note == {"title": "Note", "mime": {"text/markdown": "**two**"}}
        assert [a["name"] for a in views["attributes"]] == ["kids"]


async def test_huge_objects_are_never_serialized_whole(tmp_path):
    workspace(tmp_path)
    async with lsp_session(tmp_path) as client:
        client.open("shapes.py")
        test = await run_example(client, "example_huge")
        top = await inspect(client, test["handle"])
        lazy = await inspect(client, item(top, "'lazy'")["handle"])
        assert lazy["length"] == 10**10 and lazy["kind"] == "sequence"
        assert len(lazy["items"]) == 100 and lazy["more"] and lazy["items"][99]["repr"] == "198"
        assert lazy["cut"] and len(lazy["repr"]) < 5000  # a 10 MB repr, cut in the child
        end = await inspect(client, item(top, "'lazy'")["handle"], offset=10**10 - 2, limit=5)
        assert [c["repr"] for c in end["items"]] == [str(2 * (10**10 - 2)), str(2 * (10**10 - 1))]
        assert not end["more"]
        big = await inspect(client, item(top, "'range'")["handle"], offset=5, limit=10**6)
        assert big["length"] == 10**10 and len(big["items"]) == 1000  # pages are bounded
        listed = await inspect(client, item(top, "'list'")["handle"])
        assert listed["cut"] and len(json.dumps(listed)) < 64 * 1024
        assert listed["repr"].endswith("...]")  # reprlib cut it while walking


async def test_a_failing_test_has_its_frames_and_their_locals(tmp_path):
    workspace(tmp_path)
    async with lsp_session(tmp_path) as client:
        client.open("test_shapes.py")
        result = await client.command("twinls.runFile", {"uri": client.uri("test_shapes.py")})
        by_name = {t["name"]: t for t in result["tests"]}
        assert by_name["test_passes"].get("handle") is None
        failure = await inspect(client, by_name["test_fails"]["handle"])
        assert failure["kind"] == "failure"
        assert failure["repr"].startswith("AssertionError: not zero")
        frames = [c["repr"] for c in failure["items"]]
        assert frames[:2] == ["test_shapes.py:6 in helper", "test_shapes.py:12 in test_fails"]
        helper = await inspect(client, failure["items"][0]["handle"])
        assert helper["location"] == {"uri": client.uri("test_shapes.py"), "line": 5}
        assert {c["name"]: c["repr"] for c in helper["items"]} == {
            "total": "6",
            "values": "[1, 2, 3]",
        }
        test = await inspect(client, failure["items"][1]["handle"])
        assert {c["name"]: c["repr"] for c in test["items"]} == {
            "label": "'three numbers'",
            "numbers": "[1, 2, 3]",
        }
        exc = await inspect(client, failure["attributes"][0]["handle"])
        assert exc["type"] == "AssertionError"
        assert item(await inspect(client, exc["attributes"][0]["handle"]), "0")["repr"] == (
            "'not zero\\nassert 6 == 0'"
        )


async def test_a_parked_child_goes_on_an_edit_and_a_rerun(tmp_path):
    workspace(tmp_path)
    (tmp_path / "other.py").write_text("X = 1\n")
    async with lsp_session(tmp_path) as client:
        client.open("shapes.py")
        client.open("other.py")
        first = await run_example(client, "example_nested")
        (parked,) = await client.command("twinls.parked")
        assert parked["paths"] == [str(tmp_path / "shapes.py")]
        # An edit to a file it did not import leaves it; an edit to shapes.py drops it.
        client.replace_all("other.py", "X = 2\n")
        assert (await inspect(client, first["handle"]))["type"] == "dict"
        client.replace_all("shapes.py", "# edit\n" + SHAPES)
        await exited(parked["pid"])
        gone = await client.command("twinls.inspect", first["handle"])
        assert gone["gone"] and "shapes.py was edited" in gone["error"]

        # A new run of the same target replaces the one before.
        second = await run_example(client, "example_nested")
        (before,) = await client.command("twinls.parked")
        third = await run_example(client, "example_nested")
        await exited(before["pid"])
        assert (await client.command("twinls.inspect", second["handle"]))["gone"]
        (after,) = await client.command("twinls.parked")
        assert after["pid"] != before["pid"]
        assert (await inspect(client, third["handle"]))["type"] == "dict"


async def test_a_parked_child_goes_after_its_timeout(tmp_path):
    workspace(tmp_path)
    async with lsp_session(tmp_path, {"parkTimeout": 0.5}) as client:
        client.open("shapes.py")
        test = await run_example(client, "example_nested")
        # Nobody asks for half a second: the supervisor kills its executor and exits
        # (the handle names the supervisor); its socket's end is what the twin sees.
        await exited(int(test["handle"].split("-")[1]))
        assert await client.command("twinls.parked") == []
        gone = await client.command("twinls.inspect", test["handle"])
        assert gone["gone"] and "parkTimeout" in gone["error"]


async def test_bad_handles_get_clear_errors_and_the_server_keeps_running(tmp_path):
    workspace(tmp_path)
    async with lsp_session(tmp_path) as client:
        for bad in (None, 12, "nonsense", "1-2"):
            try:
                await client.command("twinls.inspect", bad)
            except Exception as exc:
                assert "handle" in str(exc)
            else:
                raise AssertionError(f"{bad!r} was taken")
        gone = await client.command("twinls.inspect", "1-2-3")
        assert gone["gone"]
        assert (await client.status())["pool"]["live"] == 1


def test_twinls_run_inspect_prints_the_top_levels(tmp_path):
    workspace(tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    out = subprocess.run(
        [sys.executable, "-m", "twinls", "run", "shapes.py::example_nested", "--inspect", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    start = lines.index("inspect shapes.py::example_nested:")
    assert lines[start + 1 : start + 7] == [
        "    dict  {'a': [1, {'b': (2, {'c': 'deep'})}], 'n': 3}",
        "      'a': list  [1, {'b': (2, {'c': 'deep'})}]",
        "        0: int  1",
        "        1: dict  {'b': (2, {'c': 'deep'})}",
        "          'b': tuple  (2, {'c': 'deep'})",
        "      'n': int  3",
    ]
    failed = subprocess.run(
        [sys.executable, "-m", "twinls", "run", "test_shapes.py::test_fails", "--inspect"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 1, failed.stderr
    assert "      test_shapes.py:6 in helper: frame  test_shapes.py:6 in helper" in failed.stdout
    assert "        total: int  6" in failed.stdout


async def test_the_inspect_lens_and_the_failure_code_action(tmp_path):
    workspace(tmp_path)
    async with lsp_session(tmp_path, {"inspector": True, "debugLens": True}) as client:
        uri = client.open("test_shapes.py")
        test_uri = uri
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(uri=test_uri))
        )
        assert not [ln for ln in lenses if ln.command.command == "twinls.inspect"]
        run = next(ln for ln in lenses if ln.command.arguments[0].get("name") == "test_fails")
        result = await client.command(run.command.command, *run.command.arguments)
        handle = result["tests"][0]["handle"]
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(uri=test_uri))
        )
        (inspect_lens,) = [ln for ln in lenses if ln.command.command == "twinls.inspect"]
        assert inspect_lens.range == run.range and inspect_lens.command.arguments[0] == handle
        debug = [ln for ln in lenses if ln.command.command == "twinls.debug"]
        assert run.range in [ln.range for ln in debug]
        assert len(debug) == 2  # test_fails and test_passes, not the file
        (diag,) = await client.wait_for(lambda: client.diagnostics.get(uri), what="diagnostic")
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=diag.range,
                context=types.CodeActionContext(diagnostics=[diag]),
            )
        )
        (action,) = actions
        assert action.title == "Inspect the failure (frames and locals)"
        # pygls's client structures this CodeAction as the union's Command, its
        # ``command`` the repr of the real one: read that back.
        command = action.command
        if not isinstance(action, types.CodeAction):
            command = types.Command(**ast.literal_eval(action.command))
        assert command.command == "twinls.inspect" and command.arguments[0] == handle
        answer = await client.command("twinls.inspect", *command.arguments)
        assert answer["kind"] == "failure"

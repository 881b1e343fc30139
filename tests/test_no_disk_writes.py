"""The twin writes nothing: no bytecode, no parso/jedi caches, no copies of buffers."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from disk_snapshot import diff, snapshot
from lsp_harness import lsp_session, private_home

PKG_INIT = "from .shapes import Shape\n"
SHAPES = """class Shape:
    def area(self):
        return 0


class Square(Shape):
    def area(self):
        return 4
"""
TEST = """from pkg.shapes import Square


def test_area():
    assert Square().area() == 4
"""


PROJECT_ENV = Path(__file__).resolve().parent.parent / ".test-envs" / "py3.12"


def workspace(
    tmp_path: Path, python: str, options: dict
) -> tuple[Path, Path, dict[str, str], dict, list[Path]]:
    """The workspace, a private HOME (caches, TMPDIR) and the server's environment
    pointing there, the options (``python``: the twins' interpreter) and what else to
    fingerprint (that interpreter's environment)."""
    ws, home = tmp_path / "ws", tmp_path / "home"
    watched: list[Path] = []
    if python == "project venv":
        if not (PROJECT_ENV / "bin" / "python").exists():
            pytest.skip("no project venv: run scripts/setup-interp.sh")
        options = {**options, "python": str(PROJECT_ENV / "bin" / "python")}
        watched = [PROJECT_ENV]
    (ws / "pkg").mkdir(parents=True)
    env = private_home(home)
    (ws / "pkg" / "__init__.py").write_text(PKG_INIT)
    (ws / "pkg" / "shapes.py").write_text(SHAPES)
    (ws / "test_shapes.py").write_text(TEST)
    return ws, home, env, options, watched


@pytest.mark.parametrize("python", ["server", "project venv"])
async def test_a_session_of_edits_and_calls_leaves_disk_and_home_untouched(tmp_path, python):
    """Twins forked from the server, and twins in another CPython's venv (whose own
    site-packages must stay untouched too: no bytecode of the modules it imports)."""
    ws, home, env, options, watched = workspace(tmp_path, python, {})
    before = snapshot(ws, home, *watched)
    async with lsp_session(ws, env=env, init_options=options) as client:
        client.open("pkg/shapes.py")
        client.open("test_shapes.py")
        client.change(
            "pkg/shapes.py",
            types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(7, 15), types.Position(7, 16)), text="5"
            ),
        )
        client.open("pkg/new_module.py", "from .shapes import Square\nVALUE = Square()\n")
        st = await client.status()
        if watched:
            assert st["twins"][0]["python"]["prefix"] == str(PROJECT_ENV)
        answers = [
            await client.protocol.send_request_async(method, params)
            for method, params in exercised_requests(client)
        ]
        refs, impls, hover, symbols, lenses, run = answers
        assert len(refs) == 1 and len(impls) == 1 and hover and symbols and lenses
        assert run["outcome"] == "failed"  # the unsaved edit made Square's area 5
        # Issue 17: the failure's run child is parked; inspecting it writes nothing either.
        failure = await client.command("twinls.inspect", run["tests"][0]["handle"])
        assert failure["kind"] == "failure", failure
        frame = await client.command("twinls.inspect", failure["items"][0]["handle"])
        assert frame["kind"] == "frame" and frame["location"]["line"] >= 0, frame
        await client.status()
    assert diff(before, snapshot(ws, home, *watched)) == []


def exercised_requests(client) -> list[tuple[str, object]]:
    """Requests that make the twin read, parse, resolve and run."""
    shapes = types.TextDocumentIdentifier(client.uri("pkg/shapes.py"))
    test = types.TextDocumentIdentifier(client.uri("test_shapes.py"))
    at_area = types.Position(1, 9)
    return [
        (
            types.TEXT_DOCUMENT_REFERENCES,
            types.ReferenceParams(
                text_document=shapes,
                position=at_area,
                context=types.ReferenceContext(include_declaration=True),
            ),
        ),
        (
            types.TEXT_DOCUMENT_IMPLEMENTATION,
            types.ImplementationParams(text_document=shapes, position=at_area),
        ),
        (types.TEXT_DOCUMENT_HOVER, types.HoverParams(text_document=shapes, position=at_area)),
        (types.WORKSPACE_SYMBOL, types.WorkspaceSymbolParams(query="Square")),
        (types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensParams(text_document=test)),
        (
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(
                command="twinls.runFile", arguments=[client.uri("test_shapes.py")]
            ),
        ),
    ]


@pytest.mark.parametrize("python", ["server", "project venv"])
async def test_live_runs_leave_disk_and_home_untouched(tmp_path, python):
    """Live mode records what each test executes (sys.monitoring on 3.12, setprofile on
    the server's 3.11): the recording stays in memory, the run child writes nothing."""
    from test_live import listen

    ws, home, env, options, watched = workspace(tmp_path, python, {"liveTests": True})
    before = snapshot(ws, home, *watched)
    async with lsp_session(ws, env=env, init_options=options) as client:
        notes = listen(client)
        client.open("pkg/shapes.py")
        await client.wait_for(lambda: notes, what="the baseline live run", timeout=180)
        client.change(
            "pkg/shapes.py",
            types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(7, 15), types.Position(7, 16)), text="5"
            ),
        )
        await client.wait_for(lambda: len(notes) >= 2, what="the live run", timeout=180)
        assert notes[1]["changed"][0]["units"] == ["Square.area"]
        assert [(t["nodeid"], t["outcome"]) for t in notes[1]["result"]["tests"]] == [
            ("test_shapes.py::test_area", "failed")
        ]
        await client.status()
    assert diff(before, snapshot(ws, home, *watched)) == []

"""Searches over a real LSP connection: implementation, implementors, references, symbols.

A small workspace is written by the tests; a real twin with real jedi answers.
Positions are UTF-16 (the default encoding), and one line holds non-BMP text.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_harness import TwinClient, lsp_session

FILES = {
    "base.py": '''\
class Shape:
    """The root of the shapes."""

    name = "shape"

    def area(self):
        raise NotImplementedError


def total(shapes):
    return sum(s.area() for s in shapes)
''',
    "shapes.py": """\
import base
from base import Shape as S


class Square(S):
    def area(self):
        return 4


class Cube(Square):
    def area(self):
        return 6 * super().area()


class Circle(base.Shape):
    def area(self):
        return 3.14
""",
    "other.py": """\
class Shape:
    def area(self):
        return 0


class Fake(Shape):
    def area(self):
        return 1


class Thing:
    name = "thing"


def describe(t: Thing, s):
    return t.name + s.name
""",
    "uses.py": """\
from base import Shape
from other import Thing

label = "é😀"; shape = Shape()
print(shape.name, Thing().name, Thing.name)
""",
}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def position(text: str, needle: str, nth: int = 0) -> types.Position:
    """Where the ``nth`` ``needle`` starts in ``text``, in UTF-16 code units."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    return types.Position(line, len(text[start:at].encode("utf-16-le")) // 2)


def spot(rel: str, needle: str, nth: int = 0, text: str | None = None) -> tuple[str, int, int]:
    p = position(FILES[rel] if text is None else text, needle, nth)
    return (rel, p.line, p.character)


def spots(locations: list[Any] | None) -> set[tuple[str, int, int]]:
    """(file name, line, character) of each location (lsprotocol objects or raw JSON)."""
    out = set()
    for loc in locations or []:
        if isinstance(loc, dict):
            uri, start = loc["uri"], loc["range"]["start"]
            out.add((uri.rsplit("/", 1)[1], start["line"], start["character"]))
        else:
            uri, start = loc.uri, loc.range.start
            out.add((uri.rsplit("/", 1)[1], start.line, start.character))
    return out


def doc(client: TwinClient, rel: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=client.uri(rel))


async def implementation(client: TwinClient, rel: str, needle: str, nth: int = 0, text=None):
    return await client.text_document_implementation_async(
        types.ImplementationParams(
            text_document=doc(client, rel), position=position(text or FILES[rel], needle, nth)
        )
    )


async def references(client: TwinClient, rel: str, needle: str, nth: int = 0, decl=True):
    return await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(client, rel),
            position=position(FILES[rel], needle, nth),
            context=types.ReferenceContext(include_declaration=decl),
        )
    )


SUBCLASS_AREAS = {spot("shapes.py", "area", 0), spot("shapes.py", "area", 1)} | {
    spot("shapes.py", "area", 3)
}


async def test_implementation_across_files_levels_and_same_named_classes(tmp_path):
    write(tmp_path, FILES)
    async with lsp_session(tmp_path) as client:
        # A method: overrides in subclasses, through an alias, a module attribute and
        # two levels of inheritance; other.Shape's subclass Fake is a different Shape.
        found = await implementation(client, "base.py", "area")
        assert spots(found) == SUBCLASS_AREAS
        # A class: its subclasses, transitively.
        found = await implementation(client, "base.py", "Shape")
        assert spots(found) == {
            spot("shapes.py", "Square"),
            spot("shapes.py", "Cube"),
            spot("shapes.py", "Circle"),
        }
        # The same-named class in another module has only its own subclass.
        assert spots(await implementation(client, "other.py", "Shape")) == {
            spot("other.py", "Fake")
        }
        assert spots(await implementation(client, "other.py", "area")) == {
            spot("other.py", "area", 1)
        }
        # Decorated and async methods are methods too.
        deco = (
            "import abc\n\n\nclass Job(abc.ABC):\n    @abc.abstractmethod\n    def run(self):\n"
            "        ...\n\n    async def wait(self):\n        ...\n\n\n"
            "class Cron(Job):\n    def run(self):\n        pass\n\n    async def wait(self):\n"
            "        pass\n"
        )
        client.open("jobs.py", deco)
        found = await implementation(client, "jobs.py", "run", text=deco)
        assert spots(found) == {spot("jobs.py", "run", 1, text=deco)}
        found = await implementation(client, "jobs.py", "wait", text=deco)
        assert spots(found) == {spot("jobs.py", "wait", 1, text=deco)}
        # From a use: super().area() in Cube is Square.area, which Cube overrides.
        found = await implementation(client, "shapes.py", "area", 2)
        assert spots(found) == {spot("shapes.py", "area", 1)}


async def test_unsaved_override_is_found_and_deleted_file_disappears(tmp_path):
    write(tmp_path, FILES)
    extra = (
        "from shapes import Cube\n\n\nclass Tesseract(Cube):\n    def area(self):\n        pass\n"
    )
    async with lsp_session(tmp_path) as client:
        assert spots(await implementation(client, "base.py", "area")) == SUBCLASS_AREAS
        client.open("extra.py", extra)  # exists only in the editor
        found = await implementation(client, "base.py", "area")
        assert spots(found) == SUBCLASS_AREAS | {spot("extra.py", "area", text=extra)}
        # An unsaved edit to a file on disk counts too: Circle no longer overrides.
        client.open("shapes.py")
        client.replace_all("shapes.py", FILES["shapes.py"].replace("def area", "def perimeter"))
        found = await implementation(client, "base.py", "area")
        assert spots(found) == {spot("extra.py", "area", text=extra)}

        client.workspace_did_delete_files(
            types.DeleteFilesParams(files=[types.FileDelete(uri=client.uri("shapes.py"))])
        )
        assert await implementation(client, "base.py", "area") == []
        names = {s[0] for s in spots(await client.command("twinls.findImplementors", "area"))}
        assert names == {"base.py", "other.py", "extra.py"}
        assert (tmp_path / "shapes.py").exists()  # the editor's delete never touches disk


async def test_find_implementors_command_whole_and_streamed(tmp_path):
    write(tmp_path, FILES)
    every_area = {spot("base.py", "area")} | SUBCLASS_AREAS
    every_area |= {spot("other.py", "area", 0), spot("other.py", "area", 1)}
    async with lsp_session(tmp_path) as client:
        found = await client.command("twinls.findImplementors", "area")
        assert spots(found) == every_area
        token = "implementors-1"
        found = await client.command(
            "twinls.findImplementors", "area", {"partialResultToken": token}
        )
        assert found == []
        batches = client.progress_values[token]
        assert batches and all(isinstance(b, list) for b in batches)
        assert spots([loc for b in batches for loc in b]) == every_area
        assert await client.command("twinls.findImplementors", "no_such_function") == []


async def test_references_resolve_each_use_and_skip_unrelated_names(tmp_path):
    write(tmp_path, FILES)
    uses = FILES["uses.py"]
    async with lsp_session(tmp_path) as client:
        # Thing.name: t.name (annotated) and both uses in uses.py; not Shape.name,
        # not s.name (unknown), not base.Shape's attribute of the same name.
        found = await references(client, "other.py", "name")
        assert spots(found) == {
            spot("other.py", "name"),
            spot("other.py", "name", 1),
            spot("uses.py", "name", 1),
            spot("uses.py", "name", 2),
        }
        found = await references(client, "other.py", "name", decl=False)
        assert spot("other.py", "name") not in spots(found) and len(found) == 3
        # base.Shape: the import, its alias import, base.Shape; after an emoji (UTF-16).
        found = await references(client, "base.py", "Shape", decl=False)
        assert spots(found) == {
            spot("shapes.py", "Shape"),
            spot("shapes.py", "Shape", 1),
            spot("uses.py", "Shape"),
            spot("uses.py", "Shape", 1),
        }
        assert position(uses, "Shape", 1).character == len('label = "é😀"; shape = ') + 1
        # A local variable is searched in its own file only, and found there.
        found = await references(client, "base.py", "shapes", 1)
        assert spots(found) == {spot("base.py", "shapes", 1), spot("base.py", "shapes", 2)}


async def test_references_see_unsaved_text(tmp_path):
    write(tmp_path, FILES)
    new = "from base import Shape\n\nShape().area()\n"
    async with lsp_session(tmp_path) as client:
        client.open("fresh.py", new)  # not on disk
        found = await references(client, "base.py", "area")
        assert spot("fresh.py", "area", text=new) in spots(found)
        assert spot("base.py", "area") in spots(found)
        client.close("fresh.py")
        found = await references(client, "base.py", "area")
        assert spot("fresh.py", "area", text=new) not in spots(found)


async def test_symbols_and_hover(tmp_path):
    write(tmp_path, FILES)
    async with lsp_session(tmp_path) as client:
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="cub"))
        assert [(s.name, s.kind) for s in symbols] == [("Cube", types.SymbolKind.Class)]
        outline = await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=doc(client, "shapes.py"))
        )  # flat: the test client does not announce hierarchical support
        assert [(s.name, s.container_name) for s in outline] == [
            ("Square", None),
            ("area", "Square"),
            ("Cube", None),
            ("area", "Cube"),
            ("Circle", None),
            ("area", "Circle"),
        ]
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=doc(client, "uses.py"),
                position=position(FILES["uses.py"], "Shape", 1),
            )
        )
        assert hover is not None and "The root of the shapes." in hover.contents.value


async def test_index_skips_tool_folders_and_excluded_globs(tmp_path):
    area = "def area():\n    pass\n"
    write(tmp_path, FILES)
    write(tmp_path, {"node_modules/x.py": area, "vendored/y.py": area, "gen_z.py": area})
    write(tmp_path, {"env/pyvenv.cfg": "home = /usr/bin\n", "env/bin/tool.py": area})
    write(tmp_path, {"pkg/keep.py": area})
    async with lsp_session(tmp_path, {"exclude": ["vendored", "gen_*.py"]}) as client:
        found = await client.command("twinls.findImplementors", "area")
        names = {s[0] for s in spots(found)}
        assert names == {"base.py", "shapes.py", "other.py", "keep.py"}


async def test_a_changed_exclude_reaches_the_index(tmp_path):
    """workspace/didChangeConfiguration's exclude re-walks every twin's index, both ways."""
    area = "def area():\n    pass\n"
    write(tmp_path, FILES)
    write(tmp_path, {"vendored/y.py": area})

    def exclude(globs: list[str]) -> None:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"twinls": {"exclude": globs}})
        )

    async def files() -> set[str]:
        return {s[0] for s in spots(await client.command("twinls.findImplementors", "area"))}

    async with lsp_session(tmp_path) as client:
        assert await files() == {"base.py", "shapes.py", "other.py", "y.py"}
        exclude(["vendored"])
        assert await files() == {"base.py", "shapes.py", "other.py"}
        assert await files() == {"base.py", "shapes.py", "other.py"}  # and it stays so
        exclude([])
        assert await files() == {"base.py", "shapes.py", "other.py", "y.py"}


def twinls(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the terminal front door as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "twinls", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_terminal_implementors_and_references(tmp_path):
    write(tmp_path, FILES)
    run = twinls(tmp_path, "implementors", "area", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "shapes.py:11:9: Cube.area" in run.stdout.splitlines()
    assert len(run.stdout.splitlines()) == 6
    run = twinls(tmp_path, "--pool", "2", "references", "base.py:1:7")
    assert run.returncode == 0, run.stderr
    assert 'uses.py:4:23: label = "é😀"; shape = Shape()' in run.stdout.splitlines()
    assert "5 references to Shape" in run.stderr
    assert twinls(tmp_path, "references", "base.py:3:1").returncode == 1  # no name there


async def test_bad_input_gets_graceful_answers(tmp_path):
    files = dict(FILES)
    write(tmp_path, files)
    latin = b"# caf\xe9\nfrom base import Shape\n\n\ndef area():\n    return Shape().area()\n"
    (tmp_path / "latin.py").write_bytes(latin)  # Latin-1, no coding line: not UTF-8
    async with lsp_session(tmp_path) as client:
        # A file that stops parsing keeps its last good definitions in the index.
        client.open("good.py", "def area():\n    pass\n")
        await client.command("twinls.findImplementors", "area")
        client.replace_all("good.py", "def area(:\n    pass\n")
        names = {s[0] for s in spots(await client.command("twinls.findImplementors", "area"))}
        assert {"good.py", "latin.py", "base.py"} <= names
        # Unknown document, positions past the end, a position on no name.
        nowhere = types.TextDocumentIdentifier(uri=client.uri("missing.py"))
        far = types.Position(999, 999)
        assert not await client.text_document_references_async(
            types.ReferenceParams(
                text_document=nowhere,
                position=far,
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        assert not await client.text_document_implementation_async(
            types.ImplementationParams(text_document=doc(client, "base.py"), position=far)
        )
        assert (
            await client.text_document_hover_async(
                types.HoverParams(text_document=nowhere, position=far)
            )
            is None
        )
        # An untitled buffer (no file path): an outline and a hover, no crash elsewhere.
        untitled = "untitled:Untitled-1"
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(
                    uri=untitled, language_id="python", version=1, text="def f():\n    f()\n"
                )
            )
        )
        here = types.TextDocumentIdentifier(uri=untitled)
        outline = await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=here)
        )
        assert [s.name for s in outline] == ["f"]
        assert not await client.text_document_references_async(
            types.ReferenceParams(
                text_document=here,
                position=types.Position(1, 4),
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        # References into a file that is not UTF-8 still work.
        found = await references(client, "base.py", "area", decl=True)
        assert ("latin.py", 5, 19) in spots(found)


def test_terminal_references_print_the_certain_uses_before_the_search(tmp_path):
    """The early batch (``search.refs_first``) is printed while the search is held."""
    from test_interactive_lane import GUARD, Holds

    write(tmp_path, FILES)
    holds = Holds("search.refs_in")
    lines: list[str] = []
    proc = subprocess.Popen(
        [sys.executable, "-m", "twinls", "--pool", "1", "references", "base.py:1:7"],
        cwd=tmp_path,
        env={**os.environ, **holds.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + GUARD  # a guard against a hang, never a speed bound
        while not (holds.held and lines) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert holds.held, "the search never reached its hold"
        assert lines == ["base.py:1:7: class Shape:\n"], lines  # the def, before any search
    finally:
        holds.close()
        proc.wait(timeout=120)
        reader.join(timeout=10)
    assert proc.returncode == 0, proc.stderr.read()
    assert 'uses.py:4:23: label = "é😀"; shape = Shape()\n' in lines
    assert len(lines) == len(set(lines)) == 5, lines  # each once, the early one included

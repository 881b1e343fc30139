"""The server's persistent cache (issue 10): kept answers, written only in its cache dir.

Real server, real twins, real jedi over the LSP pipe. HOME, XDG_* and TMPDIR
point into the test's own folder, so "nothing written outside the cache dir"
is checked over every place a process could write by default.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgpack
from lsprotocol import types

from disk_snapshot import diff, snapshot
from lsp_harness import lsp_session, private_home
from twinls.server.cache import MAGIC

SHAPES = """class Shape:
    def area(self):
        return 0


class Square(Shape):
    def area(self):
        return 4


def total(shapes):
    return sum(s.area() for s in shapes)
"""
USE = """from pkg.shapes import Square, total


def test_area():
    assert Square().area() == 4
    assert total([Square()]) == 4
"""
OTHER = """class Circle:
    def area(self):  # same name, another class: not a reference of Shape.area
        return 3
"""


def workspace(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    ws, home = tmp_path / "ws", tmp_path / "home"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "__init__.py").write_text("")
    (ws / "pkg" / "shapes.py").write_text(SHAPES)
    (ws / "pkg" / "other.py").write_text(OTHER)
    (ws / "test_use.py").write_text(USE)
    return ws, home, private_home(home)


async def located(client, method: str, params: type, path: str, line: int, col: int, **more):
    """A position request's answer as (file name, line, column), sorted."""
    locs = await client.protocol.send_request_async(
        method,
        params(
            text_document=types.TextDocumentIdentifier(client.uri(path)),
            position=types.Position(line, col),
            **more,
        ),
    )
    return sorted(
        (loc.uri.rsplit("/", 1)[1], loc.range.start.line, loc.range.start.character) for loc in locs
    )


async def references(client, path: str, line: int, col: int) -> list[tuple]:
    context = types.ReferenceContext(include_declaration=True)
    return await located(
        client,
        types.TEXT_DOCUMENT_REFERENCES,
        types.ReferenceParams,
        path,
        line,
        col,
        context=context,
    )


def kept_entries(home: Path, namespace: str = "refs") -> list[Path]:
    return sorted(p for p in (home / ".cache" / "twinls").glob(f"v*/{namespace}/*/*"))


async def index_counts(client) -> dict[str, int]:
    """The twin's index once built (workspace/symbol waits for it): how it was made."""
    await client.protocol.send_request_async(
        types.WORKSPACE_SYMBOL, types.WorkspaceSymbolParams(query="Square")
    )
    return (await client.status())["twins"][0]["index"]


async def session_answers(
    ws: Path, env: dict[str, str], options=None, index: dict[str, int] | None = None
) -> tuple[list, list]:
    """Two references requests in a fresh server; ``index``: the twin's index counts expected
    (and wait for the server to have kept the index entries)."""
    home = Path(env["HOME"])
    async with lsp_session(ws, env=env, init_options={"cache": True, **(options or {})}) as c:
        area = await references(c, "pkg/shapes.py", 6, 9)  # Square.area
        square = await references(c, "test_use.py", 0, 24)  # Square, at its import
        if index is not None:
            assert await index_counts(c) == index
            await c.wait_for(lambda: kept_entries(home, "index"), what="the index kept")
        await c.status()
    return area, square


#: Square.area: its def, ``s.area()`` in ``total`` (jedi follows the call), the test's
#: use; not Circle.area or Shape.area.
AREA = [("shapes.py", 6, 8), ("shapes.py", 11, 17), ("test_use.py", 4, 20)]


SQUARE = [
    ("shapes.py", 5, 6),
    ("test_use.py", 0, 23),
    ("test_use.py", 4, 11),
    ("test_use.py", 5, 18),
]


async def test_the_second_session_answers_from_the_cache_what_the_first_found(tmp_path):
    ws, home, env = workspace(tmp_path)
    before = snapshot(ws, home)
    first = await session_answers(ws, env, index={"files": 4, "kept": 0, "extracted": 4})
    assert first[0] == AREA, first[0]
    assert first[1] == SQUARE, first[1]
    written = diff(before, snapshot(ws, home))
    cache_dir = str(home / ".cache" / "twinls")
    # The server writes only inside its cache dir; the workspace and the rest of HOME
    # (TMPDIR and XDG_DATA_HOME included) are untouched. (``~/.cache`` itself changes
    # only by the cache dir appearing in it.)
    outside = [
        line
        for line in written
        if not (line[2:] + "/").startswith(cache_dir + "/") and line != f"~ {home / '.cache'}"
    ]
    assert written and outside == [], written
    entries = kept_entries(home)
    # Each answer kept twice: for its target, and for the position it was asked at.
    assert len(entries) == 4, entries
    stamps = {p: p.stat().st_mtime_ns for p in entries}

    # Session 2: the answers and every index entry come from the cache.
    second = await session_answers(ws, env, index={"files": 4, "kept": 4, "extracted": 0})
    assert second == first
    # Served from the cache: a read touches its entry, nothing new was written.
    assert kept_entries(home) == entries
    # (asked where they were asked before: the answers kept for those positions, no jedi)
    assert sum(p.stat().st_mtime_ns != stamps[p] for p in entries) == 2

    # A torn entry (a write cut short, say) is ignored, removed, and recomputed.
    for p in [*entries, *kept_entries(home, "index")]:
        p.write_bytes(p.read_bytes()[:20])
    third = await session_answers(ws, env, index={"files": 4, "kept": 0, "extracted": 4})
    assert third == first
    assert len(kept_entries(home)) == 4
    rewritten = [*kept_entries(home), *kept_entries(home, "index")]
    assert len(rewritten) == 5 and all(len(p.read_bytes()) > 20 for p in rewritten)


async def test_an_edit_is_not_answered_from_the_cache(tmp_path):
    """The unsaved text of a buffer is part of the key: a new use is found at once."""
    ws, home, env = workspace(tmp_path)
    await session_answers(ws, env)
    async with lsp_session(ws, env=env, init_options={"cache": True}) as c:
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA
        c.open("pkg/other.py", OTHER + "\n\nfrom pkg.shapes import Square\nSquare().area()\n")
        found = await references(c, "pkg/shapes.py", 6, 9)
        assert found == sorted([*AREA, ("other.py", 6, 9)]), found
        c.close("pkg/other.py")
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA
    # Saved on disk between sessions: the server's hashes of the new session differ,
    # and the new use is found.
    (ws / "pkg" / "other.py").write_text(
        "from pkg.shapes import Square\n" + OTHER.replace("return 3", "return Square().area()")
    )
    async with lsp_session(ws, env=env, init_options={"cache": True}) as c:
        found = await references(c, "pkg/shapes.py", 6, 9)
        assert found == sorted([*AREA, ("other.py", 3, 24)]), found


async def test_cache_false_writes_nothing_at_all(tmp_path):
    ws, home, env = workspace(tmp_path)
    before = snapshot(ws, home)
    first = await session_answers(ws, env, {"cache": False})
    assert first[0] == AREA
    assert diff(before, snapshot(ws, home)) == []


async def test_the_index_is_built_once_and_shared_with_the_other_twin(tmp_path):
    """Two twins, no cache: one builds the index, the other starts from its entries."""
    import asyncio

    ws, home, env = workspace(tmp_path)
    before = snapshot(ws, home)
    async with lsp_session(ws, env=env, init_options={"pool": 2}) as c:
        for _ in range(3000):  # both twins up: the first search warms both
            if (await c.status())["pool"]["live"] == 2:
                break
            await asyncio.sleep(0.05)
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA
        for _ in range(3000):  # until both twins have an index (a bound, not a timing)
            st = await c.status()
            counts = [t["index"] for t in st["twins"]]
            if len(counts) == 2 and all(i.get("files") == 4 for i in counts):
                break
            await asyncio.sleep(0.05)
        assert sorted((i.get("kept", -1), i.get("extracted", -1)) for i in counts) == [
            (0, 4),
            (4, 0),
        ], counts
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA

        # Twins that come up later (restarted) start from those entries too, cache off.
        old = {t["pid"] for t in (await c.status())["twins"]}
        await c.command("twinls.restart")
        for _ in range(3000):
            st = await c.status()
            if st["pool"]["live"] == 2 and not old & {t["pid"] for t in st["twins"]}:
                break
            await asyncio.sleep(0.05)
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA
        for _ in range(3000):
            counts = [t["index"] for t in (await c.status())["twins"]]
            if len(counts) == 2 and all(i.get("files") == 4 for i in counts):
                break
            await asyncio.sleep(0.05)
        assert [(i.get("kept"), i.get("extracted")) for i in counts] == [(4, 0), (4, 0)], counts
    assert diff(before, snapshot(ws, home)) == []  # cache: false (the harness's default)


#: A new use of Square.area, in a file of its own.
MORE = "from pkg.shapes import Square\n\nSquare().area()\n"
MORE_USE = ("more.py", 2, 9)


async def area_refs(ws: Path, env: dict[str, str]) -> list[tuple]:
    async with lsp_session(ws, env=env, init_options={"cache": True}) as c:
        return await references(c, "pkg/shapes.py", 6, 9)


async def test_a_file_added_or_deleted_between_sessions_is_not_answered_from_the_cache(
    tmp_path,
):
    """The new session's hashes of the workspace see the disk as it is now."""
    ws, home, env = workspace(tmp_path)
    assert await area_refs(ws, env) == AREA  # kept
    (ws / "pkg" / "more.py").write_text(MORE)
    found = await area_refs(ws, env)
    assert found == sorted([*AREA, MORE_USE]), found
    (ws / "pkg" / "more.py").unlink()
    (ws / "test_use.py").unlink()
    found = await area_refs(ws, env)
    # Only the def: ``s.area()`` in ``total`` was Square's because the test called it so.
    assert found == [("shapes.py", 6, 8)], found


async def test_a_changed_sys_path_entry_is_not_answered_from_the_cache(tmp_path):
    """A module appearing in a ``sys.path`` folder outside the workspace (a package
    installed, here a PYTHONPATH entry) changes what jedi resolves: the interpreter's
    part of the digest (that folder's mtime) keeps the old answer from being served."""
    ws, home, env = workspace(tmp_path)
    ext = tmp_path / "ext"
    ext.mkdir()
    env = {**env, "PYTHONPATH": str(ext)}
    (ws / "pkg" / "via.py").write_text("from helpers import make\n\nmake().area()\n")
    assert await area_refs(ws, env) == AREA  # ``helpers`` is nowhere: no use found
    (ext / "helpers.py").write_text(
        "from pkg.shapes import Square\n\n\ndef make():\n    return Square()\n"
    )
    found = await area_refs(ws, env)
    assert found == sorted([*AREA, ("via.py", 2, 7)]), found


async def test_an_unsaved_new_file_is_not_answered_from_the_cache(tmp_path):
    """A document opened that is not on disk (an unsaved new file) uses the name."""
    ws, home, env = workspace(tmp_path)
    await session_answers(ws, env)
    async with lsp_session(ws, env=env, init_options={"cache": True}) as c:
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA
        c.open("pkg/more.py", MORE)
        found = await references(c, "pkg/shapes.py", 6, 9)
        assert found == sorted([*AREA, MORE_USE]), found
        c.close("pkg/more.py")  # never saved: gone
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA


async def test_a_watched_file_created_or_deleted_is_not_answered_from_the_cache(tmp_path):
    """workspace/didChangeWatchedFiles: the server hashes the path again."""
    ws, home, env = workspace(tmp_path)
    await session_answers(ws, env)

    def changed(kind: types.FileChangeType) -> None:
        c.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams([types.FileEvent(c.uri("pkg/more.py"), kind)])
        )

    async with lsp_session(ws, env=env, init_options={"cache": True}) as c:
        assert await references(c, "pkg/shapes.py", 6, 9) == AREA
        (ws / "pkg" / "more.py").write_text(MORE)
        changed(types.FileChangeType.Created)
        found = await references(c, "pkg/shapes.py", 6, 9)
        assert found == sorted([*AREA, MORE_USE]), found
        (ws / "pkg" / "more.py").unlink()
        changed(types.FileChangeType.Deleted)
        found = await references(c, "pkg/shapes.py", 6, 9)
        assert found == AREA, found


async def implementations(client, path: str, line: int, col: int) -> list[tuple]:
    return await located(
        client, types.TEXT_DOCUMENT_IMPLEMENTATION, types.ImplementationParams, path, line, col
    )


#: Shape.area's implementations: Square's, not Circle's (another class).
SHAPE_AREA = [("shapes.py", 6, 8)]


async def test_an_implementation_answer_is_kept_and_an_edit_is_not_answered_from_it(tmp_path):
    ws, home, env = workspace(tmp_path)
    async with lsp_session(ws, env=env, init_options={"cache": True}) as c:
        assert await implementations(c, "pkg/shapes.py", 1, 9) == SHAPE_AREA
        await c.status()
    entries = kept_entries(home, "impl")
    assert len(entries) == 1, entries
    # The entry is forged (a well-formed one, naming Circle.area): a second session that
    # answers from the cache answers it; one that searched again would find Square's.
    rows = msgpack.unpackb(entries[0].read_bytes()[len(MAGIC) + 32 :])
    assert [(Path(r[0]).name, r[1], r[2]) for r in rows] == SHAPE_AREA, rows
    forged = msgpack.packb([[str(ws / "pkg" / "other.py"), 1, 8, 1, 12, "Circle.area"]])
    entries[0].write_bytes(MAGIC + hashlib.sha256(forged).digest() + forged)
    async with lsp_session(ws, env=env, init_options={"cache": True}) as c:
        assert await implementations(c, "pkg/shapes.py", 1, 9) == [("other.py", 1, 8)]
        # An unsaved subclass is part of the key: searched, and found at once.
        c.open(
            "pkg/other.py",
            OTHER + "\n\nfrom pkg.shapes import Shape\n\n\nclass Oval(Shape):\n"
            "    def area(self):\n        return 5\n",
        )
        found = await implementations(c, "pkg/shapes.py", 1, 9)
        assert found == sorted([*SHAPE_AREA, ("other.py", 9, 8)]), found

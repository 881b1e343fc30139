"""Call and type hierarchy over a real LSP connection, unsaved buffers included.

Incoming calls and subtypes stream through the request's partialResultToken;
the callers and subclasses found live partly in a file that exists only in the
editor, and an edit to it changes the next answer.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp_harness import TwinClient, lsp_session
from test_search import doc, position, write

DISK = {
    "lib.py": '''\
import os


class Base:
    """A base."""

    def run(self, x):
        return helper(x)


class Child(Base):
    def run(self, x):
        return os.path.join(str(helper(x)), "b")


def helper(x):
    return x


@helper
def decorated():
    pass
''',
    "app.py": """\
from lib import Base, Child, helper


def main():
    b = Base()
    b.run(1)
    values = [helper]  # a reference, not a call
    return helper(2), Child().run(3)
""",
}
#: Only in the editor: a caller, a grandchild class, non-BMP text before a call.
EXTRA = """\
from lib import Child, helper


class GrandChild(Child):
    def go(self):
        label = "😀"; return helper(5)


helper(6)
"""


def name_of(item: types.CallHierarchyItem | types.TypeHierarchyItem) -> str:
    return f"{item.uri.rsplit('/', 1)[1]}:{item.name}"


def qual(item: types.CallHierarchyItem | types.TypeHierarchyItem) -> str:
    return f"{item.detail}.{item.name}" if item.detail else item.name


def starts(ranges: list[types.Range]) -> list[tuple[int, int]]:
    return sorted((r.start.line, r.start.character) for r in ranges)


def lc(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    p = position(text, needle, nth)
    return (p.line, p.character)


async def prepare_calls(client: TwinClient, rel: str, text: str, needle: str, nth: int = 0):
    return await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(
            text_document=doc(client, rel), position=position(text, needle, nth)
        )
    )


async def incoming(client: TwinClient, item, token: str | None = None):
    """Incoming calls; with a token, the streamed batches (the answer must be empty)."""
    answer = await client.call_hierarchy_incoming_calls_async(
        types.CallHierarchyIncomingCallsParams(item=item, partial_result_token=token)
    )
    if token is None:
        return answer
    assert not answer
    batches = client.progress_values.pop(token, [])
    assert batches, "nothing streamed"
    return [
        client.protocol._converter.structure(c, types.CallHierarchyIncomingCall)
        for batch in batches
        for c in batch
    ]


async def test_call_hierarchy_incoming_streamed_and_outgoing(tmp_path: Path):
    write(tmp_path, DISK)
    async with lsp_session(tmp_path) as client:
        client.open("extra.py", EXTRA)
        lib = DISK["lib.py"]
        [item] = await prepare_calls(client, "app.py", DISK["app.py"], "helper(2")
        assert name_of(item) == "lib.py:helper"
        assert item.kind == types.SymbolKind.Function
        assert (item.selection_range.start.line, item.selection_range.start.character) == lc(
            lib, "helper(x):"
        )
        expected = {
            "lib.Base.run": [lc(lib, "helper(x)")],
            "lib.Child.run": [lc(lib, "helper(x)", 1)],
            "lib": [lc(lib, "helper\n")],  # the decorator, at module level
            "app.main": [lc(DISK["app.py"], "helper(2")],  # not the list's reference
            "extra.GrandChild.go": [lc(EXTRA, "helper(5")],
            "extra": [lc(EXTRA, "helper(6")],
        }
        for token in (None, "calls-1", "calls-2"):  # gathered, then streamed twice
            calls = await incoming(client, item, token)
            got = {qual(c.from_): starts(c.from_ranges) for c in calls}
            assert len(got) == len(calls) and got == expected, token
        # The unsaved caller goes away with an edit; the next answer says so.
        client.replace_all("extra.py", EXTRA.replace("helper(6)", "print(6)"))
        calls = await incoming(client, item, "calls-3")
        assert {qual(c.from_) for c in calls} == set(expected) - {"extra"}

        # Outgoing calls of main: Base (the class), run, helper, Child; not the list.
        [main] = await prepare_calls(client, "app.py", DISK["app.py"], "main")
        out = await client.call_hierarchy_outgoing_calls_async(
            types.CallHierarchyOutgoingCallsParams(item=main)
        )
        got = {qual(c.to): starts(c.from_ranges) for c in out}
        app = DISK["app.py"]
        assert got == {
            "lib.Base": [lc(app, "Base()")],
            "lib.Base.run": [lc(app, "run(1")],
            "lib.helper": [lc(app, "helper(2")],
            "lib.Child": [lc(app, "Child()")],
            "lib.Child.run": [lc(app, "run(3")],
        }
        # Into the interpreter's files: Child.run calls os.path.join.
        [child_run] = await prepare_calls(client, "lib.py", lib, "run", 1)
        out = await client.call_hierarchy_outgoing_calls_async(
            types.CallHierarchyOutgoingCallsParams(item=child_run)
        )
        names = {c.to.name for c in out}
        assert {"join", "helper", "str"} <= names


async def test_type_hierarchy_supertypes_and_streamed_transitive_subtypes(tmp_path: Path):
    write(tmp_path, DISK)
    async with lsp_session(tmp_path) as client:
        client.open("extra.py", EXTRA)
        lib = DISK["lib.py"]
        [base] = await client.text_document_prepare_type_hierarchy_async(
            types.TypeHierarchyPrepareParams(
                text_document=doc(client, "app.py"), position=position(DISK["app.py"], "Base()")
            )
        )
        assert name_of(base) == "lib.py:Base" and base.kind == types.SymbolKind.Class
        for n in range(2):
            token = f"sub-{n}"
            answer = await client.type_hierarchy_subtypes_async(
                types.TypeHierarchySubtypesParams(item=base, partial_result_token=token)
            )
            assert not answer
            streamed = [i for batch in client.progress_values.pop(token) for i in batch]
            assert sorted((i["uri"].rsplit("/", 1)[1], i["name"]) for i in streamed) == [
                ("extra.py", "GrandChild"),  # transitive, and unsaved
                ("lib.py", "Child"),
            ]
        # Without a token: the whole list; from a subtype item, its own subtypes.
        subs = await client.type_hierarchy_subtypes_async(
            types.TypeHierarchySubtypesParams(item=base)
        )
        child = next(i for i in subs if i.name == "Child")
        grand = next(i for i in subs if i.name == "GrandChild")
        assert (grand.selection_range.start.line, grand.selection_range.start.character) == lc(
            EXTRA, "GrandChild"
        )
        assert [
            i.name
            for i in await client.type_hierarchy_subtypes_async(
                types.TypeHierarchySubtypesParams(item=child)
            )
        ] == ["GrandChild"]
        # Supertypes, one level at a time, from the unsaved class up.
        ups = await client.type_hierarchy_supertypes_async(
            types.TypeHierarchySupertypesParams(item=grand)
        )
        assert [name_of(i) for i in ups] == ["lib.py:Child"]
        ups = await client.type_hierarchy_supertypes_async(
            types.TypeHierarchySupertypesParams(item=ups[0])
        )
        assert [name_of(i) for i in ups] == ["lib.py:Base"]
        assert (ups[0].selection_range.start.line, ups[0].selection_range.start.character) == lc(
            lib, "Base:"
        )
        # An edit: GrandChild now derives from Base directly.
        client.replace_all(
            "extra.py", EXTRA.replace("(Child)", "(Base)").replace("import Child", "import Base")
        )
        ups = await client.type_hierarchy_supertypes_async(
            types.TypeHierarchySupertypesParams(item=grand)
        )
        assert [name_of(i) for i in ups] == ["lib.py:Base"]

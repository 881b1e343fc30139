"""Long searches over a real LSP connection: streaming, progress, cancel, responsiveness.

The workspace is big enough that a cold references search takes a while in
one twin; the tests order events (a hover answered while the search is still
running, a cancel answered with RequestCancelled) and never compare wall times.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lsp_harness import TwinClient, lsp_session

FILES = 80
USES = 12
HUB = "def target(value=None):\n    return value\n\n\nclass Other:\n    target = None\n"


def write_big(root: Path, files: int = FILES) -> Path:
    """``hub.py`` and ``files`` modules that each use its names ``2 * USES`` times."""
    (root / "hub.py").write_text(HUB)
    body = "".join(f"    target({i})\n    Other().target\n" for i in range(USES))
    for i in range(files):
        (root / f"user_{i:03}.py").write_text(
            f"from hub import target, Other\n\n\ndef use_{i}():\n{body}"
        )
    return root


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    return write_big(tmp_path_factory.mktemp("big"))


def refs_params(
    client: TwinClient, partial: str | None = None, work_done: str | None = None
) -> types.ReferenceParams:
    return types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri("hub.py")),
        position=types.Position(0, 5),
        context=types.ReferenceContext(include_declaration=True),
        partial_result_token=partial,
        work_done_token=work_done,
    )


def send(client: TwinClient, params: types.ReferenceParams, msg_id: str | None = None):
    """Send a references request now; the task settles with its answer."""
    return asyncio.ensure_future(
        client.protocol.send_request_async(types.TEXT_DOCUMENT_REFERENCES, params, msg_id=msg_id)
    )


EXPECTED = 1 + FILES * (1 + USES)  # the def, each import, each call; not Other.target


def streamed(client: TwinClient, token: str) -> list[dict]:
    return [loc for batch in client.progress_values.get(token, []) for loc in batch]


async def test_partial_batches_progress_and_a_hover_meanwhile(big):
    from test_interactive_lane import Holds, lane_up

    # The search is held in its first unit until the hover and the edit are answered: an
    # order of events (on a fast machine a search of this size may otherwise end first).
    holds = Holds("search.refs_in")
    try:
        async with lsp_session(big, {"pool": 2}, env=holds.env) as client:  # both twins
            await lane_up(client)  # the hover's twin (else a search twin, held, answers it)
            refs = send(client, refs_params(client, "part", "bar"))
            # The first batch is the early one (``search.refs_first``), the search held.
            await client.wait_for(lambda: streamed(client, "part"), what="a first batch")
            await holds.wait(client)
            hover = await client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=client.uri("user_000.py")),
                    position=types.Position(4, 5),
                )
            )
            client.open("typed_meanwhile.py", "from hub import target\n")  # mid-search
            assert not refs.done(), "the hover waited for the whole search"
            holds.release()
            status = await client.status()  # (it asks every twin: after the hold)
            assert hover is not None and "target" in hover.contents.value
            path = str((big / "typed_meanwhile.py").resolve())
            assert all(path in twin["hashes"] for twin in status["twins"])
            assert not await refs  # LSP 3.17: everything went as partial results
            locations = streamed(client, "part")
            assert len(client.progress_values["part"]) > 1
            spots = {(loc["uri"], loc["range"]["start"]["line"]) for loc in locations}
            assert len(locations) == len(spots) == EXPECTED
            kinds = [v["kind"] for v in client.progress_values["bar"]]
            assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
            reports = [v for v in client.progress_values["bar"] if v["kind"] == "report"]
            assert reports[-1]["message"].endswith(f"/{FILES + 1} files")
            assert 0 <= reports[0]["percentage"] <= reports[-1]["percentage"] <= 100

            # No tokens: the whole result at the end; a long search gets a server-made bar.
            client.progress_values.clear()
            whole = await client.text_document_references_async(refs_params(client))
            assert len(whole) == EXPECTED + 1  # and the file opened meanwhile
            made = [t for t in client.progress_values if str(t).startswith("twinls-")]
            for token in made:
                values = client.progress_values[token]
                assert values[0]["kind"] == "begin" and values[0]["cancellable"]
                assert values[-1]["kind"] == "end"
    finally:
        holds.close()


def cancelled(exc: BaseException) -> bool:
    return isinstance(exc, JsonRpcException) and exc.code == -32800


@asynccontextmanager
async def frozen_twins(client: TwinClient) -> AsyncIterator[None]:
    """Every twin stopped (SIGSTOP) meanwhile: a search running now cannot finish.

    So a test can cancel "a search still running" without racing its end. The
    session's ``hangAfter`` must outlast the freeze (the twins answer no pings).
    """
    pids = [twin["pid"] for twin in (await client.status())["twins"]]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


async def test_cancel_and_supersede_answer_request_cancelled(big):
    async with lsp_session(big, {"hangAfter": 600}) as client:
        first = send(client, refs_params(client, "cancel-me"), msg_id="cancel-me")
        await client.wait_for(lambda: streamed(client, "cancel-me"), what="a first batch")
        async with frozen_twins(client):  # the search is still running when the cancel lands
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
            with pytest.raises(JsonRpcException) as err:
                await first
        assert cancelled(err.value)
        # The twin stopped between files: the next call is answered, and in full.
        found = await client.command("twinls.findImplementors", "target")
        assert len(found) == 1

        # Cancelling the bar the server made for a long search cancels the search.
        # Frozen twins: the search cannot end before the bar the server makes after 0.5 s.
        client.progress_values.clear()
        async with frozen_twins(client):
            quiet = send(client, refs_params(client))
            made = await client.wait_for(
                lambda: [t for t in client.progress_values if str(t).startswith("twinls-")],
                what="a server-made progress bar",
            )
            client.protocol.notify(
                types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                types.WorkDoneProgressCancelParams(token=made[0]),
            )
            with pytest.raises(JsonRpcException) as err:
                await quiet
        assert cancelled(err.value)

        # A new references request supersedes the running one.
        old = send(client, refs_params(client, "old"))
        await client.wait_for(lambda: streamed(client, "old"), what="a first batch")
        async with frozen_twins(client):
            new = send(client, refs_params(client, "new"))
            with pytest.raises(JsonRpcException) as err:
                await old
        assert cancelled(err.value)
        assert not await new and len(streamed(client, "new")) == EXPECTED


async def test_streamed_and_whole_answers_are_the_same_set(big):
    """With a partialResultToken the streamed locations are exactly the whole answer."""
    async with lsp_session(big, {"pool": 2}) as client:
        for round_ in range(2):  # cold, then warm
            token = f"same-{round_}"
            assert not await client.text_document_references_async(refs_params(client, token))
            streamed_set = {
                (loc["uri"], loc["range"]["start"]["line"], loc["range"]["start"]["character"])
                for loc in streamed(client, token)
            }
            whole = await client.text_document_references_async(refs_params(client))
            whole_set = {(x.uri, x.range.start.line, x.range.start.character) for x in whole}
            assert len(whole) == len(whole_set) == EXPECTED
            assert streamed_set == whole_set


#: Functions padding ``lane_user.py``: parso parses the file (for jedi's one use)
#: only after the lane's uses went out, so the first batch can hold only those.
PAD = 4000


def lane_workspace(tmp_path: Path) -> tuple[int, int]:
    """A target, and a file importing it and using it once where the lane decides and once
    where jedi must (in an f-string), behind 4,000 functions for parso to parse. Returns
    the two uses' 0-based lines."""
    (tmp_path / "lane_hub.py").write_text("def target():\n    return 1\n")
    pad = "".join(f"def pad_{i}(x):\n    return x + {i}\n\n\n" for i in range(PAD))
    text = f'from lane_hub import target\n\n\n{pad}target()\nprint(f"{{target()}}")\n'
    (tmp_path / "lane_user.py").write_text(text)
    return 3 + 4 * PAD, 4 + 4 * PAD


def test_the_lanes_uses_stream_before_jedi_starts_on_the_file(tmp_path):
    """A file the lane decides in part streams its decided uses first, in a batch of
    their own: the first result does not wait for jedi on the rest of the file (issue
    10: ``posixpath.py``, the first file of ``os.path.join``'s search, held the first
    result ~7 s). Through the Python API, where every batch the twin sends is one
    partial (the LSP server coalesces batches that arrive together), so the order
    seen is the twin's own, not a race."""
    from twinls import Twin

    call, in_fstring = lane_workspace(tmp_path)
    user = str(tmp_path / "lane_user.py")
    with Twin.start(tmp_path, size=1) as twin:
        plan = twin.call("search.refs_plan", str(tmp_path / "lane_hub.py"), 0, 5, "utf-16")
        plan = plan.result(60)
        promise = twin.call(
            "search.refs_in", [user], plan["name"], plan["keys"], "utf-16", False, 60.0
        )
        batches = [[loc[1] for loc in batch] for batch in promise.partials(timeout=120)]
        assert promise.result(60) == 1  # files done
    assert batches == [[0, call], [in_fstring]], batches  # the lane's (import, call), then jedi's


async def test_a_partly_decided_file_streams_its_whole_answer(tmp_path):
    """Over LSP: the lane's early batch and jedi's later one make the whole answer, once."""
    call, in_fstring = lane_workspace(tmp_path)
    async with lsp_session(tmp_path) as client:
        params = types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri("lane_hub.py")),
            position=types.Position(0, 5),
            context=types.ReferenceContext(include_declaration=False),
            partial_result_token="lane",
        )
        assert not await client.text_document_references_async(params)  # streamed instead
        batches = client.progress_values["lane"]
        lines = [loc["range"]["start"]["line"] for b in batches for loc in b]
        status = await client.status()
    assert sorted(lines) == [0, call, in_fstring]  # the import, both calls, each once
    jedi = status["twins"][0]["jedi"]
    assert jedi["lane_deferred"] >= 1 and jedi["lane_decided"] >= 1, jedi


#: ``sub_NNN.py`` files for :func:`test_the_first_result_does_not_wait_for_the_plan`: each a
#: subclass jedi checks (the implementation search) and a user of ``target`` (references).
SUBS = 300
SUB = (
    "from hub import Base, target\n\n\n"
    "class Sub{i}(Base):\n    def method(self):\n        return target({i})\n"
)
BASE_HUB = (
    "def target(value=None):\n    return value\n\n\n"
    "class Base:\n    def method(self):\n        pass\n"
)


async def test_the_first_result_does_not_wait_for_the_plan(tmp_path):
    """Issue 10: the first references result comes before jedi has the target or the
    candidate files. One twin, its search lane held by an implementation search over
    300 subclasses; a references request asked meanwhile (at a use, in ``sub_000.py``)
    can have its plan only once that search is over (the lane runs one call at a
    time, in order), so a first result that arrives while it runs did not wait for the
    plan: it is what the ``ast`` lane made certain, the cursor's file's uses and the
    definition. The whole answer is still the search's, each location once, and the
    same set as without a partialResultToken."""
    (tmp_path / "hub.py").write_text(BASE_HUB)
    for i in range(SUBS):
        (tmp_path / f"sub_{i:03}.py").write_text(SUB.format(i=i))
    async with lsp_session(tmp_path, {"pool": 1}) as client:
        impl = asyncio.ensure_future(
            client.text_document_implementation_async(
                types.ImplementationParams(
                    text_document=types.TextDocumentIdentifier(uri=client.uri("hub.py")),
                    position=types.Position(4, 7),  # class Base
                    partial_result_token="impl",
                )
            )
        )
        await client.wait_for(lambda: client.progress_values.get("impl"), what="a subclass")
        params = types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri("sub_000.py")),
            position=types.Position(5, 16),  # target(0)
            context=types.ReferenceContext(include_declaration=True),
            partial_result_token="first",
        )
        refs = send(client, params)
        await client.wait_for(lambda: streamed(client, "first"), what="a first result")
        assert not impl.done(), "the first result waited for the search ahead of its plan"
        first = {
            (loc["uri"].rsplit("/", 1)[-1], loc["range"]["start"]["line"])
            for loc in client.progress_values["first"][0]
        }
        assert first <= {("sub_000.py", 0), ("sub_000.py", 5), ("hub.py", 0)}, first
        assert ("sub_000.py", 5) in first  # the cursor's own use, at least
        assert not await refs and len(await impl or []) == 0
        assert len(streamed(client, "impl")) == SUBS
        spots = [
            (loc["uri"], loc["range"]["start"]["line"], loc["range"]["start"]["character"])
            for loc in streamed(client, "first")
        ]
        assert len(spots) == len(set(spots)) == 1 + 2 * SUBS  # the def, each import and call
        whole = await client.text_document_references_async(
            types.ReferenceParams(
                text_document=params.text_document,
                position=params.position,
                context=params.context,
            )
        )
        assert {(x.uri, x.range.start.line, x.range.start.character) for x in whole} == set(spots)


EARLY_FILES = {
    "hub.py": "def target(value=None):\n    return value\n\n\ntarget(0)\n",
    "pkg/__init__.py": "from .impl import helper\n",
    "pkg/impl.py": "def helper():\n    return 1\n\n\nhelper()\n",
    "user.py": (
        "from hub import target\n"
        "from hub import target as aliased\n"
        "import hub\n"
        "from pkg import helper\n"
        "\n\n"
        "class Thing:\n"
        "    def target(self):\n"
        "        return 1\n"
        "\n\n"
        "def go(thing):\n"
        "    target(1)\n"
        "    hub.target(2)\n"
        "    aliased(3)\n"
        "    helper()\n"
        "    thing.target()\n"
        "    ''.target  # decided, and not the target\n"
        "    return 'target'  # target\n"
    ),
}
#: (file, 0-based line, column): where references are asked, and whether the lane is certain
#: enough there to send anything before jedi.
EARLY_ASKED = [
    ("hub.py", 0, 5, True),  # the def
    ("user.py", 12, 5, True),  # a use through ``from hub import target``
    ("user.py", 13, 9, True),  # ``hub.target``: a module's attribute
    ("user.py", 14, 6, True),  # ``aliased``: ``from ... import ... as``
    ("user.py", 15, 6, True),  # ``helper``: re-exported by a package
    ("user.py", 16, 12, False),  # ``thing.target``: an attribute of an inferred object
    ("user.py", 18, 13, False),  # in a string
    ("user.py", 18, 24, False),  # in a comment
]


def test_the_early_batches_are_a_part_of_the_answer(tmp_path):
    """What ``search.refs_first`` streams before jedi has the target is a subset of the
    search's answer, wherever it is asked; nothing where the lane is not certain (an
    attribute of an inferred object, a string, a comment); without the declaration, only
    uses that bind nothing."""
    from twinls import Twin

    for rel, text in EARLY_FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    sent_without: set[tuple[str, int]] = set()
    with Twin.start(tmp_path, size=1) as twin:
        for rel, line, col, certain in EARLY_ASKED:
            path = str(tmp_path / rel)
            first = twin.call("search.refs_first", path, line, col, "utf-16", True)
            early = {tuple(r) for batch in first.partials(timeout=60) for r in batch}
            assert first.result(60) == len(early)
            plan = twin.call("search.refs_plan", path, line, col, "utf-16").result(60)
            answer: set = set()
            if plan is not None:  # None: no name there for jedi either
                whole = twin.call(
                    "search.refs_in", plan["files"], plan["name"], plan["keys"], "utf-16", True, 60
                )
                answer = {tuple(r) for batch in whole.partials(timeout=120) for r in batch}
            assert early <= answer, (rel, line, col, early - answer)
            assert bool(early) == certain, (rel, line, col, early)
            cursor = [r for r in early if r[0] == path and r[1] == line and r[2] <= col <= r[4]]
            assert cursor or not certain, (rel, line, col, early)
            # Without the declaration: a part of that answer too, never an import's name.
            without = twin.call("search.refs_first", path, line, col, "utf-16", False)
            early_without = {tuple(r) for batch in without.partials(timeout=60) for r in batch}
            assert without.result(60) == len(early_without)
            answer_without: set = set()
            if plan is not None:
                whole = twin.call(
                    "search.refs_in", plan["files"], plan["name"], plan["keys"], "utf-16", False
                )
                answer_without = {tuple(r) for batch in whole.partials(timeout=120) for r in batch}
            assert early_without <= answer_without, (rel, line, col, early_without - answer_without)
            assert early_without <= early, (rel, line, col, early_without - early)
            sent_without.update((Path(r[0]).name, r[1]) for r in early_without)
    # ``target(0)`` in hub.py, ``target(1)`` and ``hub.target(2)`` in user.py (each asked
    # from elsewhere), ``helper()`` in impl.py: sent; no def, no ``from`` import's name,
    # not the cursor's own use.
    assert sent_without == {("hub.py", 4), ("user.py", 12), ("user.py", 13), ("impl.py", 4)}, (
        sent_without
    )

"""The interactive twin (issue 10): interactive requests never wait behind a search.

Order, not milliseconds. ``TWINLS_TEST_HOLD`` (``twin/holds.py``) makes the search
twin's first chunk of a references search hold the jedi gate, as one long jedi
inference would, until the test lets go: a hover, an outline and the lenses sent
meanwhile must be answered while the search has not streamed a single result.
Without the interactive twin they wait for the release (the second test shows the
hold is real); with it killed, even under a hover, they are still answered (the
search twins take them).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lsp_harness import TwinClient, lsp_session
from test_search_stream import USES, refs_params, send, streamed, write_big

#: Long enough to mean "it waited for the release", never a speed bound.
GUARD = 60.0
FILES = 20
EXPECTED = 1 + FILES * (1 + USES)  # the def, each import, each call
TESTS = "def test_one():\n    assert True\n\n\ndef test_two():\n    assert True\n"


class Holds:
    """The test's end of ``TWINLS_TEST_HOLD``: each holding twin connects and waits."""

    def __init__(self, query: str) -> None:
        # A short path (AF_UNIX allows ~100 bytes); the test writes it, never a twin.
        self.dir = tempfile.mkdtemp(prefix="twinls-hold-", dir="/tmp")
        self.path = os.path.join(self.dir, "s")
        self.env = {"TWINLS_TEST_HOLD": f"{query}={self.path}"}
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(8)
        self.held: list[socket.socket] = []
        self.released = False
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                if self.released:
                    conn.close()
                else:
                    self.held.append(conn)

    async def wait(self, client: TwinClient, n: int = 1) -> None:
        await client.wait_for(lambda: len(self.held) >= n, what=f"{n} twins holding")

    def release(self) -> None:
        with self.lock:
            self.released = True
            held, self.held = self.held, []
        for conn in held:
            conn.close()

    def close(self) -> None:
        self.release()
        self.server.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


@contextmanager
def holding(query: str = "search.refs_in") -> Iterator[Holds]:
    holds = Holds(query)
    try:
        yield holds
    finally:
        holds.close()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    root = write_big(tmp_path_factory.mktemp("lane"), FILES)
    (root / "test_lane.py").write_text(TESTS)
    return root


async def lane_up(client: TwinClient) -> dict:
    """Status once the interactive twin is up (it starts after the search twins)."""
    deadline = asyncio.get_running_loop().time() + 30
    while not (st := await client.status())["lanes"]:
        assert asyncio.get_running_loop().time() < deadline, "no interactive twin came up"
        await asyncio.sleep(0.05)
    return st


def at(client: TwinClient, rel: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=client.uri(rel))


def hover(client: TwinClient, line: int = 4):
    """A hover on ``target`` in ``target(i)`` at ``line`` (4, 6, 8, ...): a fresh question
    for each line, else the server answers from what it kept (``lsp/answers.py``)."""
    return client.text_document_hover_async(
        types.HoverParams(text_document=at(client, "user_000.py"), position=types.Position(line, 5))
    )


async def test_hover_outline_and_lenses_answer_while_the_search_twin_is_held(work: Path):
    with holding() as holds:
        async with lsp_session(work, env=holds.env) as client:
            st = await lane_up(client)
            assert st["pool"]["lanes"] == 1 and len(st["lanes"]) == 1
            assert st["lanes"][0]["pid"] not in {t["pid"] for t in st["twins"]}
            client.open("user_000.py")
            client.open("test_lane.py")
            refs = send(client, refs_params(client, "part"))
            await holds.wait(client)  # the search twin is inside the search's first unit
            try:
                found = await asyncio.wait_for(hover(client), GUARD)
                outline = await asyncio.wait_for(
                    client.text_document_document_symbol_async(
                        types.DocumentSymbolParams(text_document=at(client, "user_000.py"))
                    ),
                    GUARD,
                )
                lenses = await asyncio.wait_for(
                    client.text_document_code_lens_async(
                        types.CodeLensParams(text_document=at(client, "test_lane.py"))
                    ),
                    GUARD,
                )
            except asyncio.TimeoutError:
                pytest.fail("an interactive request waited behind the held search")
            # Answered while the search is held in its first chunk: nothing but the early
            # batch (``search.refs_first``: the definition, in hub.py) has streamed.
            assert not refs.done()
            assert all(loc["uri"].endswith("/hub.py") for loc in streamed(client, "part"))
            holds.release()
            assert found is not None and "target" in found.contents.value
            assert [s.name for s in outline] == ["use_0"]
            titles = {lens.command.title for lens in lenses if lens.command}
            assert lenses and titles, lenses
            assert not await refs
            assert len(streamed(client, "part")) == EXPECTED


async def test_without_the_interactive_twin_a_hover_waits_for_the_held_unit(work: Path):
    with holding() as holds:
        async with lsp_session(work, {"interactiveTwin": False}, env=holds.env) as client:
            st = await client.status()
            assert st["pool"]["lanes"] == 0 and st["lanes"] == []
            client.open("user_000.py")
            refs = send(client, refs_params(client, "part"))
            await holds.wait(client)
            pending = asyncio.ensure_future(hover(client))
            # A round trip the server answers itself, so the hover has reached the twin.
            with pytest.raises(JsonRpcException):
                await client.command("twinls.findImplementors")  # no name: refused at once
            assert not pending.done(), "the held unit let a hover through"
            holds.release()
            found = await asyncio.wait_for(pending, GUARD)
            assert found is not None and "target" in found.contents.value
            assert not await refs


async def test_with_the_interactive_twin_killed_hovers_are_still_answered(work: Path):
    async with lsp_session(work, {"maxRestarts": 0}) as client:
        lane = (await lane_up(client))["lanes"][0]
        # No document open: no syntax check keeps it busy, so the hover goes to it.
        os.kill(lane["pid"], signal.SIGSTOP)
        pending = asyncio.ensure_future(hover(client))
        with pytest.raises(JsonRpcException):  # a round trip: the hover has reached it
            await client.command("twinls.findImplementors")
        assert not pending.done()
        os.kill(lane["pid"], signal.SIGKILL)  # it dies under the hover ...
        found = await asyncio.wait_for(pending, GUARD)  # ... asked again of a search twin
        assert found is not None and "target" in found.contents.value
        await client.wait_for(
            lambda: [m for m in client.messages if f"twin {lane['slot']} died" in m.message],
            what="the interactive twin given up",
        )
        st = await client.status()
        assert st["pool"]["lanes"] == 0 and st["lanes"] == [] and st["pool"]["live"] == 1
        found = await hover(client, 6)  # given up: the search twin answers
        assert found is not None and "target" in found.contents.value
        await client.command("twinls.restart")  # brings the given-up twin back
        st = await lane_up(client)
        assert st["lanes"][0]["pid"] != lane["pid"]
        assert (await hover(client, 8)) is not None


def insert_line() -> types.TextDocumentContentChangePartial:
    start = types.Position(0, 0)
    return types.TextDocumentContentChangePartial(range=types.Range(start, start), text="\n")


def state_of(pid: int) -> str:
    """A process's state letter (``T``: stopped by a signal)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


async def test_the_busy_search_twin_is_stopped_while_the_interactive_twin_answers(work: Path):
    # A long bound: the hover stays in flight (its twin stopped by the test) past any load.
    with holding() as holds:
        async with lsp_session(work, {"interactivePause": 600}, env=holds.env) as client:
            st = await lane_up(client)
            lane, searchers = st["lanes"][0]["pid"], [t["pid"] for t in st["twins"]]
            client.open("user_000.py")
            refs = send(client, refs_params(client, "part"))
            await holds.wait(client)  # a search twin is busy in the search's first unit
            os.kill(lane, signal.SIGSTOP)  # the hover stays in flight in the interactive twin
            try:
                pending = asyncio.ensure_future(hover(client))
                await client.wait_for(
                    lambda: any(state_of(p) == "T" for p in searchers),
                    GUARD,
                    what="the busy search twin stopped while the hover is in flight",
                )
                assert not pending.done()
            finally:
                os.kill(lane, signal.SIGCONT)
            found = await asyncio.wait_for(pending, GUARD)
            assert found is not None and "target" in found.contents.value
            await client.wait_for(  # continued as soon as the hover is answered
                lambda: all(state_of(p) != "T" for p in searchers), GUARD, what="continued"
            )
            holds.release()
            assert not await refs  # the search is whole: every location, once
            assert len(streamed(client, "part")) == EXPECTED
            assert (await client.status())["pool"]["paused"] >= 1


async def test_a_hung_interactive_twin_stalls_no_search(work: Path):
    with holding() as holds:
        # A bound long enough to be seen; no heartbeat kill of the hung twin meanwhile.
        options = {"interactivePause": 2, "hangAfter": 600}
        async with lsp_session(work, options, env=holds.env) as client:
            st = await lane_up(client)
            lane, searchers = st["lanes"][0]["pid"], [t["pid"] for t in st["twins"]]
            client.open("user_000.py")
            refs = send(client, refs_params(client, "part"))
            await holds.wait(client)
            os.kill(lane, signal.SIGSTOP)  # hung under a hover
            try:
                pending = asyncio.ensure_future(hover(client))
                # (No twinls.status meanwhile: it asks the hung twin too.)
                await client.wait_for(
                    lambda: any(state_of(p) == "T" for p in searchers), GUARD, what="stopped"
                )
                await client.wait_for(
                    lambda: all(state_of(p) != "T" for p in searchers), GUARD, what="continued"
                )
                holds.release()
                assert not await asyncio.wait_for(refs, GUARD)  # done while the hover hangs
                assert len(streamed(client, "part")) == EXPECTED
                assert not pending.done()
            finally:
                os.kill(lane, signal.SIGCONT)
            found = await asyncio.wait_for(pending, GUARD)
            assert found is not None and "target" in found.contents.value


async def test_a_hover_and_an_outline_asked_again_are_answered_with_every_twin_stopped(work: Path):
    async with lsp_session(work, {"pool": 1}) as client:
        st = await lane_up(client)
        pids = [t["pid"] for t in st["twins"] + st["lanes"]]
        client.open("user_000.py")
        outline = types.DocumentSymbolParams(text_document=at(client, "user_000.py"))
        first = await hover(client)
        symbols = await client.text_document_document_symbol_async(outline)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)  # no twin can answer now
        try:
            again = await asyncio.wait_for(hover(client), GUARD)  # kept: no twin asked
            assert again == first and "target" in again.contents.value
            assert (
                await asyncio.wait_for(client.text_document_document_symbol_async(outline), GUARD)
                == symbols
            )
            fresh = asyncio.ensure_future(hover(client, 6))  # never asked: waits for a twin
            client.change("user_000.py", insert_line())  # any edit: asked anew
            changed = asyncio.ensure_future(hover(client, 5))  # the same name, a line down
            outlined = asyncio.ensure_future(client.text_document_document_symbol_async(outline))
            with pytest.raises(JsonRpcException):  # a round trip: the requests are in
                await client.command("twinls.findImplementors")
            assert not fresh.done() and not changed.done() and not outlined.done()
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        assert await asyncio.wait_for(fresh, GUARD) is not None  # (of the edited text)
        assert "target" in (await asyncio.wait_for(changed, GUARD)).contents.value
        assert [s.name for s in await asyncio.wait_for(outlined, GUARD)] == ["use_0"]


async def warmed(client: TwinClient, pid: int | None = None) -> dict:
    """Status once the interactive twin (not ``pid``) has followed an open document's imports."""
    deadline = asyncio.get_running_loop().time() + GUARD  # a guard against a hang only
    while True:
        st = await lane_up(client)
        lane = st["lanes"][0]
        if lane["pid"] != pid and lane["jedi"]["hover_warmed"]:
            return st
        assert asyncio.get_running_loop().time() < deadline, f"never warmed: {lane}"
        await asyncio.sleep(0.05)


async def test_the_interactive_twin_follows_an_open_documents_imports_before_a_hover(work: Path):
    async with lsp_session(work) as client:
        client.open("user_000.py")  # ``from hub import target, Other``
        st = await warmed(client)
        assert st["lanes"][0]["jedi"]["hover_warmed"] == 2, st["lanes"]  # target, Other
        assert all(t["jedi"]["hover_warmed"] == 0 for t in st["twins"])  # not the search twins
        # A restarted interactive twin is a new process: it is warmed again, unasked.
        os.kill(st["lanes"][0]["pid"], signal.SIGKILL)
        again = await warmed(client, st["lanes"][0]["pid"])
        assert again["lanes"][0]["jedi"]["hover_warmed"] == 2, again["lanes"]
        assert (await hover(client)) is not None


async def test_status_is_answered_while_a_search_twin_is_inside_a_unit(work: Path):
    """``twinls.status`` asks every twin; it reads no jedi state, so it skips the gate."""
    with holding() as holds:
        async with lsp_session(work, env=holds.env) as client:
            refs = asyncio.ensure_future(
                client.text_document_references_async(
                    types.ReferenceParams(
                        text_document=at(client, "hub.py"),
                        position=types.Position(0, 5),
                        context=types.ReferenceContext(include_declaration=True),
                    )
                )
            )
            await holds.wait(client)
            st = await asyncio.wait_for(client.status(), GUARD)  # a guard, not a speed bound
            assert st["twins"] and not refs.done()
            holds.release()
            assert await refs

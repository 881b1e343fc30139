"""Random incremental edits leave the server's and the twin's text byte-identical.

The expected text comes from a model written here, independently of
``twinls.shared.textbuf``: LSP line breaks, columns in the negotiated encoding,
clamping of columns past a line's end.
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from lsp_harness import lsp_session
from twinls.shared.textbuf import text_sha256

ALPHABET = st.sampled_from(list("ab c\n\n\r\té中😀") + ["\r\n", "𝔘"])
_BREAK = re.compile(r"\r\n|\r|\n")


def model_lines(text: str) -> list[tuple[int, str]]:
    """(start offset, content without break) per LSP line."""
    out, start = [], 0
    for m in _BREAK.finditer(text):
        out.append((start, text[start : m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return out


def width(s: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(s.encode("utf-8"))
    if encoding == "utf-16":
        return len(s.encode("utf-16-le")) // 2
    return len(s)


def offset_of(text: str, line: int, col_cp: int) -> int:
    lines = model_lines(text)
    if line >= len(lines):
        return len(text)
    start, content = lines[line]
    return start + min(col_cp, len(content))


class Background:
    """One LSP session on a loop in a thread, shared by every hypothesis example."""

    def __init__(self, root: Path, encodings: list[str] | None) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop = asyncio.Event()
        self.error: BaseException | None = None
        self.root, self.encodings = root, encodings
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.main(),))
        self.thread.start()
        self.ready.wait(60)
        if self.error:
            raise self.error

    async def main(self) -> None:
        self.stop = asyncio.Event()
        try:
            async with lsp_session(self.root, encodings=self.encodings) as client:
                self.client = client
                self.ready.set()
                await self.stop.wait()
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(60)


@pytest.fixture(scope="module", params=["utf-16", "utf-8", "utf-32"])
def session(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    bg = Background(root, [request.param] if request.param != "utf-16" else None)
    bg.encoding = request.param
    yield bg
    bg.close()


def test_negotiated_encoding(session):
    assert session.client.init_result.capabilities.position_encoding == session.encoding


_doc = iter(range(10**6))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), initial=st.lists(ALPHABET, max_size=30).map("".join))
def test_random_edits_stay_identical(session, data, initial):
    client, enc = session.client, session.encoding
    name = f"doc{next(_doc)}.py"
    text = initial
    changes = []
    for _ in range(data.draw(st.integers(1, 25), label="edits")):
        lines = model_lines(text)
        positions = []
        for _ in range(2):
            line = data.draw(st.integers(0, len(lines) - 1))
            content = lines[line][1]
            cp = data.draw(st.integers(0, len(content) + 2))  # past the end is clamped
            units = width(content[:cp], enc) + max(0, cp - len(content))
            positions.append((line, cp, units))
        (sl, scp, su), (el, ecp, eu) = sorted(positions)
        new = data.draw(st.lists(ALPHABET, max_size=6).map("".join))
        changes.append(
            types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(sl, su), types.Position(el, eu)), text=new
            )
        )
        a, b = offset_of(text, sl, scp), offset_of(text, el, ecp)
        text = text[:a] + new + text[max(a, b) :]

    async def replay():  # on the client's own loop: pygls is not thread-safe
        client.open(name, initial)
        for change in changes:
            client.change(name, change)
        status = await client.status()
        client.close(name)
        return status

    status = session.run(replay())
    path = str((session.root / name).resolve())
    expected = text_sha256(text)
    assert status["server"]["hashes"][path] == expected, "server's text differs from the model"
    assert status["twins"][0]["hashes"][path] == expected, "twin's text differs from the server's"

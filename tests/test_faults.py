"""A twin that dies, hangs or keeps dying never takes the server or an edit with it."""

from __future__ import annotations

import os
import signal

from lsprotocol import types

from lsp_harness import lsp_session
from twinls.shared.textbuf import text_sha256


def pos(line: int, col: int) -> types.Position:
    return types.Position(line, col)


def insert(line: int, col: int, text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(pos(line, col), pos(line, col)), text=text
    )


async def new_twin(client, old_pid: int) -> dict:
    """Status once a twin other than ``old_pid`` answers."""

    async def probe():
        try:
            st = await client.status()
        except Exception:
            return None
        return st if st["twins"] and st["twins"][0]["pid"] != old_pid else None

    result = {}

    async def poll():
        result["st"] = await probe()
        return result["st"]

    import asyncio

    deadline = asyncio.get_running_loop().time() + 30
    while not await poll():
        assert asyncio.get_running_loop().time() < deadline, "no new twin came up"
        await asyncio.sleep(0.1)
    return result["st"]


async def test_kill_9_loses_no_edit(tmp_path):
    (tmp_path / "a.py").write_text("")
    async with lsp_session(tmp_path) as client:
        client.open("a.py", "start\n")
        st = await client.status()
        pid = st["twins"][0]["pid"]
        os.kill(pid, signal.SIGKILL)
        for i in range(20):  # typed while the twin is dead and restarting
            client.change("a.py", insert(1, 0, f"{i}\n"))
        st = await new_twin(client, pid)
        path = str((tmp_path / "a.py").resolve())
        expected = text_sha256("start\n" + "".join(f"{i}\n" for i in reversed(range(20))))
        assert st["server"]["hashes"][path] == expected
        assert st["twins"][0]["hashes"][path] == expected
        assert not client.messages, "one death is no news for the user"


async def test_a_twin_that_keeps_dying_is_given_up_and_said_so(tmp_path):
    async with lsp_session(tmp_path, {"maxRestarts": 1}) as client:
        pid = (await client.status())["twins"][0]["pid"]
        os.kill(pid, signal.SIGKILL)
        pid = (await new_twin(client, pid))["twins"][0]["pid"]
        os.kill(pid, signal.SIGKILL)
        msg = await client.wait_for(
            lambda: [m for m in client.messages if "not restarting" in m.message],
            what="a showMessage saying the twin is given up",
        )
        assert msg[0].type == types.MessageType.Error
        st = await client.status()  # still answers, and says why nothing runs
        assert st["pool"]["live"] == 0 and st["pool"]["gave_up"] == [0]
        client.open("b.py", "edits still land\n")  # the server itself is fine
        await client.command("twinls.restart")
        st = await new_twin(client, pid)
        assert st["twins"][0]["hashes"][str((tmp_path / "b.py").resolve())] == text_sha256(
            "edits still land\n"
        )


async def test_a_hung_twin_is_found_by_the_heartbeat(tmp_path):
    async with lsp_session(tmp_path, {"heartbeat": 0.2, "hangAfter": 1.5}) as client:
        client.open("c.py", "x\n")
        pid = (await client.status())["twins"][0]["pid"]
        os.kill(pid, signal.SIGSTOP)  # stuck, as if in C code holding the GIL
        try:
            client.change("c.py", insert(0, 0, "y"))
            st = await new_twin(client, pid)
        finally:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        assert st["twins"][0]["hashes"][str((tmp_path / "c.py").resolve())] == text_sha256("yx\n")


async def test_bad_edits_get_a_clear_answer_and_serving_goes_on(tmp_path):
    async with lsp_session(tmp_path) as client:
        client.change("never-opened.py", insert(0, 0, "x"))
        await client.wait_for(
            lambda: [m for m in client.log_messages if "not open" in m.message],
            what="a log message about the unknown document",
        )
        client.open("d.py", "ab\ncd\n")
        # Past the end of a line and past the last line: clamped, as the spec says.
        client.change(
            "d.py",
            types.TextDocumentContentChangePartial(
                range=types.Range(pos(0, 99), pos(99, 0)), text="!"
            ),
        )
        st = await client.status()
        path = str((tmp_path / "d.py").resolve())
        assert st["server"]["hashes"][path] == text_sha256("ab!")
        assert st["twins"][0]["hashes"][path] == text_sha256("ab!")

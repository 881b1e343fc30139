"""A test that crashes, hangs or is cancelled harms only its own run child, never the twin."""

from __future__ import annotations

import asyncio
import textwrap

from lsprotocol import types

from lsp_harness import lsp_session

HOSTILE = textwrap.dedent(
    """\
    import os
    import time

    LEAKED = []


    def test_before():
        LEAKED.append(1)


    def test_exit():
        os._exit(3)


    def test_after():
        assert LEAKED == []  # a fresh process: nothing leaked from test_before


    def test_loop():
        n = 0
        while True:
            n += 1


    def test_last():
        pass


    def test_segfault():
        import ctypes

        ctypes.string_at(0)


    def test_sleeps(tmp_path):
        with open(os.environ["TWINLS_PID_FILE"], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


async def twin_pid(client) -> int:
    return (await client.status())["twins"][0]["pid"]


async def test_crashes_and_hangs_are_named_and_the_rest_still_run(tmp_path):
    (tmp_path / "test_hostile.py").write_text(HOSTILE)
    async with lsp_session(tmp_path, {"runTimeout": 3}) as client:
        pid = await twin_pid(client)
        uri = client.uri("test_hostile.py")
        result = await client.command("twinls.runTest", {"uri": uri, "nodeid": "test_hostile.py"})
        outcomes = {t["name"]: t["outcome"] for t in result["tests"]}
        assert outcomes == {
            "test_before": "passed",
            "test_exit": "error",
            "test_after": "passed",
            "test_loop": "error",
            "test_last": "passed",
            "test_segfault": "error",
            "test_sleeps": "failed",  # KeyError: no pid file named in this session
        }
        by_name = {t["name"]: t for t in result["tests"]}
        crash = by_name["test_exit"]
        assert "exited with status 3" in crash["message"] and crash["line"] == 10
        hang = by_name["test_loop"]
        assert hang["message"].startswith("Timeout: still running after 3 s")
        assert "test_loop" in hang["traceback"]  # the child's stack, taken before the kill
        assert hang["uri"] == uri and hang["line"] in (20, 21, 22)  # where it was stuck
        segv = by_name["test_segfault"]
        assert "signal 11 (SIGSEGV)" in segv["message"] and "test_segfault" in segv["traceback"]
        assert segv["line"] == 31  # the faulting line, from the stack dump
        assert result["outcome"] == "failed"  # a failure outranks errors, as in pytest

        # The twin that forked those children is the same process, still serving.
        assert await twin_pid(client) == pid
        client.open("test_hostile.py")
        ok = await client.command("twinls.runTest", {"uri": uri, "qualname": "test_last"})
        assert ok["outcome"] == "passed"


async def test_cancel_kills_the_child_promptly(tmp_path):
    (tmp_path / "test_hostile.py").write_text(HOSTILE)
    pid_file = tmp_path.parent / f"{tmp_path.name}.pid"
    env = {"TWINLS_PID_FILE": str(pid_file)}
    async with lsp_session(tmp_path, env=env) as client:
        uri = client.uri("test_hostile.py")
        twin = await twin_pid(client)
        for how in ("command", "progress"):
            pid_file.unlink(missing_ok=True)
            tokens = set(client.progress_values)
            task = asyncio.ensure_future(
                client.command("twinls.runTest", {"uri": uri, "qualname": "test_sleeps"})
            )
            await client.wait_for(pid_file.exists, what="the test to start")
            await client.wait_for(pid_file.read_text, what="the pid")
            child = int(pid_file.read_text())
            assert alive(child)
            # While the test runs, the twin keeps applying edits and answering.
            client.open("scratch.py", f"x = '{how}'\n")
            status = await client.status()
            assert status["twins"][0]["hashes"] == status["server"]["hashes"]
            client.close("scratch.py")
            if how == "command":
                assert (await client.command("twinls.cancelRun"))["cancelled"]
            else:
                (token,) = set(client.progress_values) - tokens
                client.window_work_done_progress_cancel(
                    types.WorkDoneProgressCancelParams(token=token)
                )
            result = await asyncio.wait_for(task, 10)
            assert result["outcome"] == "cancelled"
            await client.wait_for(lambda pid=child: not alive(pid), what="the child to die")
        assert await twin_pid(client) == twin
    assert not any(p.name == "__pycache__" for p in tmp_path.rglob("*"))
    pid_file.unlink(missing_ok=True)

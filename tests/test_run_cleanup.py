"""Run children clean up after themselves, stay in bounds, and send nothing that runs.

Each test here plays a hostile or careless test file: it forks and leaves, crashes
with a child holding its socket, writes half a frame, prints 100 MB, or sends the
supervisor a crafted pickle. What the editor sees must stay true and small, and
nothing may outlive the run or run inside the twin or the server.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

from lsp_harness import lsp_session

PROBE = textwrap.dedent(
    """\
    import json
    import os
    import socket
    import sys
    import time

    PROBE = os.environ["TWINLS_PROBE_DIR"]


    def write(name, value):
        with open(os.path.join(PROBE, name + ".tmp"), "w") as f:
            f.write(str(value))
        os.rename(os.path.join(PROBE, name + ".tmp"), os.path.join(PROBE, name))


    def own_sockets():
        found = []
        for name in os.listdir("/proc/self/fd"):
            try:
                s = socket.socket(fileno=os.dup(int(name)))
            except OSError:
                continue
            if s.family == socket.AF_UNIX:
                found.append(s)
            else:
                s.close()
        return found
    """
)

LEAVERS = PROBE + textwrap.dedent(
    """\


    def test_forks_a_grandchild():
        pid = os.fork()
        if pid == 0:
            time.sleep(600)
            os._exit(0)
        write("grandchild", pid)


    def test_forks_a_daemon():
        pid = os.fork()
        if pid == 0:  # leaves the run's process group, then its parent
            os.setsid()
            inner = os.fork()
            if inner == 0:
                time.sleep(600)
                os._exit(0)
            write("daemon", inner)
            os._exit(0)
        os.waitpid(pid, 0)


    def test_descriptors_and_limits():
        fds = {}
        for name in os.listdir("/proc/self/fd"):
            try:
                fds[name] = os.readlink(f"/proc/self/fd/{name}")
            except OSError:
                pass
        write("fds", json.dumps(fds))
        with open("/proc/self/oom_score_adj") as f:
            write("oom", f.read().strip())
        import resource

        write("rlimit", resource.getrlimit(resource.RLIMIT_AS)[0])
        try:
            block = bytearray(2 * 1024**3)
        except MemoryError:
            write("memory", "MemoryError")
        else:
            write("memory", len(block))
    """
)

CRASHER = PROBE + textwrap.dedent(
    """\


    def test_crashes_leaving_a_child():
        if os.fork() == 0:
            time.sleep(600)  # holds the executor's socket open
            os._exit(0)
        os._exit(7)


    def test_after_the_crash():
        pass
    """
)

HALF_FRAME = PROBE + textwrap.dedent(
    """\


    def test_writes_half_a_frame():
        for s in own_sockets():
            s.send(b"\\x00\\x00\\x10\\x00only the start")
        time.sleep(600)
    """
)

FLOOD = PROBE + textwrap.dedent(
    """\


    def test_prints_100_mb():
        chunk = "x" * (1024 * 1024)
        for _ in range(100):
            sys.stdout.write(chunk)
        print("THE END")


    def test_after_the_flood():
        pass
    """
)

PICKLER = PROBE + textwrap.dedent(
    """\


    def test_sends_a_pickle():
        import pickle
        import struct

        import msgpack

        mark = os.path.join(PROBE, "unpickled")

        class Boom:
            def __reduce__(self):
                code = f"open({mark!r}, 'a').write(str(__import__('os').getpid()) + ' ')"
                return (exec, (code,))

        entry = {
            "nodeid": "test_pickle.py::test_fake", "name": "test_fake", "outcome": "failed",
            "duration": 0.0, "stdout": "", "stderr": "", "file": None, "path": None,
            "line": None, "value": None, "qualname": "test_fake", "categories": ["failed"],
            "message": msgpack.ExtType(1, pickle.dumps(Boom())),
        }
        body = msgpack.packb({"k": "result", "test": entry}, use_bin_type=True)
        for s in own_sockets():
            s.send(struct.pack("!I", len(body)) + body)
    """
)


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] == "Z"
    except FileNotFoundError:
        return True


def probe_dir(tmp_path: Path) -> Path:
    probe = tmp_path.parent / f"{tmp_path.name}_probe"  # outside the workspace
    probe.mkdir()
    return probe


async def run_file(client, rel: str, timeout: float = 120) -> dict:
    uri = client.uri(rel)
    return await asyncio.wait_for(client.command("twinls.runFile", {"uri": uri}), timeout)


async def test_nothing_a_test_forks_outlives_its_run(tmp_path):
    probe = probe_dir(tmp_path)
    (tmp_path / "test_leavers.py").write_text(LEAVERS)
    env = {"TWINLS_PROBE_DIR": str(probe)}
    async with lsp_session(tmp_path, {"runMemoryLimit": 512}, env=env) as client:
        result = await run_file(client, "test_leavers.py")
        assert {t["name"]: t["outcome"] for t in result["tests"]} == {
            "test_forks_a_grandchild": "passed",
            "test_forks_a_daemon": "passed",
            "test_descriptors_and_limits": "passed",
        }
        for name in ("grandchild", "daemon"):
            pid = int((probe / name).read_text())
            await client.wait_for(lambda pid=pid: gone(pid), what=f"the {name} {pid} to be gone")
        fds = json.loads((probe / "fds").read_text())
        sockets = [target for target in fds.values() if target.startswith("socket:")]
        assert len(sockets) == 1, fds  # its own socket to the supervisor, nothing of the twin's
        assert int((probe / "oom").read_text()) == 1000
        assert int((probe / "rlimit").read_text()) == 512 * 1024 * 1024
        assert (probe / "memory").read_text() == "MemoryError"


async def test_a_run_in_progress_goes_with_the_server(tmp_path):
    probe = probe_dir(tmp_path)
    sleeper = LEAVERS.replace(
        'write("grandchild", pid)', 'write("grandchild", pid)\n    time.sleep(600)'
    )
    (tmp_path / "test_leavers.py").write_text(sleeper)
    env = {"TWINLS_PROBE_DIR": str(probe)}
    async with lsp_session(tmp_path, env=env) as client:
        run = asyncio.ensure_future(
            client.command(
                "twinls.runTest",
                {"uri": client.uri("test_leavers.py"), "qualname": "test_forks_a_grandchild"},
            )
        )
        await client.wait_for((probe / "grandchild").exists, what="the grandchild to start")
        pid = int((probe / "grandchild").read_text())
        assert not gone(pid)
    run.cancel()
    deadline = asyncio.get_running_loop().time() + 30
    while not gone(pid):
        assert asyncio.get_running_loop().time() < deadline, f"grandchild {pid} outlived the server"
        await asyncio.sleep(0.05)


async def test_a_crash_is_reported_as_a_crash_even_with_a_child_holding_the_socket(tmp_path):
    probe = probe_dir(tmp_path)
    (tmp_path / "test_crasher.py").write_text(CRASHER)
    env = {"TWINLS_PROBE_DIR": str(probe)}
    async with lsp_session(tmp_path, {"runTimeout": 60}, env=env) as client:
        result = await run_file(client, "test_crasher.py")
        by_name = {t["name"]: t for t in result["tests"]}
        crash = by_name["test_crashes_leaving_a_child"]
        assert crash["outcome"] == "error"
        assert crash["message"].startswith("Crashed: the test process exited with status 7")
        assert by_name["test_after_the_crash"]["outcome"] == "passed"


async def test_half_a_frame_does_not_get_around_the_timeout(tmp_path):
    probe = probe_dir(tmp_path)
    (tmp_path / "test_half.py").write_text(HALF_FRAME)
    env = {"TWINLS_PROBE_DIR": str(probe)}
    async with lsp_session(tmp_path, {"runTimeout": 3}, env=env) as client:
        result = await run_file(client, "test_half.py")
        (test,) = result["tests"]
        assert test["outcome"] == "error"
        assert test["message"].startswith("Timeout: still running after 3 s")
        assert (await client.status())["pool"]["live"] == 1


async def test_100_mb_of_output_is_cut_and_the_file_goes_on(tmp_path):
    probe = probe_dir(tmp_path)
    (tmp_path / "test_flood.py").write_text(FLOOD)
    env = {"TWINLS_PROBE_DIR": str(probe)}
    async with lsp_session(tmp_path, env=env) as client:
        result = await run_file(client, "test_flood.py")
        by_name = {t["name"]: t for t in result["tests"]}
        assert by_name["test_after_the_flood"]["outcome"] == "passed"
        flood = by_name["test_prints_100_mb"]
        assert flood["outcome"] == "passed"
        assert len(flood["stdout"]) < 100 * 1024
        assert "characters cut here; the whole text was 104857608" in flood["stdout"]
        assert flood["stdout"].endswith("THE END\n")
        assert len(json.dumps(result)) < 512 * 1024


async def test_a_pickle_from_a_test_never_runs_in_the_supervisor_twin_or_server(tmp_path):
    probe = probe_dir(tmp_path)
    (tmp_path / "test_pickle.py").write_text(PICKLER)
    env = {"TWINLS_PROBE_DIR": str(probe)}
    async with lsp_session(tmp_path, env=env) as client:
        before = await client.status()
        result = await run_file(client, "test_pickle.py")
        assert not (probe / "unpickled").exists(), (probe / "unpickled").read_text()
        fake = [t for t in result["tests"] if t["name"] == "test_fake"]
        assert (
            fake and "pickled object" in fake[0]["message"] and "not loaded" in fake[0]["message"]
        )
        after = await client.status()
        assert after["twins"][0]["pid"] == before["twins"][0]["pid"]
        assert after["server"]["pid"] == before["server"]["pid"]

"""Twins on other hosts (issue 18), end to end over LSP: real execnet gateways to other CPythons.

The workspace is a git repo made here; the "host" is a clone of it elsewhere on this
machine (its checkout), reached through a ``popen`` gateway (another CPython from
pyenv) or ``ssh`` to an sshd this test starts on 127.0.0.1 (tests/remote_hosts.py).
The local workspace has a change on disk that is not committed and an unsaved buffer;
the host's checkout has neither, so a remote twin that finds them got them from the
server (the base check and its overlay, then the edit log). Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import textwrap
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_harness import TwinClient, lsp_session
from remote_hosts import PY312, PY313, checkout, git, make_repo, python_or_skip, sshd
from twinls.server.remote import check_setting

USERS = 24
HUB = "def target():\n    return 1\n"
USER = "from hub import target\n\n\ndef use_{i}():\n    return target() + target()\n"
TESTS = textwrap.dedent(
    """\
    import time

    from hub import target


    def test_a():
        assert target() == 1


    def test_b():
        time.sleep(0.05)


    def test_c():
        assert target() == 2


    def test_d():
        pass


    def test_e():
        time.sleep(0.05)
    """
)
#: Committed only on the workspace's disk (not in the host's checkout): one more use.
ON_DISK = "from hub import target\n\nON_DISK = target()\n"
#: Only in the editor's buffer: two more uses.
UNSAVED = USER.format(i=0) + "\nUNSAVED = target(), target()\n"


def workspace(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "ws"
    files = {"hub.py": HUB, "test_hub.py": TESTS}
    files.update({f"u{i}.py": USER.format(i=i) for i in range(USERS)})
    make_repo(root, files)
    host = checkout(root, tmp_path / "host" / "ws")
    (root / "disk_only.py").write_text(ON_DISK)  # untracked: the overlay must carry it
    return root, host


async def references(client: TwinClient) -> set[tuple[str, int, int]]:
    result = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri("hub.py")),
            position=types.Position(0, 5),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    return {
        (loc.uri.rsplit("/", 1)[1], loc.range.start.line, loc.range.start.character)
        for loc in result or []
    }


def ssh_client(ssh_config: str) -> int:
    """The pid of the gateway's ssh client: the one process run with this test's config."""
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"ssh") and ssh_config.encode() in argv:
            return int(entry)
    raise AssertionError("no ssh client runs with the test's config")


def remote_twins(status: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in status["twins"] if t.get("remote")]


async def wait_remote(
    client: TwinClient, connects: int = 1, timeout: float = 240
) -> dict[str, Any]:
    """Until a remote twin is live after the host's ``connects``-th connect (the first
    one rsyncs and compiles)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.status()
        if remote_twins(status) and status["remotes"][0]["connects"] >= connects:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no remote twin: {status['remotes']}")
        await asyncio.sleep(0.2)


async def local_answer(root: Path) -> set[tuple[str, int, int]]:
    async with lsp_session(root, {"pool": 1}) as client:
        client.open("u0.py", UNSAVED)
        return await references(client)


def expected() -> set[tuple[str, int, int]]:
    uses = {("hub.py", 0, 4), ("disk_only.py", 0, 16), ("disk_only.py", 2, 10)}
    for i in range(USERS):
        uses |= {(f"u{i}.py", 0, 16), (f"u{i}.py", 4, 11), (f"u{i}.py", 4, 22)}
    uses |= {("u0.py", 6, 10), ("u0.py", 6, 20), ("test_hub.py", 2, 16)}
    uses |= {("test_hub.py", 6, 11), ("test_hub.py", 14, 11)}
    return uses


async def check_sharded_references(client: TwinClient, want: set) -> None:
    """Every repeat gives the local pool's answer, and the remote twins take part in it.

    How many chunks a twin takes is its measured speed's business (``shards.weights``):
    under load a remote twin measured slow after the first search may be homed no file
    in the next, so the check is that it took some, not a share per repeat.
    """
    client.open("u0.py", UNSAVED)
    before = {t["slot"]: t["chunks"] for t in remote_twins(await client.status())}
    for _ in range(3):
        assert await references(client) == want
    after = {t["slot"]: t["chunks"] for t in remote_twins(await client.status())}
    assert any(after[s] > before.get(s, 0) for s in after), (before, after)


def test_remotes_setting_is_checked():
    good, problems = check_setting(
        [
            {"gateway": "popen//python=/usr/bin/python3", "root": "/srv/ws", "twins": 2},
            {"gateway": "socket=10.0.0.1:8888", "root": "/srv/ws"},
            {"gateway": "ssh=me@host", "root": "relative"},
            "nope",
        ]
    )
    assert good == [{"gateway": "popen//python=/usr/bin/python3", "root": "/srv/ws", "twins": 2}]
    assert len(problems) == 3
    assert "only ssh and popen gateways" in problems[0]


async def test_popen_host_shares_references_and_split_runs_and_survives_a_kill(tmp_path):
    python = python_or_skip(PY312)
    root, host = workspace(tmp_path)
    want = await local_answer(root)
    assert want == expected()
    remotes = [{"gateway": f"popen//python={python}", "root": str(host), "twins": 1}]
    async with lsp_session(root, {"pool": 1, "remotes": remotes, "runSplitMin": 0}) as client:
        status = await wait_remote(client)
        (twin,) = remote_twins(status)
        assert twin["remote"] == remotes[0]["gateway"]
        assert twin["python"]["executable"] == python and twin["python"]["version_info"][:2] == [
            3,
            12,
        ]
        assert "remote" not in status["twins"][0] and status["twins"][0]["calls"] >= 1
        assert status["remotes"][0]["state"] == "up"
        assert status["remotes"][0]["sizing"]["reason"] == "set by the 'twins' setting"
        await check_sharded_references(client, want)

        # Interactive requests stay local: the remote twin answers only the status calls.
        calls = remote_twins(await client.status())[0]["calls"]
        for _ in range(3):
            place = {
                "text_document": types.TextDocumentIdentifier(uri=client.uri("u0.py")),
                "position": types.Position(6, 12),
            }
            hover = await client.text_document_hover_async(types.HoverParams(**place))
            assert hover is not None and "target" in str(hover.contents)
            found = await client.text_document_definition_async(types.DefinitionParams(**place))
            assert found and found[0].uri == client.uri("hub.py")
        assert remote_twins(await client.status())[0]["calls"] == calls + 1

        # A split run: the second run of the file has durations, so it is dealt to both.
        uri = client.uri("test_hub.py")
        first = await client.command("twinls.runFile", uri)
        assert first["summary"]["passed"] == 4 and first["summary"]["failed"] == 1
        second = await client.command("twinls.runFile", uri)
        assert second["twins"] == [0, twin["slot"]], second["twins"]
        assert second["summary"]["passed"] == 4 and second["summary"]["failed"] == 1
        failed = [t for t in second["tests"] if t["outcome"] == "failed"]
        assert [t["name"] for t in failed] == ["test_c"]
        assert failed[0]["uri"] == uri  # the host's path mapped back to the workspace's
        # Now both hosts have timings of the tests: the third run is dealt by them.
        third = await client.command("twinls.runFile", uri)
        assert third["summary"]["passed"] == 4 and third["summary"]["failed"] == 1
        assert sorted(t["name"] for t in third["tests"]) == [f"test_{c}" for c in "abcde"]

        # The host disappears mid-search: nothing is lost, it comes back, edits reach it.
        agent = status["remotes"][0]["facts"]["pid"]
        search = asyncio.ensure_future(references(client))
        await asyncio.sleep(0)  # the request is out; its answer cannot be back yet
        assert not search.done()  # the kill lands while the search runs
        os.kill(agent, signal.SIGKILL)
        assert await search == want
        client.open("u1.py", USER.format(i=1) + "\nAWAY = target()\n")  # while it is away
        back = await wait_remote(client, connects=2)
        assert back["remotes"][0]["facts"]["pid"] != agent and back["remotes"][0]["lost"] == 1
        assert any("went away" in m.message for m in client.messages)
        (again,) = remote_twins(back)
        server = back["server"]["hashes"]
        for path in (str(root / "u0.py"), str(root / "u1.py")):
            assert again["hashes"][path] == server[path]
        assert await references(client) == want | {("u1.py", 6, 7)}


async def test_the_local_pool_is_sized_by_free_cores_and_memory_and_says_so(tmp_path):
    (tmp_path / "a.py").write_text("A = 1\n")
    async with lsp_session(tmp_path, {"pool": None}) as client:  # no setting: measured
        status = await client.status()
        sizing = status["pool"]["sizing"]
        assert not sizing["fixed"] and sizing["size"] == status["pool"]["size"]
        assert 1 <= sizing["size"] <= min(4, os.cpu_count() or 1)
        assert sizing["reason"].split(":")[0] in ("free cores", "memory", "at most 4 twins")
        assert "cores" in sizing["reason"] and "GiB available" in sizing["reason"]
        assert sizing["free_cores"] is not None and sizing["by_memory"] >= 1
        for _ in range(600):  # every twin of that size starts (polled, not timed)
            if (await client.status())["pool"]["live"] == sizing["size"]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"not {sizing['size']} live twins: {await client.status()}")
    async with lsp_session(tmp_path, {"pool": 1}) as client:
        sizing = (await client.status())["pool"]["sizing"]
        assert sizing == {"size": 1, "reason": "set by the 'pool' setting", "free_cores": None,
                          "by_memory": None, "fixed": True}  # fmt: skip


async def test_ssh_host_shares_references(tmp_path):
    python = python_or_skip(PY313)
    root, host = workspace(tmp_path)
    want = expected()
    with sshd(tmp_path / "sshd") as (dest, ssh_config):
        remotes = [{"gateway": f"ssh={dest}//python={python}", "root": str(host)}]
        remotes[0]["ssh_config"] = ssh_config
        async with lsp_session(root, {"pool": 1, "remotes": remotes}) as client:
            status = await wait_remote(client)
            (twin,) = remote_twins(status)[:1]
            assert twin["python"]["version_info"][:2] == [3, 13]
            assert {"rtt", "calls", "chunks"} <= set(twin)
            sizing = status["remotes"][0]["sizing"]  # no 'twins': sized by what it has free
            assert not sizing["fixed"] and status["remotes"][0]["size"] == sizing["size"] >= 1
            assert sizing["reason"].split(":")[0] in ("free cores", "memory", "at most 8 twins")
            assert "GiB available" in sizing["reason"] and sizing["by_memory"] >= 1
            await check_sharded_references(client, want)

            # ssh drops mid-search (its client killed): nothing is lost, the host comes back.
            search = asyncio.ensure_future(references(client))
            await asyncio.sleep(0)  # the request is out; its answer cannot be back yet
            assert not search.done()
            os.kill(ssh_client(ssh_config), signal.SIGKILL)
            assert await search == want
            back = await wait_remote(client, connects=2)
            assert back["remotes"][0]["lost"] == 1


ALPHA_USER = "from alpha import target\n\n\ndef use_{i}():\n    return target()\n"
ALPHA_TESTS = "from alpha import target\n\n\ndef test_x():\n    assert target() == 1\n\n\n" + (
    "def test_y():\n    assert target() == 2\n"
)


async def alpha_references(client: TwinClient) -> set[tuple[str, str, int, int]]:
    result = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri("a/alpha.py")),
            position=types.Position(0, 5),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    return {
        (*loc.uri.rsplit("/", 2)[1:], loc.range.start.line, loc.range.start.character)
        for loc in result or []
    }


async def test_a_host_mirrors_only_the_workspace_folder_it_names(tmp_path):
    """Two folders, the host has a checkout of the second only ("folder"): files of the
    first are never dealt to it (its twin could not resolve them: the host has no alpha)."""
    python = python_or_skip(PY312)
    top = tmp_path / "top"
    a, b = top / "a", top / "b"
    make_repo(a, {"alpha.py": HUB, "test_alpha.py": ALPHA_TESTS}
              | {f"v{i}.py": ALPHA_USER.format(i=i) for i in range(12)})  # fmt: skip
    make_repo(b, {"hub.py": HUB, "test_hub.py": TESTS}
              | {f"u{i}.py": USER.format(i=i) for i in range(USERS)})  # fmt: skip
    host_b = checkout(b, tmp_path / "host" / "b")
    opts: dict[str, Any] = {"pool": 1, "runSplitMin": 0}
    async with lsp_session(top, opts, folders=[a, b]) as client:
        client.open("a/v0.py", ALPHA_USER.format(i=0) + "\nUNSAVED = target()\n")
        want = await alpha_references(client)
    assert ("a", "v0.py", 6, 10) in want and ("a", "alpha.py", 0, 4) in want
    assert {f"v{i}.py" for i in range(12)} <= {f for _, f, _, _ in want}
    assert not any(folder == "b" for folder, _, _, _ in want)
    remotes = [{"gateway": f"popen//python={python}", "root": str(host_b), "folder": str(b)}]
    remotes[0]["twins"] = 1
    async with lsp_session(top, {**opts, "remotes": remotes}, folders=[a, b]) as client:
        status = await wait_remote(client)
        assert status["remotes"][0]["folders"] == {str(b): str(host_b)}
        (twin,) = remote_twins(status)
        client.open("a/v0.py", ALPHA_USER.format(i=0) + "\nUNSAVED = target()\n")
        for _ in range(3):  # b's files (they name target too) are dealt to the host as well
            assert await alpha_references(client) == want
        after = remote_twins(await client.status())[0]
        # it took part (how much follows its measured speed: check_sharded_references)
        assert after["chunks"] > twin["chunks"], (twin, after)

        # A split run of the mapped folder's tests uses the host; the other folder's never.
        runs = (("b", "test_hub.py", 4, 1), ("a", "test_alpha.py", 1, 1))
        for folder, rel, passed, failed in runs:
            uri = client.uri(f"{folder}/{rel}")
            for _ in range(2):
                result = await client.command("twinls.runFile", uri)
                assert result["summary"]["passed"] == passed, result["summary"]
                assert result["summary"]["failed"] == failed
            twins = [0, twin["slot"]] if folder == "b" else [0]
            assert result["twins"] == twins, (folder, result["twins"])


async def test_a_host_at_another_commit_is_reported_and_not_used(tmp_path):
    python = python_or_skip(PY312)
    root, host = workspace(tmp_path)
    (host / "hub.py").write_text(HUB + "\n")
    git(host, "commit", "-qam", "elsewhere")
    remotes = [{"gateway": f"popen//python={python}", "root": str(host)}]
    async with lsp_session(root, {"pool": 1, "remotes": remotes}) as client:
        info = await client.wait_for(
            lambda: client.messages and client.messages, timeout=240, what="a message"
        )
        status = await client.status()
        assert status["remotes"][0]["state"] == "mismatch"
        assert "does not match" in status["remotes"][0]["error"]
        assert not remote_twins(status)
        assert any("does not match" in m.message for m in info)

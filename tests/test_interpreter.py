"""Twins in the project's own interpreter: its CPython, its pytest and plugins, its packages.

twinls runs from its own venv (3.11); each project here is another venv of another
CPython (3.10, 3.12, 3.13 from pyenv, built by scripts/setup-interp.sh) holding
pytest and the `twinls-probe-env` package (tests/fixtures/interp_env: `probe_lib`
and the pytest11 plugin `probe_plugin`), which twinls's venv does not have.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_harness import TwinClient, lsp_session

REPO = Path(__file__).resolve().parent.parent
ENVS = REPO / ".test-envs"


def env_python(version: str) -> str:
    exe = ENVS / f"py{version}" / "bin" / "python"
    if not exe.exists():
        pytest.skip(f"no project venv for {version}: run scripts/setup-interp.sh")
    return str(exe)


TEST_FILE = textwrap.dedent(
    """\
    from probe_lib import lib_token


    def test_plugin_and_package(probe_token):
        assert probe_token.startswith("plugin-")
        assert lib_token().startswith("probe-lib-")
    """
)

SHAPES = textwrap.dedent(
    """\
    from probe_lib import Shape


    class Square(Shape):
        def area(self):
            return 4


    def use():
        return Square().area()
    """
)


OTHER = textwrap.dedent(
    """\
    import probe_lib


    class Circle(probe_lib.Shape):
        pass
    """
)


def write_project(root: Path) -> None:
    (root / "test_env.py").write_text(TEST_FILE)
    (root / "shapes.py").write_text(SHAPES)
    (root / "other.py").write_text(OTHER)


async def resolved_through_site_packages(client: TwinClient) -> tuple[set, set]:
    """Implementations of ``probe_lib.Shape`` and its references, both only found by
    inferring ``probe_lib`` (in the project's site-packages) in two workspace files."""
    client.open("shapes.py")
    uri = types.TextDocumentIdentifier(uri=client.uri("shapes.py"))
    found = await client.text_document_implementation_async(
        types.ImplementationParams(text_document=uri, position=at(SHAPES, "Shape", 1))
    )
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=uri,
            position=at(SHAPES, "Shape"),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    return (
        {(loc.uri.rsplit("/", 1)[1], loc.range.start.line) for loc in found or []},
        {(loc.uri.rsplit("/", 1)[1], loc.range.start.line) for loc in refs or []},
    )


async def run_test(client: TwinClient, rel: str, line: int) -> dict:
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=client.uri(rel)))
    )
    lens = next(ln for ln in found if ln.range.start.line == line)
    return await client.command(lens.command.command, *lens.command.arguments)


def at(text: str, needle: str, nth: int = 0) -> types.Position:
    lines = [i for i, ln in enumerate(text.splitlines()) if needle in ln]
    line = lines[nth]
    return types.Position(line, text.splitlines()[line].index(needle))


async def twin_in(client: TwinClient, version: str, timeout: float = 60) -> dict:
    """The status once a live twin runs CPython ``version`` and holds what the server holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            st = await client.status()
        except Exception:  # a twin that died under the status call (the switch's kill)
            st = {"twins": []}
        twins = st["twins"]
        if twins and all(
            t["python"]["version"].startswith(version + ".")
            and t["hashes"] == st["server"]["hashes"]
            for t in twins
        ):
            return st
        assert loop.time() < deadline, f"no twin in {version} came up: {st}"
        await asyncio.sleep(0.1)


# -- end to end ----------------------------------------------------------------------


async def test_project_venv_runs_with_its_pytest_plugin_and_package(tmp_path):
    py312 = env_python("3.12")
    write_project(tmp_path)
    async with lsp_session(tmp_path, init_options={"python": py312}) as client:
        st = await twin_in(client, "3.12")
        interp = st["server"]["interpreter"]
        assert interp["path"] == py312 and interp["source"] == "setting"
        assert interp["version"].startswith("3.12.") and not interp["is_server"]
        (twin,) = st["twins"]
        assert twin["python"]["executable"] == py312
        assert twin["python"]["pytest"]["source"] == "project"
        assert twin["python"]["pytest"]["path"].startswith(str(ENVS / "py3.12"))
        assert twin["python"]["msgpack"] == "fallback"  # the server's compiled one is 3.11's

        client.open("test_env.py")
        result = await run_test(client, "test_env.py", 3)
        assert result["outcome"] == "passed", result
        # The unsaved text runs, in the project's interpreter.
        client.replace_all("test_env.py", TEST_FILE.replace('"plugin-"', '"plugin-3.12"'))
        again = await run_test(client, "test_env.py", 3)
        assert again["outcome"] == "passed", again
        client.replace_all("test_env.py", TEST_FILE.replace('"plugin-"', '"plugin-3.11"'))
        wrong = await run_test(client, "test_env.py", 3)
        assert wrong["outcome"] == "failed", wrong

        # jedi infers through the project's site-packages.
        impls, refs = await resolved_through_site_packages(client)
        assert impls == {("shapes.py", 3), ("other.py", 3)}
        assert {("shapes.py", 0), ("shapes.py", 3), ("other.py", 3)} <= refs
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=client.uri("test_env.py")),
                position=at(TEST_FILE, "lib_token", 1),
            )
        )
        assert hover is not None and "only the project's venv" in str(hover.contents)


async def test_control_twinls_own_interpreter_cannot_see_the_project_venv(tmp_path):
    """The same searches with the server's interpreter find nothing through probe_lib,
    so the test above can only pass through the project's site-packages."""
    write_project(tmp_path)
    async with lsp_session(tmp_path, init_options={"python": sys.executable}) as client:
        impls, refs = await resolved_through_site_packages(client)
        assert ("other.py", 3) not in impls and ("other.py", 3) not in refs


async def test_switching_interpreter_keeps_open_documents_and_survives_kill_9(tmp_path):
    py310, py313 = env_python("3.10"), env_python("3.13")
    write_project(tmp_path)
    async with lsp_session(tmp_path, init_options={"python": py310}) as client:
        st = await twin_in(client, "3.10")
        # The project's own pytest, an older release than twinls's (scripts/setup-interp.sh).
        assert st["twins"][0]["python"]["pytest"]["version"] == "8.3.5" != pytest.__version__
        client.open("test_env.py", TEST_FILE.replace('"plugin-"', '"plugin-3.13"'))
        failed = await run_test(client, "test_env.py", 3)
        assert failed["outcome"] == "failed"  # 3.10's plugin says plugin-3.10

        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"twinls": {"python": py313}})
        )
        st = await twin_in(client, "3.13")
        assert st["server"]["interpreter"]["path"] == py313
        assert str(tmp_path / "test_env.py") in st["twins"][0]["hashes"]  # unsaved text kept
        passed = await run_test(client, "test_env.py", 3)
        assert passed["outcome"] == "passed", passed

        # kill -9: the zygote forks a new twin, brought up to date by the snapshot.
        pid = st["twins"][0]["pid"]
        os.kill(pid, signal.SIGKILL)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while True:
            st = await twin_in(client, "3.13")
            if st["twins"][0]["pid"] != pid:
                break
            assert loop.time() < deadline, "no new twin after kill -9"
            await asyncio.sleep(0.1)
        again = await run_test(client, "test_env.py", 3)
        assert again["outcome"] == "passed", again


async def test_dot_venv_without_pytest_uses_twinls_pytest_and_says_so(tmp_path):
    base = Path(env_python("3.12")).resolve()  # the pyenv CPython behind the venv
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(tmp_path / ".venv")], check=True)
    (tmp_path / "test_plain.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    async with lsp_session(tmp_path) as client:
        st = await twin_in(client, "3.12")
        interp = st["server"]["interpreter"]
        assert interp["source"] == ".venv"
        assert interp["path"] == str(tmp_path / ".venv" / "bin" / "python3")
        assert st["twins"][0]["python"]["pytest"]["source"] == "twinls"
        await client.wait_for(
            lambda: any("has no pytest" in m.message for m in client.messages), what="the notice"
        )
        client.open("test_plain.py")
        result = await run_test(client, "test_plain.py", 0)
        assert result["outcome"] == "passed", result


async def test_a_bad_python_setting_is_a_clear_error_and_the_server_lives(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    missing = str(tmp_path / "nope" / "python")
    # The session's own start waits for a twin; this one never comes, so drive it by hand.
    async with lsp_session(tmp_path, init_options={"python": missing}, wait=False) as client:
        await client.wait_for(
            lambda: any("not an executable" in m.message for m in client.messages),
            what="the error message",
        )
        st = await client.status()
        assert st["twins"] == [] and "not an executable" in st["server"]["interpreter"]["error"]
        # Fixing the setting brings the twins up.
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"twinls": {"python": sys.executable}})
        )
        st = await twin_in(client, f"{sys.version_info[0]}.{sys.version_info[1]}")
        assert st["server"]["interpreter"]["is_server"]


def test_terminal_run_chooses_the_project_interpreter(tmp_path):
    """`twinls run` picks the project's venv as the server does (here from VIRTUAL_ENV)."""
    py312 = env_python("3.12")
    (tmp_path / "test_env.py").write_text(TEST_FILE.replace('"plugin-"', '"plugin-3.12"'))
    twinls = [sys.executable, "-m", "twinls"]
    env = {**os.environ, "VIRTUAL_ENV": str(Path(py312).parent.parent)}
    done = subprocess.run(
        [*twinls, "run", "test_env.py"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
    env.pop("VIRTUAL_ENV")
    flag = subprocess.run(
        [*twinls, "--python", py312, "run", "test_env.py"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert flag.returncode == 0 and "1 passed" in flag.stdout, flag.stdout + flag.stderr
    own = subprocess.run(
        [*twinls, "run", "test_env.py"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert own.returncode == 2 and "probe_lib" in own.stdout  # a collection error, as pytest says


def folder_test(version: str) -> str:
    """A test that passes only in the CPython ``version`` venv (its plugin's token)."""
    return TEST_FILE.replace('"plugin-"', f'"plugin-{version}"')


async def folders_up(client: TwinClient, want: dict[str, str], timeout: float = 90) -> dict:
    """The status once each folder (``want``: root -> CPython version) has a live twin in
    its version serving it, every twin holding what the server holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            st = await client.status()
        except Exception:  # a twin that died under the status call (a switch's kill)
            st = None
        if st is not None:
            by_root = st["server"]["interpreters_by_root"]
            serving = {
                root: [t for t in st["twins"] if root in t.get("folders", [])] for root in want
            }
            if (
                set(by_root) == set(want)
                and all(
                    serving[root]
                    and all(t["python"]["version"].startswith(v + ".") for t in serving[root])
                    and by_root[root].get("version", "").startswith(v + ".")
                    for root, v in want.items()
                )
                and all(t["hashes"] == st["server"]["hashes"] for t in st["twins"])
            ):
                return st
        assert loop.time() < deadline, f"the folders' twins did not come up as {want}: {st}"
        await asyncio.sleep(0.1)


def pids_of(st: dict, root: str) -> set[int]:
    return {t["pid"] for t in st["twins"] if root in t.get("folders", [])}


async def definition_file(client: TwinClient, rel: str) -> str:
    found = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri(rel)),
            position=at(SHAPES, "Shape", 1),
        )
    )
    (loc,) = found
    return loc.uri


async def references_files(client: TwinClient, rel: str) -> set[str]:
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri(rel)),
            position=at(SHAPES, "Shape"),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    root = client.uri(".").rstrip("/") + "/"
    return {loc.uri[len(root) :] for loc in refs or [] if loc.uri.startswith(root)}


async def test_each_folder_runs_and_resolves_in_its_own_interpreter(tmp_path):
    """Two workspace folders in two CPython venvs (3.10 and 3.12): each folder's test runs
    from its lens with its venv's plugin, definitions and references resolve through its
    own site-packages, status names both; switching one folder restarts only its twins and
    keeps the open documents; a folder removed loses its twins, added back gets them."""
    py310, py312, py313 = env_python("3.10"), env_python("3.12"), env_python("3.13")
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, version in ((a, "3.10"), (b, "3.12")):
        folder.mkdir()
        write_project(folder)
        (folder / "test_env.py").write_text(folder_test(version))
    by_folder = {
        str(a): {"python": py310, "pythonSource": "python extension"},
        b.as_uri(): {"python": py312, "pythonSource": "setting"},
    }
    options = {"pythonByFolder": by_folder}
    async with lsp_session(tmp_path, init_options=options, folders=[a, b]) as client:
        st = await folders_up(client, {str(a): "3.10", str(b): "3.12"})
        by_root = st["server"]["interpreters_by_root"]
        assert (by_root[str(a)]["path"], by_root[str(a)]["source"]) == (py310, "python extension")
        assert (by_root[str(b)]["path"], by_root[str(b)]["source"]) == (py312, "setting")
        assert by_root[str(a)]["pytest"]["version"] == "8.3.5"  # 3.10's own older pytest
        assert pids_of(st, str(a)).isdisjoint(pids_of(st, str(b)))

        # A test in each folder, from its lens: only its own venv's plugin makes it pass.
        for rel in ("a/test_env.py", "b/test_env.py"):
            client.open(rel)
            result = await run_test(client, rel, 3)
            assert result["outcome"] == "passed", (rel, result)

        # jedi in each folder's interpreter: the definition is in that venv's site-packages,
        # and references keep each folder's own (the other folder's Shape is another class).
        for rel, env in (("a/shapes.py", "py3.10"), ("b/shapes.py", "py3.12")):
            client.open(rel)
            uri = await definition_file(client, rel)
            assert uri.startswith((ENVS / env).as_uri()) and uri.endswith("probe_lib/__init__.py")
        assert await references_files(client, "a/shapes.py") == {"a/shapes.py", "a/other.py"}
        assert await references_files(client, "b/shapes.py") == {"b/shapes.py", "b/other.py"}

        # Switch b to 3.13 with an unsaved edit that only 3.13's plugin passes: a's twin stays.
        client.replace_all("b/test_env.py", folder_test("3.13"))
        a_pids = pids_of(st, str(a))
        by_folder[b.as_uri()] = {"python": py313, "pythonSource": "python extension"}
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"twinls": {"pythonByFolder": by_folder}})
        )
        st = await folders_up(client, {str(a): "3.10", str(b): "3.13"})
        assert pids_of(st, str(a)) == a_pids  # only b's twins restarted
        assert st["server"]["interpreters_by_root"][str(b)]["source"] == "python extension"
        for rel in ("a/test_env.py", "b/test_env.py"):
            result = await run_test(client, rel, 3)
            assert result["outcome"] == "passed", (rel, result)

        # b removed: its twins go; added back: in its interpreter again, its text kept.
        change = types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[], removed=[types.WorkspaceFolder(uri=b.as_uri(), name="b")]
            )
        )
        client.workspace_did_change_workspace_folders(change)
        st = await folders_up(client, {str(a): "3.10"})
        assert st["server"]["roots"] == [str(a)]
        assert all(t["folders"][0] == str(a) for t in st["twins"])
        change.event = types.WorkspaceFoldersChangeEvent(
            added=[types.WorkspaceFolder(uri=b.as_uri(), name="b")], removed=[]
        )
        client.workspace_did_change_workspace_folders(change)
        st = await folders_up(client, {str(a): "3.10", str(b): "3.13"})
        result = await run_test(client, "b/test_env.py", 3)
        assert result["outcome"] == "passed", result

"""The VS Code extension in code-server sessions of its own (issue 13), apart from the
long session of test_vscode.py: starting one costs ~10 s, so the bundled-server checks
below no longer depend on what that session did before them.

- *folders*: a multi-root workspace whose two folders are in two project venvs (CPython
  3.12 and 3.13 from scripts/setup-interp.sh), each selected per folder by the stand-in
  Python extension (tests/editors/python_standin: the real one is not available offline;
  it implements the same published API, per folder); no ``serverCommand`` and no twinls
  on PATH, so the server bundled in the .vsix starts.
- *restricted*: workspace trust on and the folder not trusted (Restricted Mode).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from vscode_codeserver import (  # noqa: E402
    EXTENSION,
    REPO,
    SETUP,
    code_server,
    missing_tools,
    package_python_standin,
    run_browser_script,
)
from vscode_workspace import ENV_TEST, user_settings  # noqa: E402

pytestmark = [pytest.mark.editor, pytest.mark.timeout(1200)]

SCRIPT = Path(__file__).with_name("vscode_sessions.mjs")
OUT = REPO / ".test-out" / "vscode-sessions"
ENVS = REPO / ".test-envs"
TIMEOUT = 900
#: What Restricted Mode must show: the extension's declared reason (package.json).
DESCRIPTION = json.loads((EXTENSION / "package.json").read_text())["capabilities"][
    "untrustedWorkspaces"
]["description"]

FOLDER_CHECKS = {
    "folders_workbench": "a multi-root workspace starts the bundled server",
    "folders_status": "Show Twin Status names each folder's interpreter, version and source",
    "folders_tooltip": "the status item's tooltip names each folder's interpreter",
    "folders_lenses": "a lens in each folder runs with that folder's venv and plugin",
    "folder_switch": "a new selection for one folder moves only that folder's twins",
}
RESTRICTED_CHECKS = {
    "restricted_workbench": "an untrusted folder opens in Restricted Mode",
    "restricted_extension": "twinls shows as disabled there, with its declared description",
    "restricted_nothing_runs": "no twinls command or status item in Restricted Mode",
}


def session(mode: str, home: Path, folder: Path, extra: dict, trust: bool) -> dict:
    (OUT / f"report-{mode}.json").unlink(missing_ok=True)
    standin = package_python_standin(home)
    with code_server(home, folder, extra_vsix=(standin,), trust=trust) as cs:
        return run_browser_script(
            SCRIPT, cs, home, {"mode": mode, **extra}, OUT, f"-{mode}", TIMEOUT
        )


def tools() -> list[Path]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"VS Code test tools missing: {', '.join(missing)}; run `{SETUP}`")
    pythons = [ENVS / f"py{v}" / "bin" / "python" for v in ("3.12", "3.13", "3.10")]
    if not all(p.exists() for p in pythons):
        pytest.fail("the project venvs are missing: run `bash scripts/setup-interp.sh`")
    OUT.mkdir(parents=True, exist_ok=True)
    return pythons


@pytest.fixture(scope="module")
def folders() -> dict:
    pythons = tools()
    with tempfile.TemporaryDirectory(prefix="twinls-vscode-folders-") as tmp:
        home = Path(tmp)
        settings = {**user_settings(""), "twinls.serverCommand": []}  # the bundled server
        (home / "user-data" / "User").mkdir(parents=True)
        (home / "user-data" / "User" / "settings.json").write_text(json.dumps(settings))
        roots, folder_settings, tests = [], [], []
        for name, version, python in (("a", "3.12", pythons[0]), ("b", "3.13", pythons[1])):
            folder = home / name
            (folder / ".vscode").mkdir(parents=True)
            test = f"test_{name}.py"
            # Its own test name: the status bar item of one folder's run cannot pass the other's.
            body = ENV_TEST.replace('"plugin-"', f'"plugin-{version}"')
            (folder / test).write_text(
                body.replace("test_plugin_and_package", f"test_{name}_plugin")
            )
            (folder / ".vscode" / "settings.json").write_text(
                json.dumps({"twinlsStandin.interpreter": str(python)})
            )
            roots.append(str(folder))
            folder_settings.append(str(folder / ".vscode" / "settings.json"))
            tests.append([test, f"test_{name}_plugin"])
        workspace = home / "both.code-workspace"
        workspace.write_text(json.dumps({"folders": [{"path": "a"}, {"path": "b"}]}))
        extra = {
            "workspace": str(workspace),
            "folders": roots,
            "folderSettings": folder_settings,
            "pythons": [str(p) for p in pythons],
            "tests": tests,
        }
        return session("folders", home, home / "a", extra, trust=False)


@pytest.fixture(scope="module")
def restricted() -> dict:
    tools()
    with tempfile.TemporaryDirectory(prefix="twinls-vscode-restricted-") as tmp:
        home = Path(tmp)
        settings = {
            **user_settings(""),
            "twinls.serverCommand": [],
            "security.workspace.trust.enabled": True,
            "security.workspace.trust.startupPrompt": "never",
            "security.workspace.trust.banner": "never",
        }
        (home / "user-data" / "User").mkdir(parents=True)
        (home / "user-data" / "User" / "settings.json").write_text(json.dumps(settings))
        folder = home / "project"
        folder.mkdir()
        (folder / "test_env.py").write_text(ENV_TEST)
        extra = {"folder": str(folder), "description": DESCRIPTION}
        return session("restricted", home, folder, extra, trust=True)


def assert_check(report: dict, name: str, what: str) -> None:
    check = report["checks"].get(name)
    if check is None:
        pytest.fail(f"{what}: not reached\n{report['output'][-2000:]}")
    assert check["ok"], f"{what}: {check['detail']}\n(screenshots and logs in {OUT})"


@pytest.mark.parametrize("name", list(FOLDER_CHECKS))
def test_vscode_folders(folders: dict, name: str) -> None:
    assert_check(folders, name, FOLDER_CHECKS[name])


def test_vscode_folders_started_the_bundled_server(folders: dict) -> None:
    log = folders["extension_log"]
    assert "bundled/tool/server.py --stdio" in log, log[-2000:]
    assert '"pythonByFolder"' in log, log[-2000:]  # the per-folder selections were sent


@pytest.mark.parametrize("name", list(RESTRICTED_CHECKS))
def test_vscode_restricted(restricted: dict, name: str) -> None:
    assert_check(restricted, name, RESTRICTED_CHECKS[name])


def test_vscode_restricted_started_no_server(restricted: dict) -> None:
    """The extension never ran in Restricted Mode: its output channel has no line."""
    assert "starting" not in restricted["extension_log"]

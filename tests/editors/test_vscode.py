"""The VS Code extension, end to end, in a real VS Code (code-server in headless Chromium).

One browser session runs tests/editors/vscode_e2e.mjs against the packaged
extension and the real twinls server over a sample workspace. The script writes
a report of named checks; each test here asserts one, so a failure names what
broke. Screenshots and logs land in .test-out/vscode/.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from vscode_codeserver import (  # noqa: E402
    REPO,
    SETUP,
    code_server,
    missing_tools,
    package_python_standin,
    run_browser_script,
)
from vscode_workspace import (  # noqa: E402
    DEBUG,
    ELSEWHERE,
    EXAMPLE,
    FAILING_LINE_TEXT,
    FAILING_MESSAGE,
    IMPLEMENTATION_AT,
    IMPLEMENTATION_LINES,
    INSPECT,
    REFERENCES_AT,
    REFERENCES_NAME,
    TREE,
    TREE_CASES,
    make_workspace,
    write_user_settings,
)

#: Generous: starting code-server and the whole browser session count in the first test.
pytestmark = [pytest.mark.editor, pytest.mark.timeout(1800)]

#: The real server; TWINLS_VSCODE_SERVER may point elsewhere while developing.
SERVER = Path(os.environ.get("TWINLS_VSCODE_SERVER") or REPO / ".venv" / "bin" / "twinls")
SCRIPT = Path(__file__).with_name("vscode_e2e.mjs")
OUT = REPO / ".test-out" / "vscode"
#: Seconds the whole browser session may take.
TIMEOUT = 1500

CHECKS = {
    "workbench": "code-server shows the sample workspace",
    "lens": "a 'Run test' lens appears over a test",
    "run_from_lens": "clicking the lens runs the test and shows 'passed'",
    "testing_view": "the run shows as passed in VS Code's Testing view",
    "failing_test": "a failing test's message shows at the failing line",
    "run_at_cursor": "Twinls: Run Test at Cursor runs the example and shows its value",
    "testing_view_rerun": "Run in the Testing view reruns a test in the twin",
    "testing_tree": "the Testing view shows pytest's tree: folder > module > class > test > case",
    "failure_elsewhere": "a failure raised in another file shows at its line, filed under its test",
    "failure_traceback": "the failure's peek carries the traceback and the workspace frames",
    "test_results_output": "Test Results shows the failure's traceback",
    "rerun_green": "after an unsaved fix, a rerun turns the test green, no red item left",
    "go_to_implementations": "Go to Implementations lists both overrides",
    "references_streaming": "Twinls: Find References (streaming) fills the results view",
    "find_implementors": "Twinls: Find Implementors… fills the results view",
    "go_to_definition": "Go to Definition jumps from a test to the class",
    "rename_preview": "Rename Symbol's preview lists the edits in both files",
    "call_hierarchy": "Peek Call Hierarchy lists the callers of a method",
    "type_hierarchy": "Peek Type Hierarchy lists the subclasses",
    "bad_setting": "a server that cannot be found is a clear error with Show Output",
    "discovered_tests": "the Testing view lists the sample workspace's tests before any run",
    "live_result": "live tests: an unsaved edit re-runs the affected test (Testing view)",
    "live_coverage": "the Coverage profile shows the live runs' line coverage (Test Coverage "
    "view, hit and missed lines in the gutter)",
    "twin_status": "Twinls: Show Twin Status reports live twins",
    "restart_twin": "Twinls: Restart Twin starts a new twin",
    "inspector_value": "Twinls: Inspect Result at Cursor opens the inspector on an example's "
    "value, which expands level by level",
    "inspector_png": "an object's _repr_png_ shows as an image in the inspector",
    "inspector_lens": "clicking an example's Inspect lens opens the inspector, filled in",
    "debug_breakpoint": "the Debug lens attaches VS Code's debugger (debug type twinls): a "
    "breakpoint on a line only the unsaved buffer has is hit, its locals shown",
    "debug_continue": "Continue ends the Debug run; its result (passed, with the buffer's "
    "text) lands in the lens",
    "debug_profile": "the Testing view's Debug action starts a Debug run that attaches",
}
# The bundled server, the Python extension's interpreter (per folder) and Restricted Mode
# are checked in sessions of their own: test_vscode_sessions.py.


@pytest.fixture(scope="module")
def report() -> dict:
    missing = missing_tools()
    if missing:
        pytest.fail(f"VS Code test tools missing: {', '.join(missing)}; run `{SETUP}`")
    if not SERVER.exists():
        pytest.fail(f"the twinls server is not installed at {SERVER}")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="twinls-vscode-") as tmp:
        home = Path(tmp)
        folder = make_workspace(home / "workspace")
        write_user_settings(home / "user-data", str(SERVER))
        standin = package_python_standin(home)
        with code_server(home, folder, extra_vsix=(standin,)) as cs:
            config = {
                "folder": str(folder),
                "implementationAt": list(IMPLEMENTATION_AT),
                "implementationLines": IMPLEMENTATION_LINES,
                "failingLineText": FAILING_LINE_TEXT,
                "failingMessage": FAILING_MESSAGE,
                "referencesAt": list(REFERENCES_AT),
                "referencesName": REFERENCES_NAME,
                "userSettings": str(home / "user-data" / "User" / "settings.json"),
                "tree": TREE,
                "treeCases": TREE_CASES,
                **ELSEWHERE,
                **EXAMPLE,
                **INSPECT,
                **DEBUG,
                # While developing: TWINLS_VSCODE_ONLY=name,name runs only those checks.
                "only": [n for n in os.environ.get("TWINLS_VSCODE_ONLY", "").split(",") if n],
            }
            return run_browser_script(SCRIPT, cs, home, config, OUT, "", TIMEOUT)


@pytest.mark.parametrize("name", list(CHECKS))
def test_vscode(report: dict, name: str) -> None:
    check = report["checks"].get(name)
    if check is None:
        pytest.fail(f"{CHECKS[name]}: not reached\n{report['output'][-2000:]}")
    assert check["ok"], (
        f"{CHECKS[name]}: {check['detail']}\n(screenshot {OUT}/failed-{name}.png, logs in {OUT})"
    )


def test_vscode_debug_tracker_saw_the_breakpoint(report: dict) -> None:
    """The DAP messages themselves (the extension's DebugAdapterTracker logs them): the
    twinls session stopped for the breakpoint, its top frame at the buffer-only line."""
    log = (OUT / "extension.log").read_text()
    assert "debug twinls: Debug run: stopped (breakpoint)" in log, log[-2000:]
    where = f"/{DEBUG['debugFile']}:{DEBUG['debugLine']}"
    frames = [line for line in log.splitlines() if "top frame total at " in line]
    assert any(line.endswith(where) for line in frames), log[-2000:]
    assert "debug twinls: Debug run: terminated" in log, log[-2000:]


def test_vscode_screenshot(report: dict) -> None:
    assert (OUT / "vscode.png").stat().st_size > 10_000, "no screenshot of the workbench"

"""What the packaged VS Code extension must carry to need nothing else installed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parent.parent / "clients" / "vscode"


def test_restricted_mode_is_declared_with_a_reason():
    manifest = json.loads((EXTENSION / "package.json").read_text())
    untrusted = manifest["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] is False
    assert "trusted" in untrusted["description"] and "runs" in untrusted["description"]


def test_the_vsix_bundles_the_server_and_its_python_deps():
    vsix = EXTENSION / "twinls.vsix"
    if not vsix.exists():
        pytest.skip("no twinls.vsix: run scripts/setup-vscode.sh")
    names = set(zipfile.ZipFile(vsix).namelist())
    assert "extension/bundled/tool/server.py" in names
    for module in ("twinls", "pygls", "lsprotocol", "jedi", "parso", "cloudpickle", "pytest"):
        assert f"extension/bundled/libs/{module}/__init__.py" in names, module
    assert "extension/bundled/libs/msgpack/fallback.py" in names  # any CPython can decode
    assert not [n for n in names if "__pycache__" in n]

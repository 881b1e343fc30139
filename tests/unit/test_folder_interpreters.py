"""Server: each workspace folder's interpreter (``server/interpreter.py`` ``choose``,
``choices_for``) and folders grouped by it (``server/groups.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from twinls.server.groups import Group, by_key, group_of_path
from twinls.server.interpreter import Interpreter, InterpreterError, choices_for, choose


def venv(folder: Path) -> str:
    """A venv-shaped folder (pyvenv.cfg + an executable bin/python)."""
    (folder / "bin").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
    exe = folder / "bin" / "python"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return str(exe)


@pytest.mark.parametrize(
    "options, python_arg, expected",
    [
        # nothing set: each folder discovers its own (a's .venv; b has none: the server's)
        ({}, None, {"a": ("a/.venv/bin/python", ".venv"), "b": (sys.executable, "server")}),
        # python (and --python) serve every folder without an entry of its own
        ({"python": "env1"}, "env2", {"a": ("a/env1/bin/python", "setting"),
                                      "b": ("b/env1/bin/python", "setting")}),
        ({}, "env2", {"a": ("a/env2/bin/python", "--python"),
                      "b": ("b/env2/bin/python", "--python")}),
        # a folder's own entry comes first, by path or file: URI, with its source
        ({"python": "env1", "pythonByFolder": {"a": {"python": "env2",
                                                    "pythonSource": "python extension"}}},
         None, {"a": ("a/env2/bin/python", "python extension"),
                "b": ("b/env1/bin/python", "setting")}),
        ({"pythonByFolder": {"URI:b": {"python": "env1"}, "a": {"python": ""}}},
         None, {"a": ("a/.venv/bin/python", ".venv"), "b": ("b/env1/bin/python", "setting")}),
        # a setting that names no interpreter is that folder's error only
        ({"pythonByFolder": {"b": {"python": "nowhere"}}}, None,
         {"a": ("a/.venv/bin/python", ".venv"), "b": "not an executable"}),
    ],
)  # fmt: skip
def test_choices_for(tmp_path, options, python_arg, expected):
    for name in ("a", "b"):
        for env in ("env1", "env2"):
            venv(tmp_path / name / env)
    venv(tmp_path / "a" / ".venv")
    by_folder = {
        (tmp_path.joinpath(k[4:]).as_uri() if k.startswith("URI:") else str(tmp_path / k)): v
        for k, v in options.get("pythonByFolder", {}).items()
    }
    opts = {**options, "pythonByFolder": by_folder}
    got = choices_for([tmp_path / "a", tmp_path / "b"], opts, python_arg, environ={})
    for name, want in expected.items():
        choice = got[str(tmp_path / name)]
        if isinstance(want, str):
            assert isinstance(choice, str) and want in choice
        else:
            path = want[0] if want[0].startswith("/") else str(tmp_path / want[0])
            assert choice == Interpreter(path, want[1])


def test_folders_sharing_an_interpreter_share_a_group():
    one, two = Interpreter("/env1/bin/python", "setting"), Interpreter("/env1/bin/python", ".venv")
    groups = by_key({"/a": one, "/b": None, "/c": two, "/d": "bad setting", "/e": None})
    assert [roots for _, roots in groups.values()] == [["/a", "/c"], ["/b", "/e"], ["/d"]]
    made = [Group(None, roots) for _, roots in groups.values()]
    roots = ["/a", "/b", "/c", "/d", "/e"]
    assert group_of_path("/c/pkg/x.py", made, roots) is made[0]
    assert group_of_path("/e/x.py", made, roots) is made[1]
    assert group_of_path("/elsewhere/x.py", made, roots) is None
    assert made[0].twin_roots(roots) == ["/a", "/c", "/b", "/d", "/e"]


# -- one folder's choice (server/interpreter.py choose) --------------------------------


def test_choice_order(tmp_path):
    dot_venv = venv(tmp_path / ".venv")
    venv(tmp_path / "venv")
    active = venv(tmp_path / "active")
    conda = venv(tmp_path / "conda")
    env = {"VIRTUAL_ENV": str(tmp_path / "active"), "CONDA_PREFIX": str(tmp_path / "conda")}
    root = str(tmp_path)
    assert choose(root, "active", "setting", env) == Interpreter(active, "setting")
    assert choose(root, None, environ=env) == Interpreter(active, "VIRTUAL_ENV")
    assert choose(root, None, environ={"CONDA_PREFIX": env["CONDA_PREFIX"]}) == Interpreter(
        conda, "CONDA_PREFIX"
    )
    assert choose(root, None, environ={}) == Interpreter(dot_venv, ".venv")
    (tmp_path / ".venv" / "pyvenv.cfg").unlink()  # not a venv any more
    assert choose(root, None, environ={}).source == "venv"
    assert choose(str(tmp_path / "active"), None, environ={}) == Interpreter(
        sys.executable, "server"
    )
    assert choose(str(tmp_path / "active"), None, environ={}).is_server


def test_bad_setting_says_what_is_wrong(tmp_path):
    with pytest.raises(InterpreterError, match="not an executable"):
        choose(str(tmp_path), "nowhere/python")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InterpreterError, match="no bin/python"):
        choose(str(tmp_path), "empty")

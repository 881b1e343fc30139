"""The twin preloads the workspace's third-party imports, and never the workspace's own modules."""

from __future__ import annotations

import sys

from twinls import Twin


def loaded(names: list[str]) -> dict[str, bool]:
    return {n: n in sys.modules for n in names}


def test_third_party_imports_are_preloaded_workspace_modules_are_not(tmp_path):
    (tmp_path / "shapes.py").write_text("import wave\nimport colorsys as c, calc\n")
    (tmp_path / "calc.py").write_text("import tabnanny\n\ndef add(a, b):\n    return a + b\n")
    (tmp_path / "test_shapes.py").write_text(
        "import importlib\nimport shapes\n\ndef test_x():\n"
        "    importlib.import_module('mail' + 'box')  # no import line names it\n"
    )
    with Twin.start(tmp_path) as twin:
        names = ["wave", "colorsys", "tabnanny", "shapes", "calc", "mailbox"]
        assert not any(twin.run_remotely(loaded, names).result(30).values())
        twin.call("run.warm").result(60)
        assert twin.run_remotely(loaded, names).result(30) == {
            "wave": True,
            "colorsys": True,
            "tabnanny": True,
            "shapes": False,  # the workspace's own: would go stale at the next edit
            "calc": False,
            "mailbox": False,  # imported inside a test: learnt from the first run
        }
        spec = {"kind": "tests", "path": str(tmp_path / "test_shapes.py")}
        result = twin.call("run.start", {**spec, "targets": [spec["path"]]}).result(60)
        assert [t["outcome"] for t in result["tests"]] == ["passed"]
        twin.call("run.warm").result(60)
        assert twin.run_remotely(loaded, ["mailbox", "shapes"]).result(30) == {
            "mailbox": True,
            "shapes": False,
        }

"""The twin preloads the workspace's third-party imports, and never the workspace's own modules."""

from __future__ import annotations

import sys

from twinls import Twin


def loaded(names: list[str]) -> dict[str, bool]:
    return {n: n in sys.modules for n in names}


def test_third_party_imports_are_preloaded_workspace_modules_are_not(tmp_path):
    (tmp_path / "warm_shapes.py").write_text("import wave\nimport tabnanny as t, warm_calc\n")
    (tmp_path / "warm_calc.py").write_text("import filecmp\n\ndef add(a, b):\n    return a + b\n")
    (tmp_path / "test_warm_shapes.py").write_text(
        "import importlib\nimport warm_shapes\n\ndef test_x():\n"
        "    importlib.import_module('mail' + 'box')  # no import line names it\n"
    )
    own = ["warm_shapes", "warm_calc", "test_warm_shapes"]
    with Twin.start(tmp_path) as twin:
        twin.call("run.warm").result(60)
        after_scan = twin.run_remotely(loaded, ["wave", "tabnanny", "filecmp", *own]).result(30)
        assert after_scan == {
            "wave": True,
            "tabnanny": True,
            "filecmp": True,
            # The workspace's own modules would go stale at the next edit: never preloaded.
            "warm_shapes": False,
            "warm_calc": False,
            "test_warm_shapes": False,
        }
        path = str(tmp_path / "test_warm_shapes.py")
        spec = {"kind": "tests", "path": path, "targets": [path]}
        result = twin.call("run.start", spec).result(60)
        assert [t["outcome"] for t in result["tests"]] == ["passed"]
        twin.call("run.warm").result(60)
        # What the run imported is preloaded for the next one; what it ran is not.
        assert twin.run_remotely(loaded, ["mailbox", *own]).result(30) == {
            "mailbox": True,
            "warm_shapes": False,
            "warm_calc": False,
            "test_warm_shapes": False,
        }

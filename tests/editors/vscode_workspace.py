"""The sample workspace and the VS Code user settings for the VS Code end-to-end test.

A small class hierarchy (Go to Implementations has two overrides to list) and a
test module with a passing test, a failing test and an example, each with a lens.
"""

from __future__ import annotations

import json
from pathlib import Path

from sample_shapes import DEBUG_ME, SHAPES, TEST_DEBUG_ME

TESTS = """\
from shapes import Circle, Shape, Square


def test_square_area():
    assert Square(3).area() == 9


def test_circle_area_wrong():
    assert Circle(1).area() == 4


def example_square():
    return Square(4).area()


def test_squares_are_shapes():
    assert isinstance(Square(1), Shape)
"""

#: Where Go to Implementations is asked (0-based line, character): `area` in Shape.
IMPLEMENTATION_AT = (1, 9)
#: 1-based lines of the overrides it must list.
IMPLEMENTATION_LINES = [10, 18]
#: Where Twinls: Find References (streaming) is asked: `Shape` in its class line.
REFERENCES_AT = (0, 7)
REFERENCES_NAME = "Shape"
#: The example that Run Test at Cursor runs (0-based line inside it) and its value.
EXAMPLE = {"exampleName": "example_square", "exampleLine": 12, "exampleValue": "16"}
#: The line where test_circle_area_wrong fails.
FAILING_LINE_TEXT = "assert Circle(1).area() == 4"
#: What pytest says there.
FAILING_MESSAGE = "assert 3 == 4"


#: A test that passes only in a project venv of tests/fixtures/interp_env: its package and
#: its pytest plugin's fixture (the bundled-server checks run it; see test_interpreter.py).
ENV_TEST = """\
from probe_lib import lib_token


def test_plugin_and_package(probe_token):
    assert probe_token.startswith("plugin-")
    assert lib_token().startswith("probe-lib-")
"""

#: A folder of tests for the Testing view's tree: folder > module > class > test > case,
#: and a failure raised in a helper module rather than in the test file.
CHECKS_PY = """\
def check_area(shape, expected):
    area = shape.area()
    if area != expected:
        raise ValueError(f"area {area} is not {expected}")
"""

TREE_TESTS = """\
import pytest

from checks import check_area
from shapes import Square


class TestSquares:
    @pytest.mark.parametrize("side", [1, 2])
    def test_area(self, side):
        assert Square(side).area() == side * side

    def test_checked(self):
        check_area(Square(2), 5)
"""

#: The tree the Testing view must show for suite/test_tree.py (labels, outermost first).
TREE = {"folder": "suite", "module": "test_tree.py", "class": "TestSquares", "test": "test_area"}
TREE_CASES = ["[1]", "[2]"]
#: test_checked's failure: raised in checks.py at this line, with this message.
ELSEWHERE = {
    "elsewhereFile": "checks.py",
    "elsewhereLineText": 'raise ValueError(f"area {area} is not {expected}")',
    "elsewhereMessage": "ValueError: area 4 is not 5",
    "elsewhereTest": "test_checked",
    "elsewhereBad": "check_area(Square(2), 5)",
    "elsewhereFixed": "check_area(Square(2), 4)",
}


#: Issue 17, the inspector: an example with a nested value and one whose object draws a
#: PNG (a 48x48 gradient, as a matplotlib figure would: `_repr_png_`, no dependency).
INSPECT_ME = """\
import struct
import zlib


def _png(size=48):
    rows = b"".join(
        b"\\x00" + bytes(v for x in range(size) for v in (x * 5, y * 5, 160))
        for y in range(size)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    image = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    return b"\\x89PNG\\r\\n\\x1a\\n" + image + chunk(b"IEND", b"")


class Figure:
    def _repr_png_(self):
        return _png()


def example_nested():
    return {"shapes": [{"name": "square", "sides": 4}], "count": 1}


def example_figure():
    return Figure()
"""
INSPECT = {"inspectNestedLine": 25, "inspectFigureLine": 29}  # 0-based, inside each


DEBUG = {
    "debugFile": "debug_me.py",
    "debugTestFile": "test_debug_me.py",
    "debugTest": "def test_total",
    "debugOld": "return sum(values)",
    "debugNew": ["doubled = [2 * v for v in values]", "return sum(doubled)"],
    "debugLine": 3,  # 1-based: `return sum(doubled)` in the edited buffer
    "debugLocal": ["doubled", "[2, 4, 6]"],
}


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shapes.py").write_text(SHAPES)
    (root / "test_shapes.py").write_text(TESTS)
    (root / "test_env.py").write_text(ENV_TEST)
    (root / "suite").mkdir(exist_ok=True)
    (root / "suite" / "checks.py").write_text(CHECKS_PY)
    (root / "suite" / "test_tree.py").write_text(TREE_TESTS)
    (root / "inspect_me.py").write_text(INSPECT_ME)
    (root / "debug_me.py").write_text(DEBUG_ME)
    (root / "test_debug_me.py").write_text(TEST_DEBUG_ME)
    return root


def user_settings(server: str) -> dict:
    """Settings that point the extension at the real server and keep the workbench quiet."""
    return {
        "twinls.serverCommand": [server],
        "twinls.pool": 1,
        "twinls.runTimeout": 30,
        "twinlsStandin.interpreter": "",
        "workbench.startupEditor": "none",
        "chat.disableAIFeatures": True,
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "extensions.ignoreRecommendations": True,
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "update.mode": "none",
        "telemetry.telemetryLevel": "off",
        "security.workspace.trust.enabled": False,
        "git.enabled": False,
        "files.autoSave": "off",
        "editor.minimap.enabled": False,
        "window.commandCenter": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
    }


def write_user_settings(user_data_dir: Path, server: str) -> None:
    user = user_data_dir / "User"
    user.mkdir(parents=True, exist_ok=True)
    (user / "settings.json").write_text(json.dumps(user_settings(server), indent=2))

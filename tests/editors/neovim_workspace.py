"""The sample workspace the Neovim end-to-end script opens.

A class hierarchy with tests (one failing, one example) and enough subclass
modules that searches answer in several streamed batches.
"""

from __future__ import annotations

from pathlib import Path

from sample_shapes import DEBUG_ME, SHAPES, TEST_DEBUG_ME

TESTS = """\
from shapes import Circle, Square


def test_square():
    assert Square(2).area() == 4


def test_circle():
    area = Circle(1).area()
    assert area == 3.14


def example_square():
    return Square(3).area()
"""

# Wide characters before a reference: its column differs in UTF-8, UTF-16 and
# UTF-32 (the emoji is a surrogate pair in UTF-16).
USES = """\
from shapes import Square

label, sq = "h\u00e9llo \u2192 \U0001f642", Square(5)
"""

MODULE = """\
from shapes import Shape


class Shape{n:02d}(Shape):
    def area(self):
        return {n}
"""

#: Subclass modules: the e2e script expects at least this many more implementors.
FILLER = 30


#: Issue 17: an example with a nested value and one with a rich view (`_repr_png_`).
INSPECT_ME = """\
class Figure:
    def _repr_png_(self):
        return b"\\x89PNG\\r\\n\\x1a\\n" + bytes(60)


def example_nested():
    return {"shapes": [{"name": "square", "sides": 4}], "count": 1}


def example_figure():
    return Figure()
"""


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "shapes"\nversion = "0"\n')
    (root / "shapes.py").write_text(SHAPES)
    (root / "test_shapes.py").write_text(TESTS)
    (root / "uses.py").write_text(USES, encoding="utf-8")
    (root / "inspect_me.py").write_text(INSPECT_ME)
    (root / "debug_me.py").write_text(DEBUG_ME)
    (root / "test_debug_me.py").write_text(TEST_DEBUG_ME)
    pkg = root / "more"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    for n in range(FILLER):
        (pkg / f"shape_{n:02d}.py").write_text(MODULE.format(n=n))
    return root

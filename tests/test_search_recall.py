"""References recall over real LSP: aliases, re-exports, platform branches, unsaved uses.

Each workspace is small and written here; a real twin with real jedi answers.
"""

from __future__ import annotations

from pathlib import Path

from lsp_harness import lsp_session

ALIASES = {
    "pkg/__init__.py": "from .core import helper\n",  # a re-export
    "pkg/core.py": "def helper():\n    return 1\n",
    "direct.py": "from pkg.core import helper\n\nhelper()\n",
    "renamed.py": "from pkg.core import helper as h\n\nh()\n",
    "module_alias.py": "import pkg.core as c\n\nc.helper()\n",
    "reexported.py": "from pkg import helper\n\nhelper()\n",
    "unrelated.py": "def helper():\n    return 2\n\nhelper()\n",
}

PLATFORM = {
    # As typeshed's os/path.pyi: a star import per platform.
    "plat/__init__.py": (
        "import sys\n\n"
        'if sys.platform == "win32":\n'
        "    from plat._nt import *\n"
        "else:\n"
        "    from plat._posix import *\n"
    ),
    "plat/_nt.py": "def where():\n    return 'nt'\n",
    "plat/_posix.py": "def where():\n    return 'posix'\n",
    "use.py": "import plat\n\nplat.where()\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


async def test_aliases_and_re_exports_are_found_and_namesakes_are_not(tmp_path):
    write(tmp_path, ALIASES)
    async with lsp_session(tmp_path) as client:
        expected = {
            ("pkg/core.py", 0, 4),
            ("pkg/__init__.py", 0, 18),
            ("direct.py", 0, 21),
            ("direct.py", 2, 0),
            ("renamed.py", 0, 21),  # ``helper as h``: the imported name ...
            ("module_alias.py", 2, 2),  # ``c.helper()`` through ``import pkg.core as c``
            ("reexported.py", 0, 16),
            ("reexported.py", 2, 0),
        }
        for _ in range(2):  # and the same answer again
            found = await client.references("pkg/core.py", 0, 4)
            assert expected <= found, sorted(expected - found)
            assert not {f for f in found if f[0] == "unrelated.py"}


async def test_platform_branches_resolve_as_on_the_running_platform(tmp_path):
    write(tmp_path, PLATFORM)
    async with lsp_session(tmp_path) as client:
        # Linux (CI): ``plat.where`` is the posix one, as ``os.path`` is posixpath
        # (tests/test_jedi_compat.py checks that one).
        posix = await client.references("plat/_posix.py", 0, 4)
        assert ("use.py", 2, 5) in posix
        nt = await client.references("plat/_nt.py", 0, 4)
        assert ("use.py", 2, 5) not in nt


async def test_a_new_call_in_an_unsaved_buffer_is_found(tmp_path):
    write(
        tmp_path,
        {
            "src/shapes.py": "class Square:\n    def area(self):\n        return 4\n",
            "tests/test_shapes.py": "from shapes import Square\n\n\ndef test_area():\n"
            "    assert Square().area() == 4\n",
        },
    )
    async with lsp_session(tmp_path, {"pool": 2}) as client:
        client.open("tests/test_shapes.py")
        before = await client.references("src/shapes.py", 1, 8)  # warm: the index is built
        assert ("tests/test_shapes.py", 4, 20) in before
        # A new method in an unsaved shapes.py, called in the unsaved test file.
        client.open("src/shapes.py")
        client.replace_all(
            "src/shapes.py",
            "class Square:\n    def area(self):\n        return 4\n\n"
            "    def side(self):\n        return 2\n",
        )
        client.replace_all(
            "tests/test_shapes.py",
            "from shapes import Square\n\n\ndef test_area():\n"
            "    assert Square().area() == 4\n    assert Square().side() == 2\n",
        )
        assert ("tests/test_shapes.py", 5, 20) in await client.references("src/shapes.py", 4, 8)
        assert ("tests/test_shapes.py", 5, 20) in await client.references(
            "tests/test_shapes.py", 5, 20
        )
        after = await client.references("src/shapes.py", 1, 8)
        assert after == before

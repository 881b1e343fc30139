"""Twin: the ``ast`` binding lane (``twin/queries/bindings.py``): what it decides, use by use.

Each case is a few files with the uses of one name marked: ``$T`` decided to be
the target, ``$N`` decided not to be, ``$D`` deferred to jedi; ``$@`` marks the
target's definition. Every occurrence of the name in code is marked (strings and
comments are not occurrences), so a file is decided whole exactly when it has
no ``$D``. Files are real files under a temporary root read through a real
:class:`Overlay` (``unsaved``: only in the overlay, as an editor's new buffer);
the standard library is on the path behind the root.
"""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

import jedi
import pytest

from twinls.shared.overlay import Overlay
from twinls.twin.queries.bindings import Lane
from twinls.twin.queries.jedi_compat import typeshed_stub

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
MARK = re.compile(r"\$([TND@])")


def stdlib_def(rel: str, anchor: str) -> tuple[str, int, int]:
    lines = (STDLIB / rel).read_text().splitlines()
    line = next(i for i, text in enumerate(lines) if text.startswith(anchor))
    return str(STDLIB / rel), line + 1, lines[line].index(anchor.split()[1].rstrip("("))


def stdlib_target(rel: str, anchor: str, module: str) -> tuple[tuple[str, int, int], ...]:
    """A stdlib def and its typeshed stub's defs: what jedi's target for it holds."""
    name = anchor.split()[1].rstrip("(")
    stub = typeshed_stub(module)
    assert stub is not None
    lines = Path(stub).read_text().splitlines()
    in_stub = [(stub, i + 1, t.index(name)) for i, t in enumerate(lines) if t.startswith(anchor)]
    return (stdlib_def(rel, anchor), *in_stub)


def check(
    tmp_path: Path,
    sources: dict[str, str],
    name: str,
    extra_target: tuple[tuple[str, int, int], ...] = (),
    unsaved: tuple[str, ...] = (),
) -> None:
    overlay = Overlay(roots=[str(tmp_path)])
    marks: dict[str, dict[tuple[int, int], str]] = {}
    target = set(extra_target)
    for rel, marked in sources.items():
        path = str(tmp_path / rel)
        text, spots = "", {}
        for line, row in enumerate(marked.split("\n"), 1):
            clean = ""
            for k, piece in enumerate(MARK.split(row)):
                if k % 2:  # a mark (split's group), not text such as a decorator's ``@``
                    if piece == "@":
                        target.add((path, line, len(clean)))
                    else:
                        spots[(line, len(clean))] = piece
                else:
                    clean += piece
            text += clean + "\n"
        text = text[:-1]
        if rel in unsaved:
            overlay.open(path, text, 1)
        else:
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(text)
        if spots:
            marks[path] = spots
    lane = Lane(overlay, [str(tmp_path), str(STDLIB)])
    for path, spots in marks.items():
        decided, whole = lane.decide(path, name, target)
        got = {
            pos: ("T" if keys & target else "N") for pos, keys in decided.items() if pos in spots
        }
        want = {pos: v for pos, v in spots.items() if v != "D"}
        assert got == want, (path, sorted(got.items()), sorted(want.items()))
        declared = {(line, col) for p, line, col in target if p == path}
        extra = set(decided) - set(spots) - declared  # the target's own definition: decided
        assert not extra, (path, sorted(extra))
        assert whole == ("D" not in spots.values()), (path, whole)


PKG = {
    "pkg/__init__.py": "from .core import $Thelper\n",
    "pkg/core.py": "def $@helper():\n    return 1\n\ndef other():\n    return 2\n",
}

CASES = {
    "module-level binding, used after it and inside a function": {
        "a.py": (
            "def use():\n    return $Thelper()\n\n"
            "$Dhelper()\n"  # before its binding, at module level
            "def $@helper():\n    pass\n\n$Thelper()\n"
        ),
    },
    "from-import, and the imported name itself": {
        **PKG,
        "direct.py": "from pkg.core import $Thelper\n\n$Thelper()\n# helper() 'helper'\n",
    },
    "from-import under another name": {
        **PKG,
        "renamed.py": "from pkg.core import $Thelper as h\nh()\n",
        "other.py": "from pkg.core import other as $Dhelper\n$Nhelper()\n",
    },
    "a module attribute chain: import m, import a.b (twice), import a.b as p": {
        **PKG,
        "chain.py": (
            "import pkg.core as c\nimport pkg.core\nimport pkg\n\n"
            "c.$Thelper()\npkg.core.$Thelper()\npkg.$Thelper()\n"
        ),
    },
    "a re-export through the package's __init__": {
        **PKG,
        "reexported.py": "from pkg import $Thelper\n\ndef f():\n    return $Thelper()\n",
    },
    "a namesake in another module is not the target": {
        **PKG,
        "namesake.py": "def $Dhelper():\n    pass\n\n$Nhelper()\n",
    },
    "a name bound nowhere (a builtin) is not the target": {
        **PKG,
        "free.py": "$Nhelper()\n",
    },
    "an unsaved new module counts": {
        "fresh.py": "def $@helper():\n    pass\n",
        "use.py": "import fresh\nfresh.$Thelper()\n",
    },
    "attributes of inferred objects are deferred": {
        **PKG,
        "obj.py": "import pkg\nx = pkg.core\nx.$Dhelper()\nobject().$Dhelper\n",
    },
    "star imports: of a Python module, of a missing one": {
        **PKG,
        "star.py": "from pkg.core import *\n$Dhelper()\n",
        "missing.py": "from nowhere import *\n$Dhelper()\n",
    },
    "several bindings, global, del, augmented assignment": {
        **PKG,
        "twice.py": "from pkg.core import $Thelper\n$Dhelper = 1\n$Dhelper()\n",
        "glob.py": (
            "from pkg.core import $Thelper\n\ndef f():\n    global $Dhelper\n    $Dhelper = 2\n"
            "$Dhelper()\n"
        ),
        "deleted.py": "from pkg.core import $Thelper\ndel $Dhelper\n",
        "aug.py": "from pkg.core import $Thelper\n$Dhelper += 1\n",
    },
    "f-strings are deferred": {
        **PKG,
        "fs.py": "from pkg.core import $Thelper\nf'{$Dhelper()}'\n",
    },
    "a .pyi beside the module is deferred": {
        "stubbed.py": "def $@helper():\n    pass\n",
        "stubbed.pyi": "def helper() -> None: ...\n",
        "use.py": "import stubbed\nstubbed.$Dhelper()\nfrom stubbed import $Dhelper\n",
    },
    "scopes that bind the name: class body, comprehension, parameter, keyword": {
        **PKG,
        "scopes.py": (
            "from pkg.core import $Thelper\n\n"
            "class C:\n    $Dhelper = 1\n    $Dhelper()\n\n"
            "class D:\n    def m(self):\n        return $Thelper()\n\n"
            "[$Dhelper for $Dhelper in range(3)]\n"
            "def f($Dhelper):\n    return $Dhelper\n"
            "f($Dhelper=1)\n"
        ),
    },
    "platform branches are pruned as this interpreter takes them": {
        "plat.py": (
            "import sys\n\n"
            "if sys.platform == 'nonesuch':\n    def helper():\n        pass\n"
            "else:\n    def $@helper():\n        pass\n"
        ),
        "use.py": "import plat\nplat.$Thelper()\n",
    },
    "a file that edits sys.path: modules on the path as before, others deferred": {
        **PKG,
        "extra/added.py": "def helper():\n    pass\n",
        "extra/pkg/__init__.py": "def helper():\n    pass\n",  # after the path: never first
        "edits.py": (
            "import sys\nsys.path.insert(0, 'extra')\nimport pkg\nimport added\n"
            "pkg.$Thelper()\nadded.$Dhelper()\n"
        ),
    },
    "uses the line filter must not skip: a decorator above its def, a name NFKC spells": {
        **PKG,
        "deco.py": (
            "from pkg.core import $Thelper\n\n@$Thelper\ndef f():\n    pass\n\n"
            "def g():\n    return $T\uff48elper\n"  # a fullwidth h: ast reads helper
        ),
    },
    "a binding far from the use, of the name or of a chain's head, an f-string's walrus": {
        **PKG,
        "far.py": (
            "import pkg\n\ndef h():\n    pkg = object()\n\n\n    return pkg.$Dhelper()\n\n"
            "def k():\n    return pkg.$Thelper()\n\n"
            "def w():\n    s = f'{(pkg := 1)}'\n    return pkg.$Dhelper()\n\n"
            "def v():\n    import pkg.core as $Dhelper\n\n    return $Dhelper\n"
        ),
    },
    "a file ast cannot parse is deferred whole": {
        **PKG,
        "broken.py": "from pkg.core import $Dhelper\n$Dhelper(\n",
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_lane(tmp_path: Path, case: str) -> None:
    check(tmp_path, CASES[case], "helper", unsaved=("fresh.py",) if "unsaved" in case else ())


def test_jedi_searches_the_folders_a_file_adds_to_sys_path_last(tmp_path: Path) -> None:
    """What the lane's reading of a file that edits ``sys.path`` rests on (jedi's importer)."""
    for folder in (tmp_path, tmp_path / "extra"):
        folder.mkdir(exist_ok=True)
        (folder / "shadow.py").write_text("def helper():\n    pass\n")
    (tmp_path / "extra" / "added.py").write_text("def helper():\n    pass\n")
    use = tmp_path / "edits.py"
    use.write_text("import sys\nsys.path.insert(0, 'extra')\nimport shadow, added\n")
    script = jedi.Script(path=str(use), project=jedi.Project(tmp_path))
    assert [d.module_path for d in script.goto(3, 8)] == [tmp_path / "shadow.py"]
    assert [d.module_path for d in script.goto(3, 16)] == [tmp_path / "extra" / "added.py"]


def test_os_path_is_posixpath_here_and_literal_methods_are_not_the_target(tmp_path: Path) -> None:
    check(
        tmp_path,
        {"use.py": "import os\nos.path.$Tjoin('a')\n''.$Njoin([])\nos.$Djoin\n"},
        "join",
        stdlib_target("posixpath.py", "def join(", "posixpath"),
    )


def test_a_builtins_method_is_deferred_when_the_target_is_a_builtin(tmp_path: Path) -> None:
    check(
        tmp_path,
        {"use.py": "''.$Djoin([])\nEMPTY = ''\nEMPTY.$Djoin([])\n"},
        "join",
        (("<builtins>.join", 0, 0),),
    )


def test_methods_of_a_module_level_name_bound_once_to_a_literal(tmp_path: Path) -> None:
    check(
        tmp_path,
        {
            "use.py": (
                "import os\nEMPTY = ''\nSEPS = [',']\nANNOTATED: os.path = ''\nTWICE = ''\n"
                "TWICE = os.path\nA = B = ''\nC, D = '', ''\n"
                "EMPTY.$Njoin([])\nSEPS.$Djoin\nANNOTATED.$Djoin\nTWICE.$Djoin\n"
                "A.$Njoin\nC.$Djoin\nLATER.$Djoin\nLATER = ''\n"
                "def f(EMPTY):\n    return EMPTY.$Djoin, SEPS.$Djoin, LATER.$Njoin\n"
                "def g():\n    global SEPS\n    SEPS = os.path\n"
                "class K:\n    EMPTY = os.path\n    EMPTY.$Djoin\n"
            )
        },
        "join",
        stdlib_target("posixpath.py", "def join(", "posixpath"),
    )


def test_stdlib_import_of_a_function(tmp_path: Path) -> None:
    check(
        tmp_path,
        {
            "use.py": (
                "import shutil\nfrom shutil import $Tcopyfileobj as c\n"
                "shutil.$Tcopyfileobj\ndef f():\n    shutil.$Tcopyfileobj(1, 2)\n"
            )
        },
        "copyfileobj",
        stdlib_target("shutil.py", "def copyfileobj(", "shutil"),
    )


def test_a_module_with_a_typeshed_stub_is_read_as_jedi_reads_it(tmp_path: Path):
    # typeshed's ntpath.pyi imports commonpath from posixpath (ntpath.py defines its own):
    # jedi, so the lane, takes it for posixpath's. The stub's own defs: the target's keys.
    check(
        tmp_path,
        {"use.py": "import ntpath, posixpath\nntpath.$Tcommonpath\nposixpath.$Tcommonpath\n"},
        "commonpath",
        stdlib_target("posixpath.py", "def commonpath(", "posixpath"),
    )
    commonpath = stdlib_def("posixpath.py", "def commonpath(")
    check(  # the stub's defs only: ntpath.py's own def is not what jedi reads
        tmp_path, {"use.py": "import ntpath\nntpath.$Ncommonpath\n"}, "commonpath", (commonpath,)
    )

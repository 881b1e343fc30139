"""Server: which tests executed which units, and which tests an edit affects.

Fed by live runs' ``executed`` and ``imports`` events (``run/trace.py``),
kept in this process's memory (and in its cache between sessions:
``server/mapstore.py``); the lines they ran are kept beside the units, for line
coverage (``twinls.coverage``, ``server/statements.py``).
``affected`` turns an edit's changed units (``shared/units.py``) into a selection:

- a changed function or method: the tests that executed it;
- a changed class (its own statements, bases, a method added or removed): the
  tests that executed anything in it;
- a changed module-level statement (an import, a constant, a def added or
  removed), a file whose old text is unknown, or a deleted file: the tests that
  executed anything in that file, plus every test of a test file collected
  while that file was imported;
- an edited test file: all its tests (and the above for helpers it defines);
- a conftest: every test under its folder; a dependency file (pyproject,
  requirements, setup.cfg...): everything, and the map is dropped.

Until one run of the whole workspace has recorded every test (``complete``; or
a kept map was read back, ``server/mapstore.py``), every selection is the whole
workspace: an unrecorded test is never missed.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..shared.collect import is_test_module
from ..shared.schema import Executed, Imports
from ..shared.units import MODULE

#: Files whose change means the recorded map can no longer be trusted.
DEPENDENCY_FILES = (
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "tox.ini",
    "pytest.ini",
    "requirements*.txt",
    "*.pth",
)


@dataclass
class Selection:
    """What a live run runs: whole folders and files, and exact tests (node ids)."""

    folders: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    nodeids: set[str] = field(default_factory=set)
    tests_of: dict[str, str] = field(default_factory=dict)  # node id -> its test file

    def __bool__(self) -> bool:
        return bool(self.folders or self.files or self.nodeids)

    def merged(self, other: Selection) -> Selection:
        """Both selections (a cancelled run's tests are owed to the next one)."""
        tests_of = {**self.tests_of, **other.tests_of}
        return Selection(
            self.folders | other.folders,
            self.files | other.files,
            self.nodeids | other.nodeids,
            tests_of,
        ).narrowed()

    def covers(self, nodeid: str, test_file: str) -> bool:
        """Does it run ``nodeid`` (a test of ``test_file``)?"""
        return (
            nodeid in self.nodeids
            or test_file in self.files
            or any(_under(test_file, d) for d in self.folders)
        )

    def narrowed(self) -> Selection:
        """Without the files and tests a chosen folder or file already covers."""
        folders = {f for f in self.folders if not any(_under(f, o) for o in self.folders - {f})}
        files = {f for f in self.files if not any(_under(f, d) for d in folders)}
        nodeids = {
            n
            for n in self.nodeids
            if (t := self.tests_of.get(n)) is None
            or (t not in files and not any(_under(t, d) for d in folders))
        }
        return Selection(folders, files, nodeids, {n: self.tests_of[n] for n in nodeids})


Read = Callable[[str], "str | None"]
#: Texts kept for line records before the unused ones are dropped.
KEPT_TEXTS = 64


@dataclass(frozen=True)
class Ran:
    """Lines (1-based) that ran in one version of a file's text (``Texts`` key; "": unknown)."""

    key: str
    lines: frozenset[int]


class Texts:
    """The texts line records were made against, kept once each, and where their lines
    are in a newer text (``difflib``: lines in unchanged runs move, changed ones drop)."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[str]] = {}
        self._moves: dict[tuple[str, str], dict[int, int]] = {}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    def ran(self, text: str | None, lines: Iterable[int]) -> Ran:
        if text is None:
            return Ran("", frozenset(lines))
        key = self.key(text)
        self.by_key.setdefault(key, text.splitlines())
        return Ran(key, frozenset(lines))

    def keep(self, keys: set[str]) -> None:
        """Forget every text but these (and the moves from or to the others)."""
        self.by_key = {k: v for k, v in self.by_key.items() if k in keys}
        self._moves = {p: m for p, m in self._moves.items() if p[0] in keys and p[1] in keys}

    def carried(self, ran: Ran, text: str) -> set[int]:
        now = self.key(text)
        if ran.key in ("", now):
            return set(ran.lines)
        if (ran.key, now) not in self._moves:
            self.by_key.setdefault(now, text.splitlines())
            old, new = self.by_key[ran.key], self.by_key[now]
            moves: dict[int, int] = {}
            matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
            for tag, i1, i2, j1, _ in matcher.get_opcodes():
                if tag == "equal":
                    moves.update({i + 1: j1 + (i - i1) + 1 for i in range(i1, i2)})
            self._moves[(ran.key, now)] = moves
        moves = self._moves[(ran.key, now)]
        return {moves[n] for n in ran.lines if n in moves}


@dataclass
class Part:
    """One child's share of a live run: a selection, minus files other children run."""

    sel: Selection
    skip: set[str] = field(default_factory=set)  # files of ``sel.folders`` that are not its


def split(sel: Selection, test_files: list[str], n: int) -> list[Part]:
    """``sel`` cut into at most ``n`` parts, by test file (each exact test goes with its
    file), dealt by test count; what a folder holds beyond ``test_files`` (a file the index
    does not list, a collection error) goes to the part that keeps the folder."""
    weights: dict[str, float] = {}  # piece key -> its weight
    for path in test_files:
        if path in sel.files or any(_under(path, d) for d in sel.folders):
            weights[path] = weights.get(path, 0.0) + 1.0
    for path in sel.files:
        weights.setdefault(path, 1.0)
    for nodeid in sel.nodeids:
        key = sel.tests_of.get(nodeid, "")
        weights[key] = weights.get(key, 0.0) + (0.0 if key in sel.files else 1.0)
    pieces = sorted(weights, key=lambda k: (-weights[k], k))
    if n <= 1 or len(pieces) <= 1:
        return [Part(sel)]
    groups: list[list[str]] = [[] for _ in range(min(n, len(pieces)))]
    loads = [0.0] * len(groups)
    for key in pieces:
        i = min(range(len(groups)), key=lambda j: (loads[j], j))
        loads[i] += weights[key]
        groups[i].append(key)
    in_folders = {k for k in pieces if k and any(_under(k, d) for d in sel.folders)}
    parts = []
    for i, group in enumerate(groups):
        mine = set(group)
        files = {k for k in mine if k in sel.files or k in in_folders}
        nodeids = {n for n in sel.nodeids if sel.tests_of.get(n, "") in mine}
        part = Selection(
            set(), files, nodeids, {n: sel.tests_of[n] for n in nodeids if n in sel.tests_of}
        )
        if i == 0 and sel.folders:  # the heaviest keeps the folders, less the others' files
            part.folders = set(sel.folders)
            parts.append(Part(part, in_folders - mine))
        else:
            parts.append(Part(part))
    return parts


def by_file(
    sel: Selection, first: Iterable[str] = (), sizes: Callable[[str], int] | None = None
) -> list[Selection]:
    """``sel`` (without folders) as one selection per test file, so each runs in its file's
    collection zygote (a run over several files collects cold), in the order they should
    start: the edited test files in ``first`` (the file the user is looking at), then the
    fewest selected tests first (a whole file: its ``sizes``, the tests recorded of it), so
    the first results come soonest. Tests whose file is unknown go with the first."""
    pieces: dict[str, Selection] = {}
    for path in sel.files:
        pieces[path] = Selection(files={path})
    loose: set[str] = set()
    for nodeid in sel.nodeids:
        path = sel.tests_of.get(nodeid)
        if path is None:
            loose.add(nodeid)
            continue
        piece = pieces.setdefault(path, Selection())
        piece.nodeids.add(nodeid)
        piece.tests_of[nodeid] = path
    edited = set(first)

    def count(path: str) -> int:
        return (sizes(path) if sizes is not None else 0) if path in sel.files else 0

    order = sorted(
        pieces,
        key=lambda p: (p not in edited, count(p) + len(pieces[p].nodeids), p),
    )
    out = [pieces[p] for p in order]
    if not out:
        return [sel] if sel else []
    out[0].nodeids |= loose
    return out


def is_dependency_file(path: str) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(name, pat) for pat in DEPENDENCY_FILES)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class TestMap:
    """node id -> (workspace file -> units it executed), in memory."""

    __test__ = False  # not a pytest class

    def __init__(self, root: str) -> None:
        self.root = root
        self.executed: dict[str, dict[str, set[str]]] = {}
        self.test_file: dict[str, str] = {}
        self.imports: dict[str, set[str]] = {}
        #: node id -> (workspace file -> (its text's key, 1-based lines it ran)): line coverage
        self.lines: dict[str, dict[str, Ran]] = {}
        #: workspace file -> lines its import ran, by the last collection that traced it
        self.collected: dict[str, Ran] = {}
        self.texts = Texts()
        self.complete = False  # every test of the workspace recorded once

    def clear(self) -> None:
        self.executed.clear()
        self.test_file.clear()
        self.imports.clear()
        self.lines.clear()
        self.collected.clear()
        self.texts = Texts()
        self.complete = False

    def record(self, event: Executed | dict[str, Any], read: Read | None = lambda p: None) -> None:
        """One test's record; ``read`` gives the text its lines are numbers of (None: that
        text is gone, an edit came since the run started: the test's old lines stay)."""
        self.executed[event["nodeid"]] = {p: set(u) for p, u in event["units"].items()}
        self.test_file[event["nodeid"]] = event["file"]
        if read is None:
            return
        lines = event.get("lines") or {}
        self.lines[event["nodeid"]] = {p: self.texts.ran(read(p), n) for p, n in lines.items()}
        if len(self.texts.by_key) > KEPT_TEXTS:  # texts no record names any more: dropped
            used = {r.key for per_file in self.lines.values() for r in per_file.values()}
            self.texts.keep(used | {r.key for r in self.collected.values()})

    def forget_gone(
        self, sel: Selection, collected: set[str], exists: Callable[[str], bool]
    ) -> set[str]:
        """After a finished run of ``sel`` that ``collected`` these node ids: the recorded tests
        of its whole files and folders that are gone (their file collected without them, or
        deleted) are forgotten, so no kept outcome shows them; returns them. (A file whose
        collection failed keeps its records: its tests are not known to be gone.)"""
        whole = Selection(sel.folders, sel.files)
        files = {self.test_file[n] for n in collected if n in self.test_file}
        gone = {
            n
            for n, f in self.test_file.items()
            if n not in collected and whole.covers(n, f) and (f in files or not exists(f))
        }
        for nodeid in gone:
            self.executed.pop(nodeid, None)
            self.test_file.pop(nodeid, None)
            self.lines.pop(nodeid, None)
        return gone

    def record_imports(self, event: Imports | dict[str, Any], read: Read = lambda p: None) -> None:
        files = set(event["files"])
        for test in event["tests"]:
            self.imports[test] = files
        for path, lines in (event.get("lines") or {}).items():
            self.collected[path] = self.texts.ran(read(path), lines)

    def ran(self, path: str, text: str) -> set[int]:
        """Lines of ``path`` (numbers in ``text``, its text now) that ran, in any recorded
        test or while a collection imported it; lines recorded against an older text are
        carried to where that line is now, and dropped if it changed."""
        records = [per_file[path] for per_file in self.lines.values() if path in per_file]
        if path in self.collected:
            records.append(self.collected[path])
        out: set[int] = set()
        for ran in records:
            out |= self.texts.carried(ran, text)
        return out

    def tests_in(self, test_file: str) -> int:
        """How many tests of ``test_file`` are recorded (a live run's order, ``by_file``)."""
        return sum(1 for f in self.test_file.values() if f == test_file)

    def touching(self, path: str, prefix: str | None = None) -> set[str]:
        """Tests that executed ``prefix`` (or a unit inside it) in ``path``; None: anything."""
        found = set()
        for nodeid, files in self.executed.items():
            units = files.get(path)
            if not units:
                continue
            if prefix is None or any(u == prefix or u.startswith(prefix + ".") for u in units):
                found.add(nodeid)
        return found

    def affected(self, changes: dict[str, set[str] | None]) -> Selection:
        """The tests to run for these changes (path -> changed units; None: all of it)."""
        sel = Selection()
        if not self.complete:
            sel.folders.add(self.root)
            return sel
        for path, units in changes.items():
            name = os.path.basename(path)
            if is_dependency_file(path):
                self.clear()
                sel.folders.add(self.root)
                continue
            if name == "conftest.py":
                sel.folders.add(os.path.dirname(path))
                continue
            if is_test_module(path):
                sel.files.add(path)
            if units is None or MODULE in units:
                sel.nodeids |= self.touching(path)
                sel.files |= {t for t, files in self.imports.items() if path in files}
                continue
            for unit in units:
                sel.nodeids |= self.touching(path, unit)
        sel.tests_of = {n: self.test_file[n] for n in sel.nodeids if n in self.test_file}
        return sel.narrowed()

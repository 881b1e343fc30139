"""Server: live tests' map kept across sessions in the server's cache (``server/cache.py``).

Why: without it every session with ``liveTests`` starts with a run of the whole
workspace, and until it ends every edit's selection is the whole workspace too
(``testmap.TestMap.complete``): minutes on a real project before live mode is
precise. Kept, the second session on an unchanged workspace runs nothing at
start, and its first edit of a function runs only the tests that executed it.

What is kept (one msgpack map per workspace folder, namespace ``livemap``, under
the folder, the twins' interpreter and :data:`FORMAT`): the map's records
(units per test, collection imports, the test's file), the lines each test ran
(only those recorded against the file's text of the moment: a line record of an
older text is not kept), each recorded test's last result, and the text key
(``testmap.Texts.key``) of every file the records name, of every ``conftest.py``
and of every dependency file (``testmap.DEPENDENCY_FILES``) in the folders from
the root down to those files. It is written only when the map is the texts'
(no edit waiting or owed, no live run going: ``server/lsp/live.py``), so each
record stands for the text whose key is written beside it.

Read back (:func:`restore`), the staleness rule (:func:`verdict`) compares those
keys with the texts now (the mirror: disk and unsaved buffers):

- a dependency file added, removed or changed, or a ``sys.path`` folder outside
  the workspace (an install) changed: nothing is restored (a full baseline);
- a file changed or deleted: treated as an edit whose old text is unknown
  (``TestMap.affected({path: None})``: a test file's tests, the tests that
  executed it, a conftest's folder), run at start; its line records dropped;
- a test file the map does not hold (new, or one that never collected): run;
- a document open with a text other than the disk's (an editor's restored
  buffer), the disk's being the records' text: an edit of that text, unit by
  unit (``shared/units.py``), run at start; opened after the map is read, the
  same, as an edit (``server/lsp/live.py`` ``on_edit``);
- the rest stands, and so do its tests' last outcomes (the records say the
  texts they ran are the same, so a run would give them again; the tests that
  run at start show no restored outcome, so nothing stale is shown meanwhile).

Not seen: what the digest does not see either (``shared/digest.py``): an
installed package's file edited in place, a requirements file outside the
folders named above.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack

from .. import __version__
from ..shared.paths import in_workspace
from ..shared.units import changed, parse
from .testmap import Ran, Read, TestMap, Texts, is_dependency_file

log = logging.getLogger(__name__)

NAMESPACE = "livemap"
#: The kept map's layout; a new one makes old entries foreign (ignored).
FORMAT = 1
#: A folder's names (``os.listdir``; a test gives its own).
ListDir = Callable[[str], list[str]]
#: Result keys not restored: a parked child's handle (it died with its session).
NOT_KEPT = ("handle",)


def key(root: str, interpreter: str) -> str:
    """The cache key of ``root``'s map for twins in ``interpreter``."""
    return json.dumps(["livemap", FORMAT, __version__, root, interpreter])


@dataclass
class Snapshot:
    """A map's records as they are now, taken on the event loop (shallow: a record is
    replaced whole, never changed in place, so the copies stay the map's of the
    moment while a thread encodes them)."""

    root: str
    executed: dict[str, dict[str, set[str]]]
    test_file: dict[str, str]
    imports: dict[str, set[str]]
    lines: dict[str, dict[str, Ran]]
    collected: dict[str, Ran]
    results: dict[str, dict[str, Any]]
    stamps: list[str] = field(default_factory=list)  # ``sys.path`` outside the workspace

    @classmethod
    def of(cls, m: TestMap, results: Mapping[str, dict[str, Any]], stamps: list[str]) -> Snapshot:
        return cls(
            m.root,
            dict(m.executed),
            dict(m.test_file),
            dict(m.imports),
            dict(m.lines),
            dict(m.collected),
            {n: e for n, e in results.items() if n in m.test_file},
            stamps,
        )

    def named(self) -> set[str]:
        """Every workspace file the records name."""
        out = set(self.test_file.values()) | set(self.collected)
        for per_file in self.executed.values():
            out |= set(per_file)
        for files in self.imports.values():
            out |= files
        return out


def guards(
    root: str, named: Iterable[str], read: Read, listdir: ListDir = os.listdir
) -> dict[str, str]:
    """Text keys of the ``conftest.py`` and dependency files in the folders from ``root``
    down to each named file's (absent ones are not listed: one appearing is a change)."""
    folders = {root}
    for path in named:
        d = os.path.dirname(path)
        while d.startswith(root) and d not in folders:
            folders.add(d)
            d = os.path.dirname(d)
    out: dict[str, str] = {}
    for folder in sorted(folders):
        try:
            names = listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if name == "conftest.py" or is_dependency_file(path):
                text = read(path)
                if text is not None:
                    out[path] = Texts.key(text)
    return out


def encode(snap: Snapshot, read: Read, listdir: ListDir = os.listdir) -> bytes:
    """The kept form of ``snap`` (in a thread: reads and hashes every named file)."""
    files: dict[str, str | None] = {}
    for path in sorted(snap.named()):
        text = read(path)
        files[path] = Texts.key(text) if text is not None else None
    lines = {
        nodeid: {p: sorted(r.lines) for p, r in per_file.items() if r.key and r.key == files.get(p)}
        for nodeid, per_file in snap.lines.items()
    }
    data = {
        "format": FORMAT,
        "root": snap.root,
        "files": files,
        "guards": guards(snap.root, files, read, listdir),
        "stamps": snap.stamps,
        "executed": {n: {p: sorted(u) for p, u in f.items()} for n, f in snap.executed.items()},
        "test_file": snap.test_file,
        "imports": {n: sorted(f) for n, f in snap.imports.items()},
        "lines": lines,
        "collected": {
            p: sorted(r.lines) for p, r in snap.collected.items() if r.key == files.get(p)
        },
        "results": {
            n: {k: v for k, v in e.items() if k not in NOT_KEPT} for n, e in snap.results.items()
        },
    }
    return msgpack.packb(data)


def decode(blob: bytes, root: str) -> dict[str, Any] | None:
    """The kept map of ``root``, or None if ``blob`` is not one (foreign, another format)."""
    try:
        data = msgpack.unpackb(blob)
    except Exception:
        return None
    shape = {
        "files": dict,
        "guards": dict,
        "stamps": list,
        "executed": dict,
        "test_file": dict,
        "imports": dict,
        "lines": dict,
        "collected": dict,
        "results": dict,
    }
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("root") != root:
        return None
    if not all(isinstance(data.get(k), t) for k, t in shape.items()):
        return None
    return data


def verdict(
    kept: Mapping[str, str | None],
    now: Mapping[str, str | None],
    kept_guards: Mapping[str, str],
    now_guards: Mapping[str, str],
) -> dict[str, None] | None:
    """The staleness rule: None if the map cannot be trusted (a dependency file added,
    removed or changed), else the files to treat as edited with an unknown old text
    (changed, deleted; a conftest added, removed or changed)."""
    deps = {p for p in {*kept_guards, *now_guards} if is_dependency_file(p)}
    if any(kept_guards.get(p) != now_guards.get(p) for p in deps):
        return None
    edited = {p for p, k in kept.items() if k is None or now.get(p) != k}
    edited |= {
        p for p in {*kept_guards, *now_guards} - deps if kept_guards.get(p) != now_guards.get(p)
    }
    return dict.fromkeys(sorted(edited))


@dataclass
class Restored:
    """A kept map read back: the map, what to run at start, the outcomes that stand."""

    map: TestMap
    changes: dict[str, set[str] | None]
    results: dict[str, dict[str, Any]]


def restore(
    data: Mapping[str, Any],
    read: Read,
    stamps: list[str],
    test_files: Iterable[str],
    roots: Iterable[str],
    listdir: ListDir = os.listdir,
    disk: Read | None = None,
) -> Restored | None:
    """``data`` (:func:`decode`'s) checked against the texts now (``read``: the mirror) and
    ``stamps`` (``sys.path`` now); ``test_files``: the test files the twins list now;
    ``disk``: a file's text on disk, for a document open with unsaved text (an editor's
    restored buffer) whose disk text the records are of: an edit of that text, its
    changed units known (``shared/units.py``), not a file of unknown old text."""
    if list(data["stamps"]) != list(stamps):
        return None
    root = data["root"]
    kept: dict[str, str | None] = data["files"]
    now = {}
    texts: dict[str, str] = {}
    for path in kept:
        text = read(path)
        now[path] = Texts.key(text) if text is not None else None
        if text is not None:
            texts[path] = text
    changes_or_none = verdict(kept, now, data["guards"], guards(root, kept, read, listdir))
    if changes_or_none is None:
        return None
    changes: dict[str, set[str] | None] = dict(changes_or_none)
    for path in [p for p in changes if p in texts and disk is not None]:
        on_disk = disk(path)
        if on_disk is not None and Texts.key(on_disk) == kept.get(path):
            units = edited_units(on_disk, texts[path], path)
            texts[path] = on_disk  # the records' text: their lines move from it
            if units is None or units:
                changes[path] = units
            else:
                del changes[path]  # (a comment, say: nothing the records know changed)
    m = TestMap(root)
    m.executed = {n: {p: set(u) for p, u in f.items()} for n, f in data["executed"].items()}
    m.test_file = dict(data["test_file"])
    m.imports = {n: set(f) for n, f in data["imports"].items()}
    good = {p: Texts.key(texts[p]) for p in texts if changes.get(p, ()) is not None}
    for path in good:
        m.texts.by_key.setdefault(good[path], texts[path].splitlines())
    m.lines = {
        n: {p: Ran(good[p], frozenset(ln)) for p, ln in f.items() if p in good}
        for n, f in data["lines"].items()
    }
    m.collected = {
        p: Ran(good[p], frozenset(ln)) for p, ln in data["collected"].items() if p in good
    }
    m.complete = True
    recorded = set(m.test_file.values())
    for path in test_files:
        if path not in recorded and in_workspace(path, roots):
            changes[path] = None  # never recorded: its tests run once, to be mapped
    sel = m.affected(dict(changes)) if changes else None
    results = {}
    for nodeid, entry in data["results"].items():
        test_file = m.test_file.get(nodeid)
        if test_file is None or (sel is not None and sel.covers(nodeid, test_file)):
            continue  # it runs at start: no outcome shown until it has
        results[nodeid] = entry
    return Restored(m, changes, results)


def edited_units(old: str, new: str, path: str) -> set[str] | None:
    """The units an edit from ``old`` to ``new`` changed (None: a side does not parse)."""
    try:
        return changed(parse(old, path), parse(new, path))
    except SyntaxError:
        return None

"""Shared: which files are the user's workspace and which belong to the interpreter.

Runs report failures in workspace files only (a frame inside pytest or numpy is
no place for a diagnostic), and the twin preloads only modules that live with
the interpreter: a workspace module imported into the twin would go stale at
the next edit.
"""

from __future__ import annotations

import functools
import os
import site
import sys
import sysconfig
from collections.abc import Iterable

from .overlay import SKIP_DIRS


def root_of(path: str, roots: Iterable[str]) -> str:
    """The workspace folder holding ``path`` (the deepest), else the file's folder."""
    best = ""
    for r in roots:
        r = r.rstrip(os.sep) or os.sep
        if (path == r or path.startswith(r + os.sep)) and len(r) > len(best):
            best = r
    return best or os.path.dirname(path)


def in_workspace(path: str, roots: Iterable[str]) -> bool:
    """A user's file: under a root and not inside a virtualenv or build folder."""
    for r in roots:
        prefix = r.rstrip(os.sep) + os.sep
        if path.startswith(prefix):
            rel = path[len(prefix) :].split(os.sep)[:-1]
            return not any(d in SKIP_DIRS or d.endswith(".egg-info") for d in rel)
    return False


@functools.lru_cache(maxsize=1)
def interpreter_dirs() -> tuple[str, ...]:
    """Folders of the standard library and every site-packages this interpreter sees."""
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if paths.get(k)}
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # some embedded or virtualenv'd interpreters lack it
        pass
    user = getattr(site, "USER_SITE", None)
    if user:
        dirs.add(user)
    dirs.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return tuple(sorted({os.path.realpath(d).rstrip(os.sep) + os.sep for d in dirs}))


def belongs_to_interpreter(origin: str | None, roots: Iterable[str]) -> bool:
    """True for built-in, frozen, standard-library and installed (not editable) modules."""
    if origin is None or origin in ("built-in", "frozen"):
        return True
    if in_workspace(origin, roots):
        return False
    real = os.path.realpath(origin)
    return real.startswith(interpreter_dirs())

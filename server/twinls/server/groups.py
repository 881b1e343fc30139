"""Server: the pool's twins grouped by interpreter; each workspace folder is served by one group.

Why groups in one pool rather than a pool per interpreter: the edit log keeps
its one order (mirror + seq under one lock), a restarted twin's snapshot stays
one mechanism, and every twin still holds every folder, so an import from one
folder into another resolves and a run sees the whole workspace. Only the
routing follows the folder: a call about a file goes to a twin of that file's
folder's group (``TwinPool.pick``), and a sharded search deals each file to a
twin of its own folder's group (``server/shards.py``), so every file's verdict
is computed with that folder's interpreter and site-packages, and the merged
answer covers every folder.

A group's twins list its own folders first (their ``sys.path`` order): a module
name that two folders both have resolves to the group's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..shared.paths import root_of
from .interpreter import Interpreter

#: A folder's choice: an interpreter, None (the server's own: twins forked here), or an
#: error message (a setting that names no interpreter; that folder gets no twin).
Choice = Interpreter | str | None


@dataclass(eq=False)
class Group:
    """The twins of one interpreter and the workspace folders they answer for."""

    interpreter: Interpreter | None
    roots: list[str]
    slots: list[int] = field(default_factory=list)
    #: The slot of its interactive twin (one of ``slots``; None: none, ``TwinPool.lane``).
    lane: int | None = None
    #: The choice itself failed (never starts until chosen again) ...
    bad_choice: str = ""
    #: ... or the last start in it did (cleared by a restart).
    error: str = ""
    zygote: Any = None  # launch.Zygote when the interpreter is not the server's

    @property
    def key(self) -> str:
        return choice_key(self.bad_choice or self.interpreter)

    def twin_roots(self, all_roots: list[str]) -> list[str]:
        """Its twins' roots: its own folders first, then the others."""
        return [*self.roots, *(r for r in all_roots if r not in self.roots)]


def choice_key(choice: Choice) -> str:
    """Folders whose choices have one key share a group (one environment, one zygote)."""
    if choice is None:
        return "server"
    if isinstance(choice, str):
        return "error:" + choice
    return "path:" + choice.path


def by_key(choices: Mapping[str, Choice]) -> dict[str, tuple[Choice, list[str]]]:
    """The folders of each distinct choice, in the folders' order (the first's choice kept)."""
    out: dict[str, tuple[Choice, list[str]]] = {}
    for root, choice in choices.items():
        key = choice_key(choice)
        if key in out:
            out[key][1].append(root)
        else:
            out[key] = (choice, [root])
    return out


def group_of_path(path: str, groups: list[Group], roots: list[str]) -> Group | None:
    """The group serving the folder that holds ``path`` (None: outside every folder)."""
    root = root_of(path, roots)
    for g in groups:
        if root in g.roots:
            return g
    return None

"""Server: what a run's target covers, in files and in test names."""

from __future__ import annotations

import os

from ...plan import Target


def in_scope(qualname: str, kind: str, scope: str) -> bool:
    """Whether a test ``qualname`` is under a target of ``kind`` named ``scope``."""
    if kind in ("file", "folder"):
        return True
    if kind == "class":
        return qualname.startswith(scope + "::")
    return qualname == scope


def covers(target: Target, file: str) -> bool:
    """Whether ``target`` runs tests of ``file`` (a folder's: every file under it)."""
    if target.kind == "folder":
        return file == target.path or file.startswith(target.path.rstrip(os.sep) + os.sep)
    return file == target.path


def covers_test(target: Target, file: str, qualname: str) -> bool:
    """Whether the test ``qualname`` of ``file`` is in ``target``'s scope."""
    return covers(target, file) and in_scope(qualname, target.kind, target.qualname)

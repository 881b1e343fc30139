"""A fingerprint of folders, to prove a session wrote nothing there."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def snapshot(*roots: Path) -> dict[str, tuple]:
    """Every file and folder under ``roots``: kind, size, mtime and content hash."""
    out: dict[str, tuple] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for d in dirnames:
                p = os.path.join(dirpath, d)
                out[p] = ("dir", os.stat(p).st_mtime_ns)
            for f in filenames:
                p = os.path.join(dirpath, f)
                st = os.stat(p)
                digest = hashlib.sha256(Path(p).read_bytes()).hexdigest()
                out[p] = ("file", st.st_size, st.st_mtime_ns, digest)
    return out


def diff(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    changed = [f"+ {p}" for p in after.keys() - before.keys()]
    changed += [f"- {p}" for p in before.keys() - after.keys()]
    changed += [f"~ {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    return sorted(changed)

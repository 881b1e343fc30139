"""Shared: edit entries, the one stream of changes the server applies and every twin replays.

The server applies an entry to its own overlay (the authoritative mirror) and
sends the very same entry to each twin, which applies it with this same
function; the CRC computed on the server side makes any divergence loud.
"""

from __future__ import annotations

from typing import Any

from .overlay import Overlay
from .textbuf import Edit

#: Entry ops; "open" with full text doubles as the resync of a diverged document.
OPS = ("open", "change", "verify", "close", "save", "deleted", "created", "changed")


def apply_entry(overlay: Overlay, entry: dict[str, Any]) -> None:
    op, path = entry["op"], entry["path"]
    if op == "open":
        overlay.open(path, entry["text"], entry.get("version", 0))
    elif op == "change":
        overlay.change(
            path, entry.get("version", 0), [Edit(*e) for e in entry["edits"]], entry.get("crc")
        )
    elif op == "close":
        overlay.close(path)
    elif op == "verify":
        overlay.verify(path, entry["crc"])
    elif op == "save":
        pass  # the buffer stays authoritative while open; disk now agrees with it
    elif op == "deleted":
        overlay.delete(path)
    elif op in ("created", "changed"):
        overlay.disk_changed(path)
    else:
        raise ValueError(f"unknown edit op {op!r}")

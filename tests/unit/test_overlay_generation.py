"""Shared: which document events are changes (the overlay's generation), and which are not.

Everything kept per generation (a search's verdicts, the binding lane, kept hovers)
goes at a change; an editor opening the file it asks at is not one (issue 10).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from twinls.shared.overlay import Overlay

DISK = "x = 1\n"


@pytest.mark.parametrize(
    "events, changes",
    [
        ([("open", DISK)], 0),  # the text on disk: nothing reads differently
        ([("open", "x = 2\n")], 1),  # unsaved text
        ([("open", DISK), ("close", None)], 0),
        ([("open", "x = 2\n"), ("close", None)], 2),  # back to the disk's text: a change
        ([("open", DISK), ("open", DISK)], 0),  # opened again, the same text
        ([("open", "x = 2\n"), ("open", "x = 2\n")], 1),
        ([("open", "x = 2\n"), ("open", DISK)], 2),
        ([("open", DISK.replace("\n", "\r\n"))], 1),  # other bytes, even if alike
        ([("new", "y = 1\n")], 1),  # a file not on disk
        ([("open", "s = '\ud800'\n"), ("open", "s = '\ud800'\n"), ("close", None)], 3),
    ],
)
def test_which_events_change_the_generation(tmp_path: Path, events, changes):
    (tmp_path / "a.py").write_text(DISK, newline="")
    overlay = Overlay(roots=[str(tmp_path)])
    told: list[str] = []
    overlay.listeners.append(told.append)
    stamps = []
    for kind, text in events:
        path = str(tmp_path / ("new.py" if kind == "new" else "a.py"))
        if kind == "close":
            overlay.close(path)
        else:
            overlay.open(path, text, 1)
            stamps.append(overlay.stamp(path))
    assert overlay.generation == changes
    assert len(told) == changes  # listeners hear of changes only
    assert len(set(stamps)) == len(stamps)  # every open is a new stamp (parso re-reads)

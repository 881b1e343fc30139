"""Shared: the server's hashes of the workspace (``shared/digest.py``), what a kept answer is
filed under: every listed file once, then only touched paths, the overlay's view winning."""

from __future__ import annotations

import hashlib
from pathlib import Path

from twinls.shared.digest import Hashes, compose
from twinls.shared.entries import apply_entry
from twinls.shared.overlay import Overlay


def tree(root: Path, files: dict[str, str]) -> Overlay:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return Overlay(roots=[str(root)])


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def edit(ov: Overlay, op: str, path: Path, **more: object) -> None:
    apply_entry(ov, {"op": op, "path": str(path), **more})


def test_the_first_walk_hashes_every_listed_file_and_nothing_else(tmp_path):
    ov = tree(
        tmp_path,
        {
            "a.py": "a = 1\n",
            "pkg/b.pyi": "b: int\n",
            "notes.txt": "not python\n",
            ".venv/lib/c.py": "skipped folder\n",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/d.py": "a virtualenv, whatever its name\n",
        },
    )
    h = Hashes(ov)
    h.files()
    assert h.shas() == {
        str(tmp_path / "a.py"): sha("a = 1\n"),
        str(tmp_path / "pkg/b.pyi"): sha("b: int\n"),
    }
    assert h.read == 2


def test_only_touched_paths_are_read_again(tmp_path):
    ov = tree(tmp_path, {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    h = Hashes(ov)
    first = h.files()
    assert h.files() == first and h.read == 2  # nothing touched: nothing read
    (tmp_path / "b.py").write_text("b = 2\n")
    assert h.files() == first  # no event for it: not seen (the twins see it the same way)
    edit(ov, "changed", tmp_path / "b.py")
    second = h.files()
    assert second != first and h.read == 3
    assert h.shas()[str(tmp_path / "b.py")] == sha("b = 2\n")


def test_deleted_files_and_folders_leave_the_digest(tmp_path):
    ov = tree(tmp_path, {"a.py": "a = 1\n", "pkg/b.py": "b\n", "pkg/sub/c.py": "c\n"})
    h = Hashes(ov)
    with_all = h.files()
    (tmp_path / "a.py").unlink()
    edit(ov, "deleted", tmp_path / "a.py")
    edit(ov, "deleted", tmp_path / "pkg")  # hidden in the editor, still on disk
    assert h.files() != with_all
    assert h.shas() == {}
    (tmp_path / "a.py").write_text("a = 1\n")
    edit(ov, "created", tmp_path / "a.py")
    edit(ov, "created", tmp_path / "pkg")  # a folder: everything under it again
    assert h.files() == with_all


def test_unsaved_texts_win_over_the_disk(tmp_path):
    ov = tree(tmp_path, {"a.py": "on disk\n"})
    h = Hashes(ov)
    on_disk = h.files()
    edit(ov, "open", tmp_path / "a.py", text="unsaved\n", version=1)
    edit(ov, "open", tmp_path / "new.py", text="never saved\n", version=1)
    assert h.files() != on_disk
    assert h.shas() == {
        str(tmp_path / "a.py"): sha("unsaved\n"),
        str(tmp_path / "new.py"): sha("never saved\n"),
    }
    edit(ov, "change", tmp_path / "a.py", version=2, edits=[[0, 0, 0, 7, "on disk"]])
    edit(ov, "close", tmp_path / "new.py")
    assert h.files() == on_disk  # the same texts, the same digest


def test_the_digest_does_not_depend_on_the_order_files_were_hashed_in(tmp_path):
    files = {f"m{i}.py": f"x = {i}\n" for i in range(5)}
    ov = tree(tmp_path, {})
    touched = Hashes(ov)
    touched.files()
    for rel, text in reversed(files.items()):  # appear one by one, last first
        (tmp_path / rel).write_text(text)
        edit(ov, "created", tmp_path / rel)
        touched.files()
    walked = Hashes(Overlay(roots=[str(tmp_path)]))  # all at once, in the walk's order
    assert walked.files() == touched.files()
    interp = [["3.12", "/usr/bin/python3", "jedi 0.19", "/lib:1"]]
    other = [["3.13", "/usr/bin/python3.13", "jedi 0.19", "/lib:1"]]
    files_digest = walked.files()
    assert compose(files_digest, ["/a", "/b"], [*interp, *other]) == compose(
        files_digest, ["/b", "/a"], [*other, *interp, *interp]
    )
    assert compose(files_digest, ["/a"], interp) != compose(files_digest, ["/a"], other)


def test_a_new_exclude_walks_again(tmp_path):
    ov = tree(tmp_path, {"a.py": "a\n", "gen/b.py": "b\n"})
    h = Hashes(ov)
    h.files()
    ov.excluded = ["gen"]
    h.files()
    assert h.shas() == {str(tmp_path / "a.py"): sha("a\n")}

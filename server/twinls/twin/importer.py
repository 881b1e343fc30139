"""Twin (and run child): imports through the overlay, a ``sys.meta_path`` finder.

Installed in the twin (jedi's module search walks ``sys.meta_path`` and reads
source from the finder's loader) and in every run child (so a test imports the
editor's unsaved text). It claims only modules whose file the overlay holds in
memory, or new files the disk does not have; everything else is left to the
ordinary finders. Nothing is compiled to disk: the loader has no bytecode cache.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence

from ..shared.overlay import Overlay


class OverlayLoader(importlib.abc.SourceLoader):
    def __init__(self, overlay: Overlay, fullname: str, path: str) -> None:
        self.overlay = overlay
        self.name = fullname
        self.path = path

    def get_filename(self, fullname: str | None = None) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        data = self.overlay.read_bytes(path)
        if data is None:
            raise OSError(f"{path} is not in the overlay or on disk")
        return data

    def is_package(self, fullname: str) -> bool:
        return os.path.basename(self.path) == "__init__.py"


class OverlayFinder(importlib.abc.MetaPathFinder):
    def __init__(self, overlay: Overlay) -> None:
        self.overlay = overlay

    def _dirs(self, path: Sequence[str] | None) -> list[str]:
        if path is not None:
            return [os.path.abspath(p) for p in path]
        return [os.path.abspath(p or os.getcwd()) for p in (*self.overlay.roots, *sys.path)]

    def _inside_roots(self, folder: str) -> bool:
        return any(
            folder == r or folder.startswith(r.rstrip(os.sep) + os.sep) for r in self.overlay.roots
        )

    def find_spec(self, fullname, path=None, target=None):  # type: ignore[override]
        docs = self.overlay.docs
        if not docs:
            return None
        tail = fullname.rpartition(".")[2]
        for folder in self._dirs(path):
            if not self._inside_roots(folder):
                continue
            pkg = os.path.join(folder, tail)
            for candidate, is_pkg in (
                (os.path.join(pkg, "__init__.py"), True),
                (pkg + ".py", False),
            ):
                if candidate in docs:
                    return self._spec(fullname, candidate, pkg if is_pkg else None)
                if self.overlay.is_file(candidate):
                    return None  # on disk, untouched: the ordinary finders serve it
        return None

    def _spec(self, fullname: str, file: str, pkg_dir: str | None):
        loader = OverlayLoader(self.overlay, fullname, file)
        return importlib.util.spec_from_file_location(
            fullname,
            file,
            loader=loader,
            submodule_search_locations=[pkg_dir] if pkg_dir else None,
        )


def install(overlay: Overlay) -> OverlayFinder:
    """Put an overlay finder first on ``sys.meta_path`` (once per process)."""
    for finder in sys.meta_path:
        if isinstance(finder, OverlayFinder):
            finder.overlay = overlay
            return finder
    finder = OverlayFinder(overlay)
    sys.meta_path.insert(0, finder)
    return finder

"""Server side (the caller's process): the public Python API, ``runRemotely`` for Python.

from twinls import Twin
with Twin.start("path/to/project") as twin:
    p = twin.run_remotely(my_query, "visit")   # any picklable callable
    for batch in p.partials(): ...
    print(p.result(timeout=10))
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .server import stubs
from .server.interpreter import choose
from .server.pool import TwinPool
from .server.promise import Promise
from .shared.frames import unpickle
from .shared.textbuf import Edit


class Twin:
    """A pool of warm twins over a folder, driven from Python instead of an editor."""

    def __init__(self, pool: TwinPool) -> None:
        self.pool = pool

    @classmethod
    def start(
        cls,
        root: str | os.PathLike[str],
        size: int = 1,
        settings: dict[str, Any] | None = None,
        python: str | None = None,
        discover: bool = False,
    ) -> Twin:
        """Twins over ``root``: forked from this process, or in ``python`` (a path) if given.

        Without ``python`` the twins share the caller's interpreter, so any callable
        the caller can pickle runs there; cloudpickle's code objects do not cross
        CPython versions, so with another ``python`` pass named queries or functions
        importable by name there. ``discover`` chooses as the server does
        (``python``, else ``VIRTUAL_ENV``, ``CONDA_PREFIX``, ``.venv``/``venv``): the
        terminal commands use it.
        """
        interp = None
        if python or discover:
            interp = choose(os.fspath(root), python, "--python")
        pool = TwinPool([os.fspath(root)], size=size, settings=settings, interpreter=interp)
        pool.start(wait=True)
        if not pool.live():
            pool.close()
            why = f": {pool.start_error}" if pool.start_error else ""
            raise RuntimeError(f"twinls: no twin started for {root}{why}")
        return cls(pool)

    def run_remotely(self, fn: Callable[..., Any], *args: Any) -> Promise:
        """Run ``fn(*args)`` in a twin; inside, ``twinls.current()`` streams partials.

        Values that are not plain data come back pickled and are loaded here, in
        the caller's process, because the caller asked for them.
        """
        return self.pool.call(fn, *args, decode=unpickle)

    def call(self, query: str, *args: Any) -> Promise:
        """Run a named query (``status``, ``implementors``, ``references``, ...)."""
        return self.pool.call(query, *args)

    # -- edits, as an editor would send them -------------------------------------------

    def open(self, path: str | os.PathLike[str], text: str, version: int = 0) -> None:
        self.pool.apply({"op": "open", "path": _abs(path), "text": text, "version": version})

    def edit(self, path: str | os.PathLike[str], text: str) -> None:
        """Replace a file's unsaved text (opening it if needed); the disk is not touched."""
        p = _abs(path)
        doc = self.pool.mirror.docs.get(p)
        if doc is None:
            self.open(p, text)
            return
        last = len(doc.buffer.lines) - 1
        whole = Edit(0, 0, last, len(doc.buffer.lines[last]), text)
        self.pool.apply(
            {"op": "change", "path": p, "version": doc.version + 1, "edits": [whole.as_list()]}
        )

    def close_document(self, path: str | os.PathLike[str]) -> None:
        self.pool.apply({"op": "close", "path": _abs(path)})

    def delete(self, path: str | os.PathLike[str]) -> None:
        self.pool.apply({"op": "deleted", "path": _abs(path)})

    def status(self) -> list[dict[str, Any]]:
        return [p.result(30) for _, p in self.pool.call_each(stubs.status())]

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Twin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _abs(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(path))

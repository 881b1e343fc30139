"""Run child: running an example, call ``example_*()`` or its doctests; keep the value.

As in moldable development, an example is code that returns an object worth
looking at; its ``repr`` is the result. A doctest's value is what its last
example printed. The module is imported the way ``python -m pytest`` from the
workspace root would import it, through the overlay.
"""

from __future__ import annotations

import asyncio
import contextlib
import doctest
import importlib
import inspect
import io
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..shared.overlay import Overlay
from ..shared.paths import in_workspace
from ..shared.results import test_entry

VALUE_LIMIT = 100_000


def module_name(path: str, overlay: Overlay) -> tuple[str, str]:
    """(dotted name, folder to put on sys.path): walk up while ``__init__.py`` exists."""
    folder, name = os.path.split(path)
    parts = [os.path.splitext(name)[0]]
    if parts[0] == "__init__":
        parts = []
    while overlay.is_file(os.path.join(folder, "__init__.py")):
        folder, pkg = os.path.split(folder)
        parts.insert(0, pkg)
        if not pkg:
            break
    return ".".join(parts), folder


def import_file(path: str, overlay: Overlay) -> Any:
    name, folder = module_name(path, overlay)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


def resolve(module: Any, qualname: str) -> Any:
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def run_example(
    path: str,
    qualname: str,
    mode: str,
    overlay: Overlay,
    roots: list[str],
    keep: Callable[[Any], str | None] | None = None,
) -> dict:
    """One example's result entry (never raises for the example's own errors).

    ``keep`` (a parked run's ``Live.keep``) gives the value, or the failure with
    its frames, a ``handle`` for inspecting it.
    """
    nodeid = f"{os.path.relpath(path)}::{qualname}"
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    fields: dict[str, Any]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            module = import_file(path, overlay)
            obj = resolve(module, qualname)
            if mode == "doctest":
                fields = _doctest(obj, qualname, module, path)
            else:
                value = obj()
                if inspect.isawaitable(value):
                    value = asyncio.run(_await(value))
                fields = {"outcome": "passed", "value": _repr(value)}
                if keep is not None:
                    fields["handle"] = keep(value)
    except BaseException as exc:  # an example may raise anything, SystemExit included
        fields = _exception(exc, path, roots)
        if keep is not None:
            from .live import Failure

            fields["handle"] = keep(Failure(exc, exc.__traceback__, roots))
    fields.setdefault("line", _def_line(path, qualname, overlay))
    return test_entry(
        nodeid,
        path,
        name=qualname.rpartition(".")[2],
        qualname=qualname,
        duration=time.perf_counter() - start,
        stdout=out.getvalue(),
        stderr=err.getvalue(),
        **fields,
    )


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {exc!r}>"
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def _exception(exc: BaseException, path: str, roots: list[str]) -> dict[str, Any]:
    frames = [
        (f.filename, (f.lineno or 1) - 1)
        for f in traceback.extract_tb(exc.__traceback__)
        if in_workspace(f.filename, roots)
    ]
    fields: dict[str, Any] = {
        "outcome": "failed",
        "message": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        "traceback": "".join(traceback.format_exception(exc)),
        "trace": [{"path": p, "line": n} for p, n in frames],
    }
    if frames:
        fields["path"], fields["line"] = frames[-1]
    return fields


class _Runner(doctest.DocTestRunner):
    """Remembers what the last example printed: the doctest's value."""

    last_got: str | None = None
    first_failure: tuple[doctest.Example, str] | None = None

    def report_success(self, out, test, example, got):  # type: ignore[no-untyped-def]
        self.last_got = got

    def report_failure(self, out, test, example, got):  # type: ignore[no-untyped-def]
        self.last_got = got
        if self.first_failure is None:
            message = self._checker.output_difference(example, got, self.optionflags)
            self.first_failure = (example, f"Failed example: {example.source.strip()}\n{message}")

    def report_unexpected_exception(self, out, test, example, exc_info):  # type: ignore[no-untyped-def]
        if self.first_failure is None:
            exc = exc_info[1]
            self.first_failure = (
                example,
                f"Failed example: {example.source.strip()}\n{type(exc).__name__}: {exc}",
            )


def _doctest(obj: Any, qualname: str, module: Any, path: str) -> dict[str, Any]:
    finder = doctest.DocTestFinder(recurse=False)
    tests = finder.find(obj, qualname, module=module, globs=dict(module.__dict__))
    runner = _Runner(optionflags=doctest.ELLIPSIS, verbose=False)
    for test in tests:
        runner.run(test, out=lambda s: None, clear_globs=False)
    if runner.first_failure is not None:
        example, message = runner.first_failure
        test = next(t for t in tests if example in t.examples)
        line = (test.lineno or 0) + example.lineno
        return {"outcome": "failed", "message": message, "path": path, "line": line}
    got = (runner.last_got or "").rstrip("\n")
    return {"outcome": "passed", "value": got if got else None}


def _def_line(path: str, qualname: str, overlay: Overlay) -> int | None:
    from ..shared.collect import find_units

    text = overlay.read_text(path)
    try:
        units = find_units(text or "", path)
    except SyntaxError:
        return None
    return next((u["line"] for u in units if u["qualname"] == qualname), None)

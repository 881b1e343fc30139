"""Server: one publisher for every kind of diagnostic, and syntax errors as you type.

LSP replaces a document's diagnostics with each ``publishDiagnostics``, so two
sources publishing on their own would wipe each other's. :class:`Board` keeps
each source's list per document (test failures from ``server/lsp/lenses.py``, syntax
errors from here) and always publishes them all together.

Syntax errors: each edit of an open document (re)starts a debounce timer for
it; when it fires, a twin parses the overlay's text (``lang.syntax_errors``)
and the result is published, unless the document changed again meanwhile (its
own timer is then pending). Fixing the error clears it; closing the document
clears its syntax errors (test failures stay).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from lsprotocol import types

from ...shared.schema import DEFAULTS
from .. import stubs
from . import features
from .navigation import range_of
from .server import TwinLanguageServer

log = logging.getLogger(__name__)

#: Seconds after the last edit of a document before it is checked (option ``syntaxDebounce``).
DEBOUNCE = DEFAULTS["syntaxDebounce"]
TESTS, SYNTAX = "tests", "syntax"
CODE = "syntax-error"


class Board:
    """Each source's diagnostics per path; publishing one source sends them all."""

    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.by_path: dict[str, dict[str, list[types.Diagnostic]]] = {}

    def publish(self, path: str, source: str, diagnostics: list[types.Diagnostic]) -> None:
        sources = self.by_path.setdefault(path, {})
        sources[source] = list(diagnostics)
        merged = _merge(sources)
        if not merged:
            self.by_path.pop(path, None)
        self.ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=self.ls.uri_of(path), diagnostics=merged)
        )

    def get(self, path: str, source: str) -> list[types.Diagnostic]:
        return list(self.by_path.get(path, {}).get(source, []))


def _merge(sources: dict[str, list[types.Diagnostic]]) -> list[types.Diagnostic]:
    """Every source's diagnostics; a run's ``SyntaxError`` on a line the syntax check
    already marks is left out (the same error twice is noise)."""
    syntax_lines = {d.range.start.line for d in sources.get(SYNTAX, [])}
    merged = list(sources.get(SYNTAX, []))
    for kind in sorted(sources):
        if kind == SYNTAX:
            continue
        merged += [
            d
            for d in sources[kind]
            if not ("SyntaxError" in d.message and d.range.start.line in syntax_lines)
        ]
    return merged


def board(ls: TwinLanguageServer) -> Board:
    """The server's one :class:`Board` (made on first use)."""
    found = getattr(ls, "_diagnostic_board", None)
    if found is None:
        found = Board(ls)
        ls._diagnostic_board = found  # type: ignore[attr-defined]
    return found


class SyntaxChecker:
    """Debounced syntax checks of open documents, answered by a twin."""

    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.debounce = DEBOUNCE

    def on_edit(self, entry: dict[str, Any]) -> None:
        """An edit entry was applied (called synchronously by document sync)."""
        path, op = entry.get("path"), entry.get("op")
        if not isinstance(path, str) or op not in ("open", "change", "close"):
            return
        if os.path.isabs(path) and not path.endswith((".py", ".pyi")):
            return  # not Python (an untitled buffer's URI is checked: the editor said python)
        timer = self.timers.pop(path, None)
        if timer is not None:
            timer.cancel()
        if op == "close":
            if board(self.ls).get(path, SYNTAX):
                board(self.ls).publish(path, SYNTAX, [])
            return
        loop = self.ls.loop
        if loop is not None:
            self.timers[path] = loop.call_later(self.debounce, self._fire, path)

    def _version(self, path: str) -> int | None:
        pool = self.ls.pool
        doc = pool.mirror.docs.get(path) if pool is not None else None
        return None if doc is None else doc.stamp

    def _fire(self, path: str) -> None:
        self.timers.pop(path, None)
        asyncio.ensure_future(self.check(path))

    async def check(self, path: str) -> None:
        stamp = self._version(path)
        if stamp is None:
            return
        try:
            rows = await self.ls.ask(stubs.syntax_errors(path, self.ls.encoding))
        except Exception as exc:  # a twin restarting: the next edit checks again
            log.debug("syntax check of %s failed: %r", path, exc)
            return
        if rows is None or self._version(path) != stamp:
            return  # closed, or edited again: that edit's own check will publish
        diagnostics = [
            types.Diagnostic(
                range=range_of(r["range"]),
                message=r["message"],
                severity=types.DiagnosticSeverity.Error,
                source="twinls",
                code=CODE,
            )
            for r in rows
        ]
        if diagnostics or board(self.ls).get(path, SYNTAX):
            board(self.ls).publish(path, SYNTAX, diagnostics)


def setup(ls: TwinLanguageServer) -> None:
    checker = SyntaxChecker(ls)

    def on_edit(entry: dict[str, Any]) -> None:
        if features.enabled(ls, "syntaxDiagnostics"):
            if "syntaxDebounce" in ls.options:
                checker.debounce = float(ls.options["syntaxDebounce"])
            checker.on_edit(entry)

    ls.edit_listeners.append(on_edit)

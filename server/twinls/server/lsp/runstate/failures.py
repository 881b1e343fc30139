"""Server: the diagnostics failing tests published, by test, cleared once it passes."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from ....shared import results
from ....shared.textbuf import from_codepoints, split_lines
from ...plan import Target
from ..diagnostics import TESTS, board
from ..server import TwinLanguageServer
from .scope import covers_test

Entry = dict[str, Any]


def editor_lines(ls: TwinLanguageServer, path: str) -> list[str]:
    """The editor's text of ``path`` (the server's mirror, else the disk), in lines."""
    pool = ls.pool
    text = pool.mirror.read_text(path) if pool is not None else None
    return split_lines(text or "")  # LSP's lines: a form feed breaks none


class FailureDiagnostics:
    """Node id -> its diagnostics as (path, diagnostic), and the test they belong to."""

    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self.diags: dict[str, list[tuple[str, types.Diagnostic]]] = {}
        self.owner: dict[str, tuple[str, str]] = {}  # node id -> (test file, qualname)

    def diagnose(self, entry: Entry, file: str) -> None:
        """Publish ``entry``'s failures (of ``file``'s test) in place of its last ones."""
        nodeid = entry["nodeid"]
        touched = {p for p, _ in self.diags.pop(nodeid, [])}
        self.owner.pop(nodeid, None)
        items: list[tuple[str, types.Diagnostic]] = []
        failures = [s for s in entry.get("subtests") or [] if results.failed(s["outcome"])]
        if results.failed(entry["outcome"]) and not failures:
            failures = [entry]  # the test's own failure (a failing subtest says more)
        for failure in failures:
            path, line = failure.get("path"), failure.get("line")
            if path is None or line is None:
                continue
            name = entry["name"] if failure is entry else f"{entry['name']} {failure['name']}"
            message = f"{name}: {failure.get('message') or failure['outcome']}"
            items.append((path, self._diagnostic(path, line, message, entry)))
            in_test = [f for f in failure.get("trace") or [] if f["path"] == file]
            if path != file and in_test:
                where = in_test[-1]
                items.append((file, self._diagnostic(file, where["line"], message, entry)))
        if items:
            self.diags[nodeid] = items
            self.owner[nodeid] = (file, entry["qualname"])
            touched.update(p for p, _ in items)
        for p in touched:
            self.publish(p)

    def forget(self, target: Target, seen: set[str]) -> None:
        """Clear the diagnostics of tests in ``target``'s scope its run did not report."""
        touched: set[str] = set()
        for nodeid, (file, qual) in list(self.owner.items()):
            if nodeid not in seen and covers_test(target, file, qual):
                touched.update(p for p, _ in self.diags.pop(nodeid, []))
                del self.owner[nodeid]
        for p in touched:
            self.publish(p)

    def publish(self, path: str) -> None:
        diagnostics = [d for items in self.diags.values() for p, d in items if p == path]
        # One board publishes every source's diagnostics together (syntax errors too).
        board(self.ls).publish(path, TESTS, diagnostics)

    def _diagnostic(self, path: str, line: int, message: str, entry: Entry) -> types.Diagnostic:
        lines = editor_lines(self.ls, path)
        body = (lines[line] if 0 <= line < len(lines) else "").rstrip("\r\n")
        start = len(body) - len(body.lstrip())
        enc = self.ls.encoding
        return types.Diagnostic(
            range=types.Range(
                types.Position(line, from_codepoints(body, start, enc)),
                types.Position(line, from_codepoints(body, len(body), enc)),
            ),
            message=message,
            severity=types.DiagnosticSeverity.Error,
            source="twinls",
            code=entry["outcome"],
            data={"handle": entry["handle"]} if entry.get("handle") else None,
        )

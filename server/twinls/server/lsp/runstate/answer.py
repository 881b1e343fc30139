"""Server: a run's result as a run command answers it: URIs for paths, internal keys dropped."""

from __future__ import annotations

from typing import Any

from ....shared import results
from ..server import TwinLanguageServer


def public(ls: TwinLanguageServer, result: dict[str, Any]) -> dict[str, Any]:
    """The command's answer: URIs instead of paths, internal keys dropped."""
    tests = []
    for t in result["tests"]:
        entry = _located(ls, results.public(t), t)
        entry["fileUri"] = ls.uri_of(t["file"]) if t.get("file") else None
        entry["subtests"] = [
            _located(ls, {k: v for k, v in s.items() if k != "path"}, s)
            for s in t.get("subtests") or []
        ]
        tests.append(entry)
    out = {k: v for k, v in result.items() if k != "path"}
    out["uri"] = ls.uri_of(result["path"])
    out["tests"] = tests
    return out


def _located(
    ls: TwinLanguageServer, entry: dict[str, Any], source: dict[str, Any]
) -> dict[str, Any]:
    """``path``/``trace`` paths of ``source`` as URIs in ``entry``."""
    entry["uri"] = ls.uri_of(source["path"]) if source.get("path") else None
    entry["trace"] = [
        {"uri": ls.uri_of(f["path"]), "line": f["line"]} for f in source.get("trace") or []
    ]
    return entry

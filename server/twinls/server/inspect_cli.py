"""Server (the terminal's process): ``twinls run --inspect`` prints live results.

Runs in the terminal's process (the server side of a twin): it asks the
twin's ``run.inspect`` query level by level, as an editor's inspector does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from ..shared.inspect_schema import Child, Inspected

Ask = Callable[[str], Inspected]

#: Children printed per level (the rest is counted).
SHOWN = 20


def print_tree(ask: Ask, handle: str, depth: int, out: TextIO, indent: str = "    ") -> None:
    """``handle``'s object and ``depth`` levels below it, one line each."""
    answer = ask(handle)
    if answer.get("error"):
        print(f"{indent}({answer['error']})", file=out)
        if answer.get("gone"):
            return
    if "type" in answer:
        print(f"{indent}{answer['type']}  {_line(answer.get('repr', ''))}", file=out)
    for mime, data in (answer.get("mime") or {}).items():
        print(f"{indent}  [{mime}] {_mime_text(mime, data)}", file=out)
    for view in answer.get("views") or []:
        shown = _line(str(view.get("mime") or view.get("child") or view.get("error")))
        print(f"{indent}  [view {view.get('title')}] {shown}", file=out)
    _children(ask, answer, depth, out, indent + "  ")


def _children(ask: Ask, answer: Inspected, depth: int, out: TextIO, indent: str) -> None:
    children: list[Child] = [*(answer.get("attributes") or []), *(answer.get("items") or [])]
    for child in children[:SHOWN]:
        print(f"{indent}{child['name']}: {child['type']}  {_line(child['repr'])}", file=out)
        if depth > 1 and child["handle"] is not None:
            _children(ask, ask(child["handle"]), depth - 1, out, indent + "  ")
    hidden = len(children) - SHOWN + (answer.get("attributesMore") or 0)
    if hidden > 0 or answer.get("more"):
        print(f"{indent}… more", file=out)


def _line(text: str, width: int = 100) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


def _mime_text(mime: str, data: str) -> str:
    if mime.startswith("image/") and mime != "image/svg+xml":
        return f"{len(data)} characters of base64"
    return _line(data)

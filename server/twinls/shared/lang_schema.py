"""Shared (server and twin): what the language queries send back across the channel.

Every value is plain data (lists, dicts, strings, ints) so it rides as msgpack;
positions are already in the client's negotiated encoding. A location is the
same ``[path, line, start, line, end]`` list the searches use (:class:`Lines`).
"""

from __future__ import annotations

from typing import Any, TypedDict

#: ``[path, start line, start col, end line, end col]`` (0-based, client encoding).
RawRange = list[Any]


class CompletionRow(TypedDict):
    """One completion candidate (``lang.completion``)."""

    label: str
    kind: str  # jedi's type: "function", "class", "module", "instance", "keyword", ...
    detail: str  # the signature line if cheap, else the module
    sort: str  # a sort key keeping jedi's order (private names last)
    insert: str  # the text to insert (the whole name; the client replaces the typed prefix)
    range: RawRange  # the typed prefix the item replaces


class CompletionDoc(TypedDict):
    """What ``completionItem/resolve`` adds (``lang.completion_resolve``)."""

    detail: str
    markdown: str  # the signature as code, then the docstring
    doc: str  # the docstring alone (for clients without markdown)


class SignatureRow(TypedDict):
    """One signature at a call (``lang.signature_help``)."""

    label: str
    doc: str
    params: list[str]  # each parameter's text as it appears in ``label``
    active: int  # the argument the cursor is on, -1 if none


class HierarchyItem(TypedDict):
    """A function or class as a call or type hierarchy node (``lang.call_item`` & co)."""

    name: str
    kind: str  # "function", "method", "class", "module"
    detail: str  # the module and container
    path: str
    range: RawRange  # the whole definition
    selection: RawRange  # its name
    line: int  # 0-based code-point position of its name (to ask about it again)
    col: int


class IncomingRow(TypedDict):
    """A caller and the call sites in it (``lang.incoming_in``, one file per batch)."""

    caller: HierarchyItem
    ranges: list[RawRange]


class OutgoingRow(TypedDict):
    """A callee and the call sites of it in the asked function (``lang.outgoing``)."""

    callee: HierarchyItem
    ranges: list[RawRange]


class RenamePlan(TypedDict):
    """``lang.prepare_rename``: the name's range, or why it cannot be renamed."""

    range: RawRange | None
    name: str
    refused: str | None
    files: list[str]
    keys: list[list[Any]]


class SyntaxProblem(TypedDict):
    """One syntax error (``lang.syntax_errors``)."""

    range: RawRange
    message: str

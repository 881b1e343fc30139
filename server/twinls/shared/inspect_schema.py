"""Shared: the messages of inspecting a live result (server, twin, run child alike).

A run child that kept a value (an example's) or a failure (a test's traceback
with its frames) stays *parked*; each kept object has a ``handle``, a string
``"TWINPID-SUPERVISORPID-N"`` so the server knows which twin to ask and the twin
which parked child. ``twinls.inspect [handle, {offset, limit}]`` answers one
level of one object (an :class:`Inspected`); children that can be looked into
carry handles of their own.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, TypedDict

Kind = Literal["leaf", "sequence", "mapping", "set", "object", "failure", "frame"]

#: Items per page unless asked otherwise, and the most a page may hold.
PAGE = 100
MAX_PAGE = 1000


class HandleParts(NamedTuple):
    """What a handle names: the twin (its pid), the parked child, the object."""

    twin: int
    park: int
    obj: int

    @classmethod
    def parse(cls, handle: object) -> HandleParts:
        if not isinstance(handle, str):
            raise ValueError(f"a handle is a string, got {handle!r}")
        try:
            twin, park, obj = (int(p) for p in handle.split("-"))
        except ValueError:
            raise ValueError(f"not a twinls handle: {handle!r}") from None
        return cls(twin, park, obj)

    def __str__(self) -> str:
        return f"{self.twin}-{self.park}-{self.obj}"


class Child(TypedDict):
    """One attribute, item or frame of an inspected object."""

    name: str  # attribute name, index, a key's repr, or a frame's place
    handle: str | None  # None: a plain value (number, short string) with nothing inside
    type: str
    repr: str  # cut to a line's worth
    kind: Kind


class View(TypedDict, total=False):
    """A project's own view of its object (``_twinls_views_`` or ``@view``)."""

    title: str
    mime: dict[str, str]
    child: Child | None
    error: str | None


class Location(TypedDict, total=False):
    path: str  # from the twin; the server sends ``uri`` instead
    uri: str
    line: int  # 0-based


class Inspected(TypedDict, total=False):
    """One level of a live object: the answer of ``twinls.inspect``."""

    handle: str
    type: str
    repr: str
    cut: bool  # the repr was cut
    kind: Kind
    length: int | None  # len(), when the object has one
    attributes: list[Child]
    attributesMore: int  # attributes not listed (beyond the limit)
    items: list[Child]
    offset: int
    more: bool  # items after this page
    mime: dict[str, str]  # mime type -> text (base64 for binary types)
    mimeCut: list[str]  # mime types left out: bigger than the limit
    views: list[View]
    location: Location | None  # a frame's place (the server sends ``uri``)
    gone: bool  # the parked child is no longer there (edit, timeout, new run, limit)
    error: str | None


class InspectRequest(TypedDict):
    """Twin → parked run child (through its supervisor)."""

    k: Literal["inspect"]
    handle: str
    offset: int
    limit: int


class ParkedInfo(TypedDict):
    """What a run child says when it parks (in its ``end``)."""

    pid: int  # the executor that holds the objects
    paths: dict[str, int]  # workspace file -> CRC32 of the text it imported
    rss: int  # resident memory in KiB when it parked


class ParkedChild(TypedDict):
    """One parked run child, as ``twinls.parked`` lists it."""

    twin: int  # slot
    pid: int  # the executor's
    supervisor: int
    key: str
    paths: list[str]
    rss: int
    idle: float  # seconds since it parked or was last asked

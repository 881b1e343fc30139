"""Server: file URIs and paths, built from the bytes of the path.

A file name need not be UTF-8 (``os.listdir`` hands it over with
``surrogateescape``): the URI percent-encodes the path's own bytes, and the
way back decodes them with the file system's encoding, so any name on disk
round-trips and JSON only ever carries ASCII.
"""

from __future__ import annotations

import os
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

#: Bytes a path keeps as they are in a URI (RFC 3986 unreserved, plus the separator).
SAFE = b"/-._~"


def uri_of(path: str) -> str:
    """``file://`` URI of an absolute path; anything else is returned as it is."""
    if not os.path.isabs(path):
        return path
    return "file://" + quote_from_bytes(os.fsencode(path), safe=SAFE)


def path_of(uri: str) -> str:
    """The absolute path of a ``file:`` URI; any other URI is its own key."""
    if not uri.startswith("file:"):
        return uri
    parts = urlsplit(uri)
    raw = unquote_to_bytes(parts.path)
    if not raw:
        return uri
    path = os.fsdecode(raw)
    if parts.netloc and parts.netloc != "localhost":  # a UNC-style host: keep it visible
        path = f"//{parts.netloc}{path}"
    return os.path.abspath(path)


def is_file_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith("file:")


def inside(path: str, roots: list[str]) -> bool:
    """Is ``path`` one of ``roots`` or below one (symlinks resolved on both sides)?"""
    real = os.path.realpath(path)
    for root in roots:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
            return True
    return False

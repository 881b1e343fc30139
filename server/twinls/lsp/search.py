"""(placeholder: filled in by its feature's work)"""

from __future__ import annotations

from .server import TwinLanguageServer


def register(ls: TwinLanguageServer) -> None:
    pass

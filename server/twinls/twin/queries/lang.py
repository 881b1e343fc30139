"""Twin: the language queries (definition, completion, rename, hierarchies, syntax).

Importing this module is what registers them (the twin's module list names it).
Each is an ordinary interactive query like ``search.hover``: short, against
the overlay, checking ``ctx`` for a cancel between steps.
"""

from __future__ import annotations

from . import calls, completion, definition, highlight, rename, signature, syntax, type_hierarchy

__all__ = [
    "calls",
    "completion",
    "definition",
    "highlight",
    "rename",
    "signature",
    "syntax",
    "type_hierarchy",
]

"""Twin: the interpreter parts of the digest a kept search answer is filed under.

Why only these: the server hashes the texts itself (``shared/digest.py``), from
its mirror of the overlay; what jedi reads outside the workspace it can only
learn from the twin's interpreter: its version, executable, ``sys.path`` and
jedi's version (typeshed ships in it). The server asks once per twin start and
composes the digest from this, the ``sys.path`` entries' mtimes (read by the
server at each digest: a package installed meanwhile changes them) and its
hashes.
"""

from __future__ import annotations

import sys

import jedi

from ...shared.schema import InterpreterParts


def interpreter() -> InterpreterParts:
    """The interpreter as jedi sees it from here."""
    return {
        "version": sys.version,
        "executable": sys.executable,
        "jedi": jedi.__version__,
        "path": list(sys.path),
    }

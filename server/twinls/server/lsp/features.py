"""Server: companion mode, the ``features`` setting that turns providers off.

twinls can sit beside Pylance or basedpyright: ``initializationOptions.features``
maps a feature name to ``false`` to turn it off (``{"completion": false,
"hover": false}``). A feature turned off is not announced in the server's
capabilities and its handlers are removed, so the editor never asks twinls for
it and never shows doubled answers. Names not listed stay on.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from .server import TwinLanguageServer

log = logging.getLogger(__name__)

#: Feature name (the setting's key) -> the LSP methods it answers.
FEATURES: dict[str, tuple[str, ...]] = {
    "definition": (types.TEXT_DOCUMENT_DEFINITION,),
    "declaration": (types.TEXT_DOCUMENT_DECLARATION,),
    "typeDefinition": (types.TEXT_DOCUMENT_TYPE_DEFINITION,),
    "completion": (types.TEXT_DOCUMENT_COMPLETION, types.COMPLETION_ITEM_RESOLVE),
    "signatureHelp": (types.TEXT_DOCUMENT_SIGNATURE_HELP,),
    "documentHighlight": (types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT,),
    "rename": (types.TEXT_DOCUMENT_RENAME, types.TEXT_DOCUMENT_PREPARE_RENAME),
    "callHierarchy": (
        types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY,
        types.CALL_HIERARCHY_INCOMING_CALLS,
        types.CALL_HIERARCHY_OUTGOING_CALLS,
    ),
    "typeHierarchy": (
        types.TEXT_DOCUMENT_PREPARE_TYPE_HIERARCHY,
        types.TYPE_HIERARCHY_SUPERTYPES,
        types.TYPE_HIERARCHY_SUBTYPES,
    ),
    "hover": (types.TEXT_DOCUMENT_HOVER,),
    "references": (types.TEXT_DOCUMENT_REFERENCES,),
    "implementation": (types.TEXT_DOCUMENT_IMPLEMENTATION,),
    "documentSymbol": (types.TEXT_DOCUMENT_DOCUMENT_SYMBOL,),
    "workspaceSymbol": (types.WORKSPACE_SYMBOL,),
    "codeLens": (types.TEXT_DOCUMENT_CODE_LENS,),
    "codeAction": (types.TEXT_DOCUMENT_CODE_ACTION,),  # Inspect the failure (lsp/inspect.py)
    "syntaxDiagnostics": (),  # published, not requested: server/lsp/diagnostics.py checks it
}


def off(options: dict[str, Any]) -> set[str]:
    """The feature names the options turn off (``features: {name: false}``)."""
    wanted = options.get("features")
    if not isinstance(wanted, dict):
        return set()
    return {name for name, on in wanted.items() if on is False and name in FEATURES}


def enabled(ls: TwinLanguageServer, name: str) -> bool:
    return name not in off(ls.options)


def apply(ls: TwinLanguageServer) -> list[str]:
    """At ``initialize``, before capabilities are built: drop the handlers turned off.

    Returns the unknown names in the setting (the caller warns about them).
    """
    wanted = ls.options.get("features")
    unknown = sorted(set(wanted) - set(FEATURES)) if isinstance(wanted, dict) else []
    features = ls.protocol.fm.features
    for name in off(ls.options):
        for method in FEATURES[name]:
            features.pop(method, None)
    if unknown:
        log.warning("unknown features in the 'features' setting: %s", ", ".join(unknown))
    return unknown

"""The language features answer while a long search runs, and the features setting.

Order, not milliseconds: every interactive request below is answered while a
references search over a big workspace (files like test_search_stream.py's, 200
of them) is still streaming. On this branch the search hands the twin's worker back between
chunks; the interactive lane (issue 10) makes that a guarantee.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lsp_harness import lsp_session
from test_search_stream import USES, refs_params, send, streamed, write_big

#: More files than test_search_stream's workspace: a dozen interactive requests
#: must all be answered while the first (cold) search of the session still runs.
FILES = 200


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    return write_big(tmp_path_factory.mktemp("big_lang"), FILES)


async def test_interactive_requests_are_answered_during_a_long_search(big: Path):
    async with lsp_session(big) as client:
        user = client.uri("user_000.py")
        client.open("user_000.py")
        refs = send(client, refs_params(client, "part"))
        await client.wait_for(lambda: streamed(client, "part"), what="a first batch")
        at = {"text_document": types.TextDocumentIdentifier(uri=user)}
        target = types.Position(4, 5)  # `target(0)` in use_000
        answers = [
            await client.text_document_definition_async(
                types.DefinitionParams(**at, position=target)
            ),
            await client.text_document_completion_async(
                types.CompletionParams(**at, position=types.Position(4, 7))
            ),
            await client.text_document_signature_help_async(
                types.SignatureHelpParams(**at, position=types.Position(4, 11))
            ),
            await client.text_document_document_highlight_async(
                types.DocumentHighlightParams(**at, position=target)
            ),
            await client.text_document_prepare_rename_async(
                types.PrepareRenameParams(**at, position=target)
            ),
            await client.text_document_prepare_call_hierarchy_async(
                types.CallHierarchyPrepareParams(**at, position=target)
            ),
            await client.text_document_prepare_type_hierarchy_async(
                types.TypeHierarchyPrepareParams(**at, position=types.Position(0, 26))
            ),
        ]
        definition, completion, signature, highlight, rename, calls, kinds = answers
        more = [
            await client.text_document_declaration_async(
                types.DeclarationParams(**at, position=target)
            ),
            await client.text_document_type_definition_async(
                types.TypeDefinitionParams(**at, position=types.Position(5, 6))
            ),
            await client.completion_item_resolve_async(
                next(i for i in completion.items if i.label == "target")
            ),
            await client.call_hierarchy_outgoing_calls_async(
                types.CallHierarchyOutgoingCallsParams(
                    item=(
                        await client.text_document_prepare_call_hierarchy_async(
                            types.CallHierarchyPrepareParams(**at, position=types.Position(3, 5))
                        )
                    )[0]
                )
            ),
            await client.type_hierarchy_supertypes_async(
                types.TypeHierarchySupertypesParams(item=kinds[0])
            ),
        ]
        assert not refs.done(), "an interactive request waited for the whole search"
        declaration, type_definition, resolved, outgoing, supers = more
        assert [(d.range.start.line, d.range.start.character) for d in declaration] == [(0, 16)]
        assert [d.uri.rsplit("/", 1)[1] for d in type_definition] == ["hub.py"]
        assert resolved.detail == "def target(value=None)"
        assert {c.to.name for c in outgoing} == {"target", "Other"}
        assert [s.name for s in supers] in ([], ["object"])
        assert [loc.uri.rsplit("/", 1)[1] for loc in definition] == ["hub.py"]
        labels = [i.label for i in completion.items]
        assert "target" in labels
        assert signature.signatures[0].label == "target(value=None)"
        assert len(highlight) == 1 + USES  # the import and every call
        assert rename.placeholder == "target"
        assert [c.name for c in calls] == ["target"]
        assert [k.name for k in kinds] == ["Other"]
        assert not await refs


async def test_features_setting_turns_providers_off(tmp_path: Path):
    (tmp_path / "m.py").write_text("def f(x):\n    return x\n\n\nf(1)\n")
    off = {"completion": False, "hover": False, "callHierarchy": False, "rename": False}
    async with lsp_session(tmp_path, {"features": {**off, "nonsense": False}}) as client:
        caps = client.init_result.capabilities
        assert caps.completion_provider is None and caps.hover_provider is None
        assert caps.call_hierarchy_provider is None and caps.rename_provider is None
        # What was not named stays on.
        assert caps.definition_provider and caps.type_hierarchy_provider
        assert caps.references_provider and caps.signature_help_provider
        at = {
            "text_document": types.TextDocumentIdentifier(uri=client.uri("m.py")),
            "position": types.Position(4, 0),
        }
        client.open("m.py")
        with pytest.raises(JsonRpcException):  # not there at all: no doubled answers
            await client.text_document_completion_async(types.CompletionParams(**at))
        found = await client.text_document_definition_async(types.DefinitionParams(**at))
        assert [(loc.range.start.line, loc.range.start.character) for loc in found] == [(0, 4)]
    async with lsp_session(tmp_path) as client:  # and by default everything is on
        caps = client.init_result.capabilities
        assert caps.completion_provider.resolve_provider and caps.rename_provider
        assert caps.call_hierarchy_provider and caps.hover_provider


async def test_incoming_calls_stream_and_cancel(big: Path):
    async with lsp_session(big) as client:
        at = {"text_document": types.TextDocumentIdentifier(uri=client.uri("hub.py"))}
        [item] = await client.text_document_prepare_call_hierarchy_async(
            types.CallHierarchyPrepareParams(**at, position=types.Position(0, 5))
        )
        params = types.CallHierarchyIncomingCallsParams(item=item, partial_result_token="in")
        calls = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.CALL_HIERARCHY_INCOMING_CALLS, params, msg_id="calls"
            )
        )
        await client.wait_for(lambda: client.progress_values.get("in"), what="a first batch")
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="calls"))
        with pytest.raises(JsonRpcException) as err:
            await calls
        assert err.value.code == -32800
        # Not cancelled: every caller (use_0 … use_199), twelve calls each, streamed.
        params = types.CallHierarchyIncomingCallsParams(item=item, partial_result_token="all")
        assert not await client.call_hierarchy_incoming_calls_async(params)
        rows = [c for batch in client.progress_values["all"] for c in batch]
        assert sorted(c["from"]["name"] for c in rows) == sorted(f"use_{i}" for i in range(FILES))
        assert all(len(c["fromRanges"]) == USES for c in rows)


def test_every_provider_can_be_turned_off():
    """Every request handler the server registers is named by some feature (a canary
    for providers added later without a ``features`` name)."""
    from twinls.server.lsp.app import create_server
    from twinls.server.lsp.features import FEATURES

    named = {m for methods in FEATURES.values() for m in methods}
    registered = set(create_server().protocol.fm.features)
    plumbing = {
        m
        for m in registered
        if m in (types.INITIALIZE, types.INITIALIZED, types.SHUTDOWN)
        or m.startswith(("textDocument/did", "workspace/did"))
    }
    assert registered - plumbing == named

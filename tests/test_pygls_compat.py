"""Canary: the pygls internals twinls's protocol subclass leans on (server/lsp/server.py,
server/lsp/framing.py). A pygls release that moves one fails here, by name, before any
session misbehaves. pyproject pins pygls < 3."""

from __future__ import annotations

import inspect

from lsprotocol import types
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol

from twinls.server.lsp.app import create_server
from twinls.server.lsp.server import TwinProtocol


def test_private_hooks_are_where_the_subclass_expects_them():
    params = list(inspect.signature(JsonRPCProtocol._execute_handler).parameters)
    assert params == ["self", "msg_id", "handler", "callback", "args", "kwargs"]
    assert list(inspect.signature(JsonRPCProtocol._send_response).parameters)[:4] == [
        "self",
        "msg_id",
        "result",
        "error",
    ]
    assert callable(JsonRPCProtocol._send_data)
    for name in ("lsp_initialize", "lsp_shutdown", "lsp_text_document__did_open"):
        method = getattr(LanguageServerProtocol, name)
        assert inspect.isgeneratorfunction(method), name
        assert getattr(TwinProtocol, name).method_name == method.method_name


def test_the_protocol_keeps_its_futures_and_flags_as_attributes():
    ls = create_server(pool_size=1)
    protocol = ls.protocol
    assert isinstance(protocol, TwinProtocol)
    assert protocol._request_futures == {}
    assert protocol._shutdown is False
    assert hasattr(protocol, "msg_id")
    assert types.INITIALIZE in {
        getattr(getattr(TwinProtocol, n), "method_name", None) for n in dir(TwinProtocol)
    }


def test_progress_tokens_are_a_dict_of_futures_that_a_cancel_cancels():
    """server/lsp/progress.py registers a made bar's token before the client hears of it."""
    from pygls.progress import Progress

    source = inspect.getsource(LanguageServerProtocol.lsp_work_done_progress_cancel)
    assert "self.progress.tokens.get(params.token)" in source and ".cancel()" in source

    assert Progress(None).tokens == {}  # type: ignore[arg-type]


def test_the_compat_helpers_reach_what_they_name():
    """pygls_compat: a raw message goes out framed; the pending table is counted."""
    from twinls.server.lsp import pygls_compat

    protocol = create_server().protocol
    sent: list = []
    protocol._send_data = sent.append  # the transport's write, observed
    pygls_compat.send_raw(protocol, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700}})
    assert sent == [{"jsonrpc": "2.0", "id": None, "error": {"code": -32700}}]
    assert pygls_compat.pending_requests(protocol) == 0

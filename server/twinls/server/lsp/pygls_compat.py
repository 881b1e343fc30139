"""Server: pygls's private API used outside the protocol subclass, in one place.

``TwinProtocol`` (``server.py``) overrides pygls's built-in handlers by their private
names; the two other reaches into pygls are here: writing a raw JSON-RPC message
(an error with ``"id": null``, which pygls's typed messages cannot spell) and the
table of requests pygls still tracks (``twinls.status``'s ``pending``).
``tests/test_pygls_compat.py`` is the canary for all of them; pyproject bounds
pygls below 3.
"""

from __future__ import annotations

from typing import Any

from pygls.protocol import JsonRPCProtocol


def send_raw(protocol: JsonRPCProtocol, message: dict[str, Any]) -> None:
    """Write ``message`` as it is (framed by the protocol's writer)."""
    protocol._send_data(message)


def pending_requests(protocol: JsonRPCProtocol) -> int:
    """Requests and notifications whose futures pygls still holds."""
    return len(protocol._request_futures)

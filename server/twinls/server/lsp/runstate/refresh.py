"""Server: ``workspace/codeLens/refresh``, at most every ``REFRESH_EVERY`` seconds."""

from __future__ import annotations

import asyncio

from ..server import TwinLanguageServer

REFRESH_EVERY = 0.25  # seconds between lens refreshes while results stream in


class LensRefresh:
    """Asks the client to re-request lenses, if it can; one pending request at a time."""

    def __init__(self, ls: TwinLanguageServer) -> None:
        self.ls = ls
        self._pending: asyncio.TimerHandle | None = None

    def schedule(self, now: bool = False) -> None:
        caps = self.ls.client_capabilities.workspace
        lens_caps = caps.code_lens if caps else None
        if not (lens_caps and lens_caps.refresh_support):
            return
        if self._pending is not None and not now:
            return
        if self._pending is not None:
            self._pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending = loop.call_later(0 if now else REFRESH_EVERY, self._send)

    def _send(self) -> None:
        self._pending = None
        try:
            self.ls.workspace_code_lens_refresh(None)
        except Exception:  # a closing connection: nothing to refresh
            pass

"""Server: LSP 3.17 progress, work-done bars and partial-result batches, from any thread.

The twin's batches arrive on a channel reader thread; everything that writes to
the client is marshalled onto the event loop here, and ``begin`` always goes
out before any ``report`` (Neovim 0.7 crashes on a report for an unknown token).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types

from .server import TwinLanguageServer

log = logging.getLogger(__name__)

_tokens = itertools.count(1)


def client_creates_progress(ls: TwinLanguageServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.work_done_progress)


class WorkDone:
    """One progress bar: the client's ``workDoneToken``, or one the server creates."""

    def __init__(self, ls: TwinLanguageServer, token: types.ProgressToken | None) -> None:
        self.ls = ls
        self.token = token
        self.loop = asyncio.get_running_loop()
        self._ended = False

    @classmethod
    async def begin(
        cls,
        ls: TwinLanguageServer,
        token: types.ProgressToken | None,
        title: str,
        *,
        create: bool = True,
        cancellable: bool = True,
        message: str | None = None,
    ) -> WorkDone:
        """Start a bar. With no token and a willing client, create one (as pyright does)."""
        if token is None and create and client_creates_progress(ls):
            candidate = f"twinls-{next(_tokens)}"
            # The token's cancel future exists before the client hears of the token:
            # pygls's create_async registers it only once the answer is processed, and
            # a cancel read in between would be dropped ("unknown token").
            progress = ls.work_done_progress
            progress.tokens[candidate] = concurrent.futures.Future()  # pygls's own kind
            try:
                await asyncio.wait_for(
                    ls.protocol.send_request_async(
                        types.WINDOW_WORK_DONE_PROGRESS_CREATE,
                        types.WorkDoneProgressCreateParams(token=candidate),
                    ),
                    10,
                )
                token = candidate
            except Exception as exc:  # the client said no: work goes on without a bar
                progress.tokens.pop(candidate, None)
                log.info("client refused progress token: %s", exc)
        wd = cls(ls, token)
        if token is not None:
            ls.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=title, cancellable=cancellable, message=message, percentage=0
                ),
            )
        return wd

    def on_cancel(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` when the user cancels this bar (window/workDoneProgress/cancel)."""
        if self.token is None:
            return
        fut = self.ls.work_done_progress.tokens.get(self.token)
        if fut is not None:
            fut.add_done_callback(lambda f: callback() if f.cancelled() else None)

    def report(self, done: int, total: int, message: str | None = None) -> None:
        """Thread-safe: percentage and an "N/M" style message."""
        if self.token is None or self._ended:
            return
        pct = int(100 * done / total) if total else None
        value = types.WorkDoneProgressReport(message=message, percentage=pct)
        self.loop.call_soon_threadsafe(self._send_report, value)

    def _send_report(self, value: types.WorkDoneProgressReport) -> None:
        if not self._ended:
            self.ls.work_done_progress.report(self.token, value)  # type: ignore[arg-type]

    def end(self, message: str | None = None) -> None:
        if self.token is None or self._ended:
            return
        self._ended = True
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.ls.work_done_progress.tokens.pop(self.token, None)


class PartialResults:
    """Sends batches for a request's ``partialResultToken`` as ``$/progress``."""

    def __init__(self, ls: TwinLanguageServer, token: types.ProgressToken | None) -> None:
        self.ls = ls
        self.token = token
        self.loop = asyncio.get_running_loop()
        self.sent = 0

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def send(self, items: list[Any]) -> None:
        """Thread-safe; ``items`` are lsprotocol objects (or plain JSON values)."""
        if self.token is None or not items:
            return
        self.sent += len(items)
        self.loop.call_soon_threadsafe(
            self.ls.progress, types.ProgressParams(token=self.token, value=items)
        )

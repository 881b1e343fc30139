"""Server: the language server; owns the documents, forwards every edit, awaits the twins.

Handlers here are thin: document sync turns notifications into edit entries for
the pool; request handlers await a twin's promise. Nothing in this process runs
jedi or user code, so the editor's messages are always read promptly.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import (
    FeatureNotificationError,
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from ... import __version__
from ...shared.schema import NoticeCode
from ...shared.textbuf import UTF16
from ..groups import Choice
from ..interpreter import choices_for
from ..pool import TwinPool
from ..promise import Promise, TwinUnavailable
from ..stubs import Query
from . import options, pygls_compat, uris

log = logging.getLogger(__name__)
T = TypeVar("T")
P = TypeVar("P")


class TwinProtocol(LanguageServerProtocol):
    """pygls's protocol without its own copy of the documents.

    pygls keeps every document in its workspace and re-splits it on each change;
    the pool's mirror is the one copy here, so those built-ins only dispatch.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls drops a request whose params do not parse; answer it with the error."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if data.get("method") == types.TEXT_DOCUMENT_DID_CHANGE:
                self._server.lost_track(data, f"an invalid didChange ({exc.__cause__ or exc})")
            if "id" in data and "method" in data:
                cause = exc.__cause__
                error = JsonRpcInvalidParams(
                    f"invalid params for {data['method']}: {cause or exc}".splitlines()[0]
                )
                self._send_response(data["id"], error=error.to_response_error())
            raise

    def handle_message(self, message: Any) -> None:
        """Edits skip pygls's generic dispatch (futures, a context copy, a uuid each).

        A keystroke is the hottest message there is; going straight to the sync
        handler keeps the server far ahead of any typist or paste. Before
        ``initialize``, a request gets ``ServerNotInitialized`` and a notification
        other than ``exit`` is dropped (LSP's rule; pygls dispatches them).
        """
        method = getattr(message, "method", None)
        if not self._initialize_seen and method not in (types.INITIALIZE, types.EXIT):
            if method is not None and getattr(message, "id", None) is not None:
                self._send_response(
                    message.id,
                    error=JsonRpcServerNotInitialized(
                        f"{method} before initialize"
                    ).to_response_error(),
                )
            return
        if type(message) is types.DidChangeTextDocumentNotification and not self._shutdown:
            handler = self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)
            if handler is not None:
                try:
                    handler(message.params)
                except Exception as exc:
                    log.exception("didChange failed")
                    self._server._report_server_error(exc, FeatureNotificationError)
                return
        super().handle_message(message)

    _initialize_seen = False

    def lsp_initialize(self, params):  # type: ignore[override]
        """One ``initialize`` per session: a second would build a second pool."""
        if self._initialize_seen:
            raise JsonRpcInvalidRequest(
                "initialize was already received; restart the server to initialize again"
            )
        self._initialize_seen = True
        return (yield from super().lsp_initialize(params))

    def lsp_shutdown(self, *args):  # type: ignore[override]
        """pygls's, but cancelling from a copy: a cancel's callback edits the table."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):  # type: ignore[override]
        """pygls keeps a future per notification (didOpen, didClose) forever: drop it when done."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(lambda _f: self._forget(msg_id, _f))

    def _forget(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    def lsp_text_document__did_open(self, params):  # type: ignore[override]
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield h, (params,), None

    def lsp_text_document__did_change(self, params):  # type: ignore[override]
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield h, (params,), None

    def lsp_text_document__did_close(self, params):  # type: ignore[override]
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield h, (params,), None


# The decorator in pygls registers the built-ins by method name on the class.
for _name in (
    "lsp_initialize",
    "lsp_shutdown",
    "lsp_text_document__did_open",
    "lsp_text_document__did_change",
    "lsp_text_document__did_close",
):
    getattr(TwinProtocol, _name).method_name = getattr(LanguageServerProtocol, _name).method_name


class TwinLanguageServer(LanguageServer):
    def __init__(self, pool_size: int | None = None, python: str | None = None) -> None:
        super().__init__(
            "twinls",
            __version__,
            protocol_cls=TwinProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.pool: TwinPool | None = None
        self.pool_size = pool_size
        self.python_arg = python  # `twinls --python PATH`
        self.options: dict[str, Any] = {}
        self.encoding: str = UTF16
        self.loop: asyncio.AbstractEventLoop | None = None
        #: Called with every edit entry once applied (on the event loop, in order).
        self.edit_listeners: list[Callable[[dict[str, Any]], None]] = []
        #: Called at ``shutdown``, before the pool closes (live tests write their map).
        self.shutdown_hooks: list[Callable[[], None]] = []
        #: Documents whose text we lost after an invalid edit, until the next open or save.
        self.untracked: set[str] = set()
        #: query name -> pids of the twin processes that were sent it (:meth:`once_per_twin`).
        self._sent_once: dict[str, set[int]] = {}
        self._parts: dict[type, Any] = {}

    def part(self, cls: type[P]) -> P:
        """This server's one ``cls(self)``: a feature's state (its runs, its running searches)."""
        found = self._parts.get(cls)
        if found is None:
            found = self._parts[cls] = cls(self)
        return found

    # -- paths and positions ----------------------------------------------------------

    @staticmethod
    def path_of(uri: str) -> str:
        """Overlay key of a document: its file path, or the URI itself if not a file."""
        return uris.path_of(uri)

    @staticmethod
    def uri_of(path: str) -> str:
        return uris.uri_of(path)

    def workspace_file(self, uri: Any) -> str:
        """The path of a ``file:`` URI under the workspace roots, else an error.

        Run commands take only these (over stdio too): a run executes the file.
        """
        roots = self.pool.roots if self.pool is not None else self.roots()
        if uris.is_file_uri(uri):
            path = self.path_of(uri)
            if uris.inside(path, roots):
                return path
        raise JsonRpcInvalidParams(f"twinls: {uri!r} is not a file under the workspace roots")

    def lost_track(self, data: dict[str, Any], reason: str) -> None:
        """A didChange that cannot be applied: stop trusting our copy of that document."""
        params = data.get("params")
        doc = params.get("textDocument") if isinstance(params, dict) else None
        uri = doc.get("uri") if isinstance(doc, dict) else None
        if isinstance(uri, str):
            from . import sync

            sync.lose_track(self, self.path_of(uri), reason)

    def roots(self) -> list[str]:
        ws = self.workspace
        roots = [self.path_of(f.uri) for f in ws.folders.values()] if ws.folders else []
        if not roots and ws.root_uri:
            roots = [self.path_of(ws.root_uri)]
        return roots or [os.getcwd()]

    # -- the twins --------------------------------------------------------------------

    def notice(self, level: str, message: str, code: NoticeCode | None = None) -> None:
        """Show a message from any thread.

        ``code`` says what it is about (a client chooses its buttons by it: VS Code
        offers *Restart Twin* for ``twin``, *Open Settings* for ``settings`` and
        ``interpreter``); it rides as an extra ``code`` field of ``window/showMessage``.
        """
        kind = {"error": types.MessageType.Error, "warning": types.MessageType.Warning}.get(
            level, types.MessageType.Info
        )
        params: dict[str, Any] = {"type": int(kind), "message": message}
        if code is not None:
            params["code"] = code
        note = {"jsonrpc": "2.0", "method": types.WINDOW_SHOW_MESSAGE, "params": params}
        if self.loop is not None:
            self.loop.call_soon_threadsafe(pygls_compat.send_raw, self.protocol, note)

    def make_pool(self) -> None:
        """Build the pool (no twin yet) at ``initialize``, so no early edit is dropped."""
        self.loop = asyncio.get_running_loop()
        checked = options.check(self.options, self.pool_size)
        for problem in checked.problems:
            log.warning("option: %s", problem)
        if checked.problems:
            self.notice("warning", "twinls: " + "; ".join(checked.problems), code="settings")
        opts = self.options = checked.values
        settings = {k: opts[k] for k in options.TWIN_SETTINGS if opts.get(k) is not None}
        self.pool = TwinPool(
            self.roots(),
            size=opts["pool"],
            settings=settings,
            notice=self.notice,
            heartbeat=opts["heartbeat"],
            hang_after=opts["hangAfter"],
            max_restarts=opts["maxRestarts"],
            worker_timeout=opts["workerTimeout"],
            interpreters=self.choose_interpreters(self.options),
            remotes=opts["remotes"],
            lane=opts.get("interactiveTwin", True),
            pause=opts["interactivePause"],
        )
        self.pool.mirror.max_file_size = opts["maxFileSize"]

    def choose_interpreters(self, options: dict[str, Any]) -> dict[str, Choice]:
        """Each workspace folder's interpreter from these options (``server/interpreter.py``
        says the order), or the error its setting makes."""
        return choices_for(self.roots(), options, self.python_arg)

    def start_twins(self) -> None:
        """Fork the twins (at ``initialized``); they get a snapshot of what is open."""
        if self.pool is None:
            self.make_pool()
        assert self.pool is not None
        self.pool.start(wait=False)

    async def twin_pool(self, timeout: float = 60.0) -> TwinPool:
        """The pool, once every folder's interpreter has a twin up (or cannot have one)."""
        pool = self.pool
        if pool is None:
            raise TwinUnavailable("the server is not initialized yet")
        if not pool.ready.is_set():
            await asyncio.to_thread(pool.ready.wait, timeout)
        return pool

    async def ask(self, target: Query[T] | str, *args: Any) -> T:
        """Call a query (a typed stub's, ``server/stubs.py``) in a twin and await its value.

        A cancelled request cancels it.
        """
        pool = await self.twin_pool()
        return await self.await_promise(pool.call(target, *args))

    def once_per_twin(self, pool: TwinPool, query: Query[Any]) -> None:
        """Send ``query`` (a warm-up) to every live twin process that has not had it yet.

        By pid: a restarted twin is a new process and is warmed again.
        """
        sent = self._sent_once.setdefault(query.name, set())
        for twin in pool.live():
            if twin.pid not in sent:
                sent.add(twin.pid)
                pool.call(query, twin=twin)

    @staticmethod
    async def await_promise(promise: Promise) -> Any:
        try:
            return await promise
        except asyncio.CancelledError:
            promise.cancel()
            raise

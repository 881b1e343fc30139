"""Server: document sync; every notification becomes one edit entry, applied and forwarded.

These handlers are synchronous on purpose: pygls runs them as they are read, so
entries keep the editor's order without any await in between.
"""

from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder

from ...shared.overlay import Divergence, decode_source
from ...shared.textbuf import Edit
from . import app, features
from .kept import Kept
from .server import TwinLanguageServer

log = logging.getLogger(__name__)

WATCH_ID = "twinls-watch-python"


@app.feature(types.INITIALIZE)
def initialize(ls: TwinLanguageServer, params: types.InitializeParams) -> None:
    opts = params.initialization_options
    ls.options = dict(opts) if isinstance(opts, dict) else {}
    features.apply(ls)  # companion mode: providers turned off are never announced
    ls.client_name = params.client_info.name if params.client_info else None  # lens icons
    # The same choice pygls announces in the capabilities it is about to send.
    enc = ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities)
    ls.encoding = getattr(enc, "value", enc)
    ls.make_pool()


@app.feature(types.INITIALIZED)
def initialized(ls: TwinLanguageServer, params: types.InitializedParams) -> None:
    # Synchronous on purpose: an async handler runs as a task, and the didOpen
    # that editors send right behind `initialized` (Neovim 0.11 does) would be
    # read and dropped before the pool exists.
    ls.start_twins()
    ls.part(Kept).start(ls.pool)  # the server's hashes of the workspace, while twins come up
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps else None
    if watched is not None and watched.dynamic_registration:
        asyncio.ensure_future(register_watcher(ls))


@app.feature(types.SHUTDOWN)
def shutdown(ls: TwinLanguageServer, params: None) -> None:
    for hook in ls.shutdown_hooks:
        try:
            hook()
        except Exception:  # one feature's failure never stops the shutdown
            log.exception("shutdown hook %r failed", hook)
    if ls.pool is not None:
        ls.pool.close()


@app.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: TwinLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    ls.untracked.discard(ls.path_of(doc.uri))
    apply(
        ls,
        {"op": "open", "path": ls.path_of(doc.uri), "text": doc.text, "version": doc.version},
    )


@app.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: TwinLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    path = ls.path_of(params.text_document.uri)
    version = params.text_document.version
    pool = ls.pool
    doc = pool.mirror.docs.get(path) if pool is not None else None
    if doc is None:
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Warning,
                message=f"twinls: didChange for {params.text_document.uri}, which is not open; "
                "ignored (open it first)",
            )
        )
        return
    # One entry per change, each read against the text the previous one left
    # (the mirror's buffer is updated in place by ``apply``).
    buffer = doc.buffer
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            r = change.range
            sl, sc = buffer.client_position(r.start.line, r.start.character, ls.encoding)
            el, ec = buffer.client_position(r.end.line, r.end.character, ls.encoding)
            if (el, ec) < (sl, sc):
                sl, sc, el, ec = el, ec, sl, sc
            edit = Edit(sl, sc, el, ec, change.text)
        else:
            last = len(buffer.lines) - 1
            edit = Edit(0, 0, last, len(buffer.lines[last].rstrip("\r\n")), change.text)
        apply(ls, {"op": "change", "path": path, "version": version, "edits": [edit.as_list()]})


@app.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: TwinLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.untracked.discard(ls.path_of(params.text_document.uri))
    apply(ls, {"op": "close", "path": ls.path_of(params.text_document.uri)})


@app.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: TwinLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    path = ls.path_of(params.text_document.uri)
    if path in ls.untracked:
        regain_track(ls, path, params.text)
        return
    apply(ls, {"op": "save", "path": path})


@app.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched(ls: TwinLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
    ops = {
        types.FileChangeType.Created: "created",
        types.FileChangeType.Changed: "changed",
        types.FileChangeType.Deleted: "deleted",
    }
    for ev in params.changes:
        apply(ls, {"op": ops[ev.type], "path": ls.path_of(ev.uri)})


@app.feature(types.WORKSPACE_DID_DELETE_FILES)
def deleted(ls: TwinLanguageServer, params: types.DeleteFilesParams) -> None:
    for f in params.files:
        apply(ls, {"op": "deleted", "path": ls.path_of(f.uri)})


@app.feature(types.WORKSPACE_DID_CREATE_FILES)
def created(ls: TwinLanguageServer, params: types.CreateFilesParams) -> None:
    for f in params.files:
        apply(ls, {"op": "created", "path": ls.path_of(f.uri)})


@app.feature(types.WORKSPACE_DID_RENAME_FILES)
def renamed(ls: TwinLanguageServer, params: types.RenameFilesParams) -> None:
    for f in params.files:
        apply(ls, {"op": "deleted", "path": ls.path_of(f.old_uri)})
        apply(ls, {"op": "created", "path": ls.path_of(f.new_uri)})


async def register_watcher(ls: TwinLanguageServer) -> None:
    reg = types.Registration(
        id=WATCH_ID,
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*.py")]
        ),
    )
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[reg]))
    except Exception as exc:  # a client may refuse; sync from the editor still works
        log.warning("file watcher registration refused: %s", exc)


def lose_track(ls: TwinLanguageServer, path: str, reason: str) -> None:
    """An edit we cannot apply: drop our copy (the twins then read the disk) and say so.

    Applying it clamped, or dropping it, would leave our text silently different
    from the editor's; LSP has no way to ask the editor for its text, so the
    document is re-read when the editor next saves it (or reopens it).
    """
    pool = ls.pool
    if pool is None or path not in pool.mirror.docs:
        return
    apply(ls, {"op": "close", "path": path})
    ls.untracked.add(path)
    message = (
        f"twinls lost track of {os.path.basename(path)} after {reason}; its unsaved text "
        "is ignored until you save or reopen it"
    )
    log.warning("%s (%s)", message, path)
    ls.notice("warning", message)


def regain_track(ls: TwinLanguageServer, path: str, text: str | None) -> None:
    """Saved: the disk (or the text the save carried) is the editor's text again."""
    if text is None:
        try:
            with open(path, "rb") as f:
                text = decode_source(f.read())
        except OSError as exc:
            log.warning("cannot re-read %s after its save: %s", path, exc)
            return
    ls.untracked.discard(path)
    apply(ls, {"op": "open", "path": path, "text": text, "version": 0})
    ls.notice("info", f"twinls: {os.path.basename(path)} is back in sync")


def apply(ls: TwinLanguageServer, entry: dict) -> None:
    if ls.pool is None:
        log.warning("edit before initialized ignored: %s", entry.get("path"))
        return
    try:
        ls.pool.apply(entry)
    except (Divergence, ValueError) as exc:
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Warning, message=f"twinls: edit not applied: {exc}"
            )
        )
        return
    for listener in ls.edit_listeners:
        listener(entry)

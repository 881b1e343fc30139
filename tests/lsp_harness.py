"""A real LSP session for tests: `python -m twinls` over a stdio pipe, via pytest-lsp.

pytest-lsp's default client cannot take list-valued ``$/progress`` (partial
results), so ours records every ``$/progress`` value raw, per token.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER = [sys.executable, "-m", "twinls"]


class TwinClient(LanguageClient):
    """The test client, plus raw progress values and a few helpers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.progress_values: dict[Any, list[Any]] = defaultdict(list)
        self.progress_event = asyncio.Event()
        self.root: Path = Path()
        self.versions: dict[str, int] = {}
        self.registrations: list[str] = []
        self.lens_refreshes: list[None] = []  # ``workspace/codeLens/refresh`` requests seen

    # -- documents -------------------------------------------------------------------

    def uri(self, rel: str | Path) -> str:
        return (self.root / rel).resolve().as_uri()

    def open(self, rel: str | Path, text: str | None = None) -> str:
        uri = self.uri(rel)
        if text is None:
            text = (self.root / rel).read_text()
        self.versions[uri] = 1
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        return uri

    def change(self, rel: str | Path, *changes: types.TextDocumentContentChangeEvent) -> None:
        uri = self.uri(rel)
        self.versions[uri] = self.versions.get(uri, 0) + 1
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=list(changes),
            )
        )

    def replace_all(self, rel: str | Path, text: str) -> None:
        self.change(rel, types.TextDocumentContentChangeWholeDocument(text=text))

    def close(self, rel: str | Path) -> None:
        self.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=self.uri(rel)))
        )

    async def command(self, name: str, *args: Any) -> Any:
        return await self.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(args))
        )

    async def status(self) -> dict[str, Any]:
        return await self.command("twinls.status")

    async def references(self, rel: str | Path, line: int, col: int) -> set[tuple[str, int, int]]:
        """``(path relative to the root, line, column)`` of every reference, declaration too."""
        found = await self.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(rel)),
                position=types.Position(line, col),
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        root = self.root.resolve().as_uri() + "/"
        return {
            (loc.uri.removeprefix(root), loc.range.start.line, loc.range.start.character)
            for loc in found or []
        }

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition"
    ) -> Any:
        """Poll ``predicate`` until truthy; fail with ``what`` (no wall-time assertion)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)


def _progress(client: TwinClient, params: types.ProgressParams) -> None:
    client.progress_values[params.token].append(params.value)
    client.progress_event.set()


def _create_progress(client: TwinClient, params: types.WorkDoneProgressCreateParams) -> None:
    client.progress_values.setdefault(params.token, [])


def _register(client: TwinClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(r.method for r in params.registrations)


def _refresh_lenses(client: TwinClient, params: None) -> None:
    client.lens_refreshes.append(None)


def private_home(home: Path) -> dict[str, str]:
    """An empty home for a server (its cache, data and temporary folders inside), as
    environment variables: what it writes can be looked for there and nowhere else."""
    for d in (".cache", "tmp", ".local/share"):
        (home / d).mkdir(parents=True)
    return {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TMPDIR": str(home / "tmp"),
    }


def make_client() -> TwinClient:
    from pygls.protocol import default_converter

    client = TwinClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.PROGRESS] = _progress
    features[types.WINDOW_WORK_DONE_PROGRESS_CREATE] = _create_progress
    features[types.CLIENT_REGISTER_CAPABILITY] = _register
    features[types.WORKSPACE_CODE_LENS_REFRESH] = _refresh_lenses
    register_lsp_features(client, features)
    return client


def capabilities(
    encodings: list[str] | None = None, work_done: bool = True, watched_dynamic: bool = True
) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=encodings)
        if encodings
        else None,
        window=types.WindowClientCapabilities(
            work_done_progress=work_done, show_message=types.ShowMessageRequestClientCapabilities()
        ),
        workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=watched_dynamic
            ),
            code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
        ),
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities()
        ),
    )


@asynccontextmanager
async def lsp_session(
    root: Path,
    init_options: dict[str, Any] | None = None,
    encodings: list[str] | None = None,
    env: dict[str, str] | None = None,
    work_done: bool = True,
    wait: bool = True,
    folders: list[Path] | None = None,
) -> AsyncIterator[TwinClient]:
    """Start twinls on ``root``, initialize, wait for a twin, and shut down after."""
    server_env = {**os.environ, **(env or {})}
    config = ClientServerConfig(
        server_command=SERVER, client_factory=make_client, server_env=server_env
    )
    client: TwinClient = await config.start()  # type: ignore[assignment]
    client.root = root
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(encodings, work_done),
                root_uri=root.resolve().as_uri(),
                workspace_folders=[
                    types.WorkspaceFolder(uri=f.resolve().as_uri(), name=f.name)
                    for f in (folders or [root])
                ],
                # No cache unless a test asks: repeats must prove the twins, not the cache.
                initialization_options={"pool": 1, "cache": False, **(init_options or {})},
            )
        )
        client.init_result = result  # type: ignore[attr-defined]
        if wait:
            await client.status()  # waits for a live twin
        yield client
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        server = client._server
        if server is not None and server.returncode is None:
            server.terminate()  # a failed test never said exit; pygls would wait forever
            try:
                await asyncio.wait_for(server.wait(), 10)
            except asyncio.TimeoutError:
                server.kill()
        await client.stop()

"""Server: TCP and Unix-socket transports with one authenticated client.

Whoever can talk to the LSP server can run code as its user (``twinls.runFile``,
or ``didOpen`` a module and run its example), so a socket is no open door:

- **TCP** needs a token: a random one the server makes (``secrets``), written
  to a mode-0600 file, or one the launcher hands over in ``TWINLS_TOKEN``.
  The first message must be ``initialize`` with
  ``initializationOptions.token`` equal to it (``hmac.compare_digest``);
  nothing is dispatched before that. The host must be loopback unless
  ``--allow-remote`` asks otherwise, with a warning.
- **Unix socket** (preferred locally): created mode 0600, and the peer's uid
  (``SO_PEERCRED``) must be ours; no token needed.
- Either way the first client that authenticates is the session; any other
  connection (a second client, a port scan, an unauthenticated or HTTP-looking
  request) is closed without a reply and without touching the session. The
  server ends when its session's connection does, as with stdio.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import stat
import struct
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from pygls.server import JsonRPCServer

from .framing import MAX_BODY, Framer, FramingError, message_loop

log = logging.getLogger(__name__)

TOKEN_ENV = "TWINLS_TOKEN"
#: Seconds a new connection has to present its ``initialize``.
AUTH_TIMEOUT = 10.0
#: Largest first message before authentication (an initialize is a few KB).
AUTH_MAX_BODY = 1024 * 1024


class RefusedHost(ValueError):
    """A non-loopback address without ``--allow-remote``."""


@dataclass
class Listen:
    """Where to listen: ``host``/``port`` (TCP) or ``path`` (Unix socket)."""

    host: str = "127.0.0.1"
    port: int = 0
    path: str | None = None
    token: str | None = None  # TCP only
    token_file: str | None = None
    token_from_env: bool = False  # the launcher made it: no file is written


def listen_tcp(host: str, port: int, token_file: str | None) -> Listen:
    """A TCP listener's settings; the token comes from ``$TWINLS_TOKEN`` or is made here.

    The variable is removed from the environment, so no twin or test inherits it.
    """
    given = os.environ.pop(TOKEN_ENV, None)
    if given:
        return Listen(host, port, token=given, token_file=token_file, token_from_env=True)
    return Listen(host, port, token=make_token(), token_file=token_file)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> None:
    if is_loopback(host):
        return
    if not allow_remote:
        raise RefusedHost(
            f"twinls: refusing to listen on {host}: it is not a loopback address, and "
            "anyone who reaches the port could try to run code as you. Use 127.0.0.1, "
            "`twinls serve --socket PATH`, or pass --allow-remote if you mean it."
        )
    print(
        f"twinls: WARNING: {host} is reachable beyond this machine; the token is all "
        "that stands between the network and code running as you",
        file=sys.stderr,
        flush=True,
    )


def make_token() -> str:
    return secrets.token_urlsafe(32)


def default_token_file(port: int) -> str:
    base = os.environ.get("XDG_RUNTIME_DIR") or os.path.join(
        tempfile.gettempdir(), f"twinls-{os.getuid()}"
    )
    return os.path.join(base, f"twinls-tcp-{port}.token")


def write_token_file(path: str, token: str) -> None:
    """Write the token readable by us alone; refuse a folder others control."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise PermissionError(f"twinls: {folder} is not a private folder of ours")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")


def token_of(message: dict[str, Any]) -> Any:
    params = message.get("params")
    opts = params.get("initializationOptions") if isinstance(params, dict) else None
    return opts.get("token") if isinstance(opts, dict) else None


def peer_uid(sock: socket.socket) -> int | None:
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    return struct.unpack("3i", creds)[1]


class Gate:
    """Admits one authenticated connection as the session; closes every other."""

    def __init__(self, server: JsonRPCServer, token: str | None) -> None:
        self.server = server
        self.token = token
        self.session: asyncio.StreamWriter | None = None
        self.done = asyncio.Event()
        self.exit_code: int | None = None
        self.refused = 0
        self.stop = threading.Event()

    def refuse(self, writer: asyncio.StreamWriter, why: str) -> None:
        self.refused += 1
        peer = writer.get_extra_info("peername")
        log.warning("refused a connection from %s: %s", peer or "a local peer", why)
        writer.transport.abort()

    async def authenticate(self, framer: Framer, writer: asyncio.StreamWriter) -> bytes | None:
        """The first message's body, if it is an ``initialize`` carrying our token."""
        if self.session is not None:
            self.refuse(writer, "a client is already connected")
            return None
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family == socket.AF_UNIX and peer_uid(sock) != os.getuid():
            self.refuse(writer, "the peer is another user")
            return None
        try:
            body = await asyncio.wait_for(framer.next(), AUTH_TIMEOUT)
        except (FramingError, asyncio.TimeoutError) as exc:
            self.refuse(writer, f"no LSP initialize ({exc or 'timed out'})")
            return None
        if body is None:
            self.refuse(writer, "closed before initializing")
            return None
        try:
            message = json.loads(body)
        except ValueError:
            self.refuse(writer, "the first message is not JSON")
            return None
        if not isinstance(message, dict) or message.get("method") != "initialize":
            self.refuse(writer, "the first message is not initialize")
            return None
        if self.token is not None:
            given = token_of(message)
            if not isinstance(given, str) or not hmac.compare_digest(
                given.encode(), self.token.encode()
            ):
                self.refuse(writer, "wrong or missing initializationOptions.token")
                return None
            del message["params"]["initializationOptions"]["token"]
        if self.session is not None:  # another one won while we read
            self.refuse(writer, "a client is already connected")
            return None
        self.session = writer
        log.info("client authenticated: %s", writer.get_extra_info("peername") or "unix")
        return json.dumps(message).encode()

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = Framer(reader, max_body=AUTH_MAX_BODY)
        first = await self.authenticate(framer, writer)
        if first is None:
            return
        framer.max_body = MAX_BODY
        protocol = self.server.protocol
        protocol.set_writer(writer)  # type: ignore[arg-type]
        framer.unread(b"Content-Length: %d\r\n\r\n" % len(first) + first)
        try:
            self.exit_code = await message_loop(
                framer, protocol, self.stop, error_handler=self.server.report_server_error
            )
        finally:
            writer.close()
            self.done.set()


async def serve(server: JsonRPCServer, listen: Listen) -> int:
    """Listen, serve the one session, return its exit code (0 if it just went away)."""
    gate = Gate(server, listen.token if listen.path is None else None)
    server._stop_event = gate.stop
    if listen.path is not None:
        if os.path.exists(listen.path) or os.path.islink(listen.path):
            st = os.lstat(listen.path)
            if not stat.S_ISSOCK(st.st_mode):
                raise FileExistsError(f"twinls: {listen.path} exists and is not a socket")
            os.unlink(listen.path)  # a stale socket of an earlier server
        old = os.umask(0o177)
        try:
            listener = await asyncio.start_unix_server(gate.connection, listen.path)
        finally:
            os.umask(old)
        os.chmod(listen.path, 0o600)
        where = listen.path
    else:
        # Bind, write the token, then listen: no client can connect before the file exists.
        family = socket.AF_INET6 if ":" in listen.host.strip("[]") else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((listen.host.strip("[]"), listen.port))
        port = sock.getsockname()[1]
        listen.port = port
        if listen.token_file is None and not listen.token_from_env:
            listen.token_file = default_token_file(port)
        if listen.token is not None and not listen.token_from_env:
            assert listen.token_file is not None
            write_token_file(listen.token_file, listen.token)
            where = f"{listen.host}:{port} (token in {listen.token_file})"
        else:
            where = f"{listen.host}:{port} (token from ${TOKEN_ENV})"
        listener = await asyncio.start_server(gate.connection, sock=sock)
    print(f"twinls: listening on {where}", file=sys.stderr, flush=True)
    try:
        async with listener:
            await gate.done.wait()
    finally:
        if listen.path is not None:
            try:
                os.unlink(listen.path)
            except OSError:
                pass
        elif listen.token_file and not listen.token_from_env:
            try:
                os.unlink(listen.token_file)
            except OSError:
                pass
    return gate.exit_code or 0


def run(server: JsonRPCServer, listen: Listen) -> int:
    try:
        return asyncio.run(serve(server, listen))
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        server.shutdown()

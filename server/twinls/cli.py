"""Server: ``twinls``, the stdio/TCP server and the terminal front doors over the same twin."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable

from . import __version__

#: Terminal subcommands added by feature modules: name -> (configure parser, run).
SUBCOMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {}

#: Modules that add terminal subcommands (imported lazily: the server needs none).
COMMAND_MODULES: list[str] = ["twinls.server.search_cli", "twinls.server.run_cli"]


def subcommand(name: str, configure: Callable[[argparse.ArgumentParser], None]):
    def register(run: Callable[[argparse.Namespace], int]):
        SUBCOMMANDS[name] = (configure, run)
        return run

    return register


def _status_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", nargs="?", default=".", help="workspace folder")


@subcommand("status", _status_args)
def _status(args: argparse.Namespace) -> int:
    """Start a twin over ROOT and print what it holds (a smoke test of the whole chain)."""
    from .api import Twin

    with Twin.start(args.root, size=args.pool or 1, python=args.python, discover=True) as twin:
        for info in twin.status():
            print(json.dumps(info, indent=2, sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    for module in COMMAND_MODULES:
        __import__(module)
    parser = argparse.ArgumentParser(
        prog="twinls",
        description="Python language server with a warm, synced twin process. "
        "With no command it serves LSP on stdio.",
    )
    parser.add_argument("--stdio", action="store_true", help="serve LSP on stdio (the default)")
    parser.add_argument("--version", action="version", version=f"twinls {__version__}")
    parser.add_argument(
        "--pool", type=int, default=None, help="number of twins (default: cores, at most 4)"
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        default=None,
        help="the project's interpreter (or its environment folder) for the twins; "
        "default: initializationOptions.python, VIRTUAL_ENV, CONDA_PREFIX, .venv/venv, this one",
    )
    parser.add_argument("--log-file", default=None, help="write the server's log here")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve LSP on stdio or TCP")
    serve.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        default=None,
        help="listen on TCP (host defaults to 127.0.0.1; port 0 picks one); the client's "
        "initialize must carry initializationOptions.token (from --token-file or $TWINLS_TOKEN)",
    )
    serve.add_argument(
        "--socket",
        metavar="PATH",
        default=None,
        help="listen on a Unix socket, mode 0600 (the preferred local transport; no token)",
    )
    serve.add_argument(
        "--token-file",
        metavar="PATH",
        default=None,
        help="where --tcp writes its token (mode 0600; default in $XDG_RUNTIME_DIR or the "
        "temp folder); not written when the launcher sets $TWINLS_TOKEN",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --tcp on a non-loopback address (a warning is printed)",
    )
    serve.add_argument("--stdio", action="store_true")
    for name, (configure, run) in SUBCOMMANDS.items():
        p = sub.add_parser(
            name, help=(run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else None
        )
        configure(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    if args.log_file:
        logging.basicConfig(
            filename=args.log_file,
            level=level,
            format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
        )
    else:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    if getattr(args, "run", None) is not None:
        sys.exit(args.run(args))
    from .server.lsp.app import create_server

    tcp, path = getattr(args, "tcp", None), getattr(args, "socket", None)
    if tcp or path:
        from .server.lsp import sockets

        if path:
            listen = sockets.Listen(path=os.path.abspath(path))
        else:
            host, _, port = tcp.rpartition(":")
            host = host or "127.0.0.1"
            try:
                sockets.check_host(host, args.allow_remote)
                listen = sockets.listen_tcp(host, int(port), args.token_file)
            except (sockets.RefusedHost, ValueError) as exc:
                print(exc, file=sys.stderr)
                sys.exit(2)
        server = create_server(pool_size=args.pool, python=args.python)
        code = sockets.run(server, listen)
        os._exit(code)
    from .server.lsp.stdio import serve_stdio

    serve_stdio(create_server(pool_size=args.pool, python=args.python))
    os._exit(0)  # twins notice the closed channel and exit by themselves

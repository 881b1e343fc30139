"""Server: a stdio transport without a thread hop per line.

pygls reads stdin through a thread pool, one ``readline``/``read`` per executor
call: a few hundred microseconds per message, so a fast typist's stream of
``didChange`` notifications (or a paste of thousands) queues up. An asyncio
pipe reader does the same job on the event loop, feeding the message loop of
``framing.py`` (which answers unparseable bodies and recovers from bad lengths).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import BinaryIO

from pygls.io_ import StdoutWriter
from pygls.server import JsonRPCServer

from .framing import Framer, message_loop

log = logging.getLogger(__name__)

#: Largest single line asyncio buffers (headers are short; bodies use readexactly).
LIMIT = 1 << 26


def is_pipe(stream: BinaryIO) -> bool:
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def serve_stdio(
    server: JsonRPCServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> None:
    stdin = stdin or sys.stdin.buffer
    if not is_pipe(stdin):
        server.start_io(stdin, stdout)  # pygls's own reader copes with regular files
        return
    server._stop_event = stop = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=LIMIT)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        code = await message_loop(
            Framer(reader), server.protocol, stop, error_handler=server.report_server_error
        )
        if code is not None:
            raise SystemExit(code)

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("the client closed the connection")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()

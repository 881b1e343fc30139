"""Server: start a zygote in the project's interpreter and get twins from it.

The one mechanism for a twin whose Python is not the server's: a subprocess of
that Python runs ``bootstrap.py`` (as ``-c`` source, so nothing is installed
into the project), which makes twinls and its pure-Python dependencies
importable by name and hands over to ``zygote.main``. The zygote preloads once
and forks every twin of the pool, including restarts, so a restart costs a
fork, not an interpreter start. The transport is a control socket plus one
socket per twin; a twin on another host swaps these for an execnet gateway's
channels (see docs/architecture.md, *Twins in the project's interpreter*).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

from ..shared.frames import ChannelClosed, decode, encode
from ..shared.zygote_schema import ZygoteFork
from .interpreter import Interpreter, InterpreterError

log = logging.getLogger(__name__)

#: Always twinls's own: the twin's code and what it needs to run at all.
OWN = ("twinls", "jedi", "parso", "cloudpickle", "msgpack")
#: twinls's pytest and its requirements, used only when the project has no pytest
#: (``exceptiongroup``, ``tomli``: what pytest needs on 3.10, where the server has them).
FALLBACK = (
    "pytest", "_pytest", "py", "pluggy", "iniconfig", "packaging", "pygments",
    "exceptiongroup", "tomli",
)  # fmt: skip

HELLO_TIMEOUT = 120.0
MAX_PACKET = 1 << 20


def folder_of(name: str) -> str | None:
    """The sys.path folder that holds top-level module ``name`` here, without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return os.path.dirname(os.path.abspath(list(spec.submodule_search_locations)[0]))
    if spec.origin and os.path.isfile(spec.origin):
        return os.path.dirname(os.path.abspath(spec.origin))
    return None


def boot_spec(ctl_fd: int) -> dict[str, Any]:
    own = {n: f for n in OWN if (f := folder_of(n))}
    missing = [n for n in OWN if n not in own]
    if missing:
        raise InterpreterError(f"twinls's own packages are not importable: {missing}")
    return {
        "own": own,
        "fallback": {n: f for n in FALLBACK if (f := folder_of(n))},
        "ctl_fd": ctl_fd,
    }


def bootstrap_source() -> str:
    return (Path(__file__).parent.parent / "twin" / "bootstrap.py").read_text(encoding="utf-8")


class Zygote:
    """The server's handle on one zygote: start it, ask it for twins, stop it."""

    def __init__(self, interpreter: Interpreter) -> None:
        self.interpreter = interpreter
        self.proc: subprocess.Popen[bytes] | None = None
        self.ctl: socket.socket | None = None
        self.info: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = HELLO_TIMEOUT) -> None:
        """Run the interpreter with the bootstrap and wait until it has preloaded."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        spec = boot_spec(theirs.fileno())
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            self.proc = subprocess.Popen(
                [self.interpreter.path, "-B", "-c", bootstrap_source(), json.dumps(spec)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                env=env,
                start_new_session=True,  # Ctrl-C in a terminal is the server's
            )
        except OSError as exc:
            ours.close()
            raise InterpreterError(f"cannot run {self.interpreter.path}: {exc}") from exc
        finally:
            theirs.close()
        self.ctl = ours
        ours.settimeout(timeout)
        try:
            hello = self._receive()
        except (TimeoutError, ChannelClosed, OSError) as exc:
            code = self.proc.poll()
            self.close()
            why = f"exited with code {code}" if code is not None else f"did not answer ({exc})"
            raise InterpreterError(
                f"the twin starter in {self.interpreter.path} {why} before it was ready "
                "(its error is in the server's log)"
            ) from exc
        ours.settimeout(None)
        self.info = dict(hello.get("info") or {})
        log.info("zygote %s ready in %s", hello.get("pid"), self.interpreter.path)

    def spawn(
        self, slot: int, roots: list[str], settings: dict[str, Any]
    ) -> tuple[int, socket.socket]:
        """A new twin: its pid and the server's end of its channel."""
        with self._lock:
            if not self.alive or self.ctl is None:
                raise ChannelClosed("the twin starter is not running")
            parent, child = socket.socketpair()
            msg: ZygoteFork = {"k": "fork", "slot": slot, "roots": roots, "settings": settings}
            try:
                socket.send_fds(self.ctl, [encode(dict(msg))], [child.fileno()])
                reply = self._receive()
            except OSError as exc:
                parent.close()
                raise ChannelClosed(f"the twin starter went away: {exc}") from exc
            finally:
                child.close()
            return int(reply["pid"]), parent

    def _receive(self) -> dict[str, Any]:
        assert self.ctl is not None
        data = self.ctl.recv(MAX_PACKET)
        if not data:
            raise ChannelClosed("the twin starter closed its socket")
        return decode(data[4:])

    def close(self) -> None:
        """Stop the zygote (its twins see their own channels close and exit)."""
        if self.ctl is not None:
            try:
                self.ctl.close()
            except OSError:
                pass
            self.ctl = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

"""Server: start a zygote in the project's interpreter and get twins from it.

The one mechanism for a twin whose Python is not the server's: a subprocess of
that Python runs ``bootstrap.py`` (as ``-c`` source, so nothing is installed
into the project), which makes twinls and its pure-Python dependencies
importable by name and hands over to ``zygote.main``. The zygote preloads once
and forks every twin of the pool, including restarts, so a restart costs a
fork, not an interpreter start. The transport is a control socket plus one
socket per twin; a twin on another host swaps these for an execnet gateway's
channels (see docs/architecture.md, *Twins in the project's interpreter*).

Twins in the project's interpreter
==================================

**Choosing** (`server/interpreter.py`, at `initialize`): `initializationOptions.python`
(an executable or an environment folder; the VS Code extension fills it from
`twinls.python`, else the Python extension's selection, with `pythonSource`),
else `twinls --python`, else `VIRTUAL_ENV`, `CONDA_PREFIX`, a `.venv` or `venv`
(with `pyvenv.cfg`) at the first root, else the server's own. `twinls.status`
reports it under `server.interpreter` (`path`, `source`, `version`, whose
`pytest`, `msgpack` codec, `error`), each twin under `python`. A setting that
names no interpreter is a `window/showMessage` error and `status.error`; no
twin starts, the server keeps running. A new `python` in
`workspace/didChangeConfiguration` (`{"twinls": {"python", "pythonSource"}}`,
`server/lsp/interpreter.py`) moves the pool: the twins are restarted in the new
interpreter and their snapshot carries every open document.

**Starting** (`server/launch.py`, `bootstrap.py`, `zygote.py`). For the server's own
interpreter the twins are forked from the server as before (the fast path: a
`run_remotely` callable pickled by reference resolves in the fork). For any other,
the pool starts a **zygote**: `PYTHON -B -c <bootstrap.py source> SPEC`, with a
`SOCK_SEQPACKET` control socket passed as an fd. The bootstrap adds one finder at
the head of `sys.meta_path` that resolves exactly the top-level names `twinls`,
`jedi`, `parso`, `cloudpickle`, `msgpack` in the folders the server found them in
(by `find_spec`, no import), so nothing else of twinls's environment is visible:
the project's site-packages, pytest and `pytest11` plugins stay its own. msgpack's
compiled module carries the server's ABI tag, so another CPython imports its
pure-Python `fallback` (its own `__init__` chooses). Only when the project has no
pytest, a second finder at the end of `sys.meta_path` serves twinls's pytest and
its requirements, status says `pytest.source: "twinls"` and the user gets a
warning. The zygote preloads (`warm.preload`), then answers `fork` requests: each
carries the twin's end of a fresh socketpair as `SCM_RIGHTS`; the zygote forks, the
child becomes the twin on it (`twin_main`, as a forked twin does), the answer is its
pid. So preload, fork per run (run children fork from the twin), restart after
`kill -9` (a fork of the warm zygote, plus the snapshot) stay as they were; a dead
zygote is started again on the next spawn. It is single-threaded, reaps its
children, and exits when the server's control socket closes. Under the VS Code
bundle the server's own interpreter also gets a zygote (a fork would see the
bundle's pytest on `sys.path`).

**Another host next** (issue 18). The zygote protocol is transport-neutral: a
hello with the interpreter's description, then `fork {slot, roots, settings}` →
`{pid}` plus one bidirectional byte stream per twin carrying the ordinary channel
frames. Over ssh, an execnet gateway replaces the subprocess: `remote_exec` of the
same `bootstrap.py` source (its folders pointing at a copy of twinls's pure-Python
packages rsynced there, or served by a remote importer), the control socket becomes
the gateway's first channel and each twin's socketpair an execnet channel the
zygote wraps in a socket-like reader/writer (`FrameReader`/`FrameWriter` only need
`recv`/`sendall`); `kill` becomes a `kill` message to the zygote. `TwinProcess`
already takes a launcher `(slot, roots, settings) → (pid, stream)`, so the pool does
not change.

Known limits: one interpreter per pool, chosen for the first workspace folder: a
multi-root workspace whose folders have different venvs uses the first's, with a
warning, and `status.server.interpreters_by_root` says what each folder would choose
(Neovim starts one client, so one pool, per root, and is not affected); jedi
and the other twinls packages have no bytecode for the project's CPython and the
twins write none, so a zygote's first start compiles them (2–3 s, once per
interpreter); a `run_remotely` callable pickled by value does not cross CPython
versions (cloudpickle's code objects), named queries do.
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
from ..shared.schema import ZygoteFork
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

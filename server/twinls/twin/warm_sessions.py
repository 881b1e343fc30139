"""Twin: warm collection, the collection zygotes of test files and handing them runs.

A test run whose targets all lie in one test file (a lens's test, class or file
run, a live run of one file) goes to that file's **zygote** (``run/warm_session.py``):
forked from the twin on the worker thread the first time, it collects the file
once and then forks one supervisor per run, so a re-run pays for no import and
no collection. The twin keeps at most ``warmMax`` zygotes (least recently used
goes first; 0 turns warm collection off), none bigger than ``warmMemory`` MiB
after collecting, and replaces one when it cannot be trusted:

- once it is ready, when the text of a file it imported (the test file, its
  conftests, the workspace modules they import, the pytest config file) is not
  the overlay's now, checked on every run (so a change on disk counts as an
  edit does) and on every edit (the overlay's listener, to free it early) —
  unless the change of a workspace module (not a test file, conftest or
  config) is to function bodies only (``twin/body_edits.py``) and the zygote
  holds those functions and did not run them while collecting (its ``ready``
  says, ``run/code_swap.py``): then it stays, and each run it is handed swaps
  the new bodies in (``swap``; the run's ``warm`` names the files). The
  listener leaves such files to the run (an edit is not parsed per keystroke);
  ``TWINLS_CODE_SWAP=0`` in the environment turns swapping off;
- before it is ready (still collecting), when anything in the overlay changed
  since it was forked;
- when pytest stopped before a session (a config or usage error): that run is
  answered by it, and the file runs cold until the overlay changes.

Letting one go closes its control socket: it finishes the runs it was handed
and exits; ``child.kill_all`` kills every zygote's group with the twin. A run's
supervisor is the zygote's child, so its ``Handle`` learns its pid from the
run's first frame and is not reaped here.

Known limits: a test module that kills its process while it is imported, or
hangs there (the zygote's alarm: ``runTimeout``, at least 60 s), gives its first
run "the run's supervisor process died" instead of a cold run's crash report;
the file then runs cold until the overlay changes. A run's targets must lie in
one file on disk (a folder or workspace run, several files, a Debug run: cold).
"""

from __future__ import annotations

import marshal
import os
import select
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..run import child
from ..shared.collect import one_test_file
from ..shared.frames import ChannelClosed, FrameReader, FrameWriter
from ..shared.paths import root_of
from ..shared.schema import DEFAULTS, ZygoteStatus
from . import body_edits, preload
from .state import TwinState

WARM_MAX = int(DEFAULTS["warmMax"])  # zygotes per twin
WARM_MEMORY = int(DEFAULTS["warmMemory"])  # MiB a zygote may hold after collecting
AHEAD = 0.05  # seconds of no edit to a swappable module before it is parsed ahead


def crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def swapping() -> bool:
    """Body-only edits keep the zygote (``TWINLS_CODE_SWAP=0``: they replace it, as before)."""
    return os.environ.get("TWINLS_CODE_SWAP", "1") != "0"


@dataclass(eq=False)
class Zygote:
    """The twin's view of one collection zygote."""

    path: str
    handle: child.Handle  # pid and control socket; killpg kills it (it leads its group)
    fds: socket.socket  # run sockets are passed over this one (SCM_RIGHTS)
    generation: int  # the overlay's when it was forked
    info: dict[str, Any] | None = None  # its ``ready`` (``WarmReady``): imported paths' CRCs, ...
    used: float = field(default_factory=time.monotonic)
    runs: int = 0
    _reading: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def poll(self) -> None:
        """Read its ``ready`` if it has sent it (never waits; the worker and the edits'
        thread both ask)."""
        with self._reading:
            if self.info is not None or self.handle.closed:
                return
            try:
                if select.select([self.handle.sock], [], [], 0)[0]:
                    self.info = FrameReader(self.handle.sock).read()
            except (ChannelClosed, OSError):
                self.info = {"ok": False, "paths": {}, "rss": 0, "items": 0, "gone": True}


class WarmSessions:
    """The collection zygotes of one twin (see module doc)."""

    def __init__(self, state: TwinState) -> None:
        self.state = state
        self.zygotes: dict[str, Zygote] = {}
        self.failed: dict[str, int] = {}  # path -> overlay generation its zygote failed at
        self.dropped: list[str] = []  # why zygotes were let go (the last 20)
        self.lock = threading.Lock()
        #: (path, CRC) -> that text parsed and compiled, and its code marshalled (the last few)
        self.texts: dict[tuple[str, int], tuple[body_edits.Parsed | None, bytes]] = {}
        self._ahead: dict[str, threading.Timer] = {}  # path -> its parse, once edits pause
        self._parsing = threading.Lock()
        state.overlay.listeners.append(self.changed)

    def limits(self) -> tuple[int, int]:
        settings = self.state.settings
        return int(settings.get("warmMax", WARM_MAX)), int(settings.get("warmMemory", WARM_MEMORY))

    def file_of(self, spec: dict[str, Any]) -> str | None:
        """The one test file a run's targets lie in, if it can run warm."""
        path = one_test_file(spec)
        if path is None or self.limits()[0] <= 0 or not os.path.isfile(path):
            return None
        return path

    # -- handing out runs (the worker thread) ----------------------------------------

    def start(self, spec: dict[str, Any]) -> child.Handle | None:
        """A run of ``spec`` in its file's zygote (forked now if needed); None: run it cold."""
        path = self.file_of(spec)
        if path is None:
            return None
        overlay = self.state.overlay
        with self.lock:
            zygote = self.zygotes.get(path)
        swap: dict[str, bytes] = {}
        if zygote is not None:
            zygote.poll()
            why, swap = self.verdict(zygote)
            if why:
                if zygote.info is not None and not zygote.info.get("ok"):
                    self.failed[path] = zygote.generation
                self.drop(zygote, why)
                zygote = None
        if zygote is None:
            if self.failed.get(path) == overlay.generation:
                return None  # its config or collection stopped pytest: cold until an edit
            zygote = self.fork(path, spec["root"])
        zygote.used, zygote.runs = time.monotonic(), zygote.runs + 1
        return self.hand(zygote, spec, swap)

    def prewarm(self, path: str) -> bool:
        """Collect ``path`` in a zygote before a run asks (the file a live run will most
        likely run next: the server's ``Live.prewarm``), into a free place only: it never
        evicts a zygote. False: there is one already, no room, or it cannot run warm."""
        spec = {"kind": "tests", "path": path, "targets": [path]}
        if self.file_of(spec) is None or self.failed.get(path) == self.state.overlay.generation:
            return False
        with self.lock:
            if path in self.zygotes or len(self.zygotes) >= self.limits()[0]:
                return False
        self.fork(path, root_of(path, self.state.roots))
        return True

    def distrust(self, zygote: Zygote) -> str | None:
        """Why this zygote may not run what the overlay holds now (None: it may)."""
        return self.verdict(zygote)[0]

    def verdict(self, zygote: Zygote) -> tuple[str | None, dict[str, bytes]]:
        """Why this zygote may not run the overlay's text now, else what to swap.

        What to swap: per file, its new text compiled (``marshal``: the run's
        supervisor loads it, it does not compile on the run's way to its first test).
        """
        info = zygote.info
        if info is None:
            if zygote.generation != self.state.overlay.generation:
                return "the overlay changed while it collected", {}
            return None, {}
        if not info.get("ok"):
            return "pytest stopped before a session", {}
        if info.get("errors") and zygote.generation != self.state.overlay.generation:
            return "its collection failed and the overlay changed since", {}
        memory = self.limits()[1] * 1024
        if info.get("rss", 0) > memory:
            return f"it holds {info['rss'] // 1024} MiB > warmMemory", {}
        swap = {}
        for path, then in info.get("paths", {}).items():
            text = self.state.overlay.read_text(path)
            if text is None:
                return f"{path} changed", {}
            if crc(text) == then:
                continue
            why, code = self.why_not_swap(zygote, path, text)
            if why:
                return f"{path} changed ({why})", {}
            swap[path] = code
        return None, swap

    def why_not_swap(self, zygote: Zygote, path: str, text: str) -> tuple[str | None, bytes]:
        """Why a run of ``zygote`` may not swap ``path``'s new bodies in, else their code."""
        held = (zygote.info or {}).get("swap", {}).get(path)
        if not swapping() or held is None:
            return "not a module whose bodies a run swaps", b""
        after, code = self.parse(path, text)
        bodies = body_edits.body_changes(self.parse(path, held["text"])[0], after)
        if bodies is None:
            return "not only function bodies", b""
        found, started = set(held["found"]), held["started"]
        if bodies - found:
            return f"no function object of {sorted(bodies - found)[0]}", b""
        for unit in bodies:
            if any(s == unit or s.startswith(unit + ".<locals>.") for s in started):
                return f"{unit} ran while it collected", b""
        return None, code

    def parse(self, path: str, text: str) -> tuple[body_edits.Parsed | None, bytes]:
        """``text`` of ``path`` parsed and compiled (kept: a zygote's base is asked per run)."""
        key = (path, crc(text))
        with self._parsing:  # one at a time: a run waits for the parse ``ahead`` started
            if key not in self.texts:
                if len(self.texts) > 16:
                    self.texts.clear()
                found = body_edits.parsed(text, path)
                self.texts[key] = (found, marshal.dumps(found.code) if found else b"")
            return self.texts[key]

    def fork(self, path: str, root: str) -> Zygote:
        from ..run.warm_session import zygote_main

        ctl_ours, ctl_theirs = socket.socketpair()
        fds_ours, fds_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        pid = child.fork_from_twin(
            self.state,
            lambda: zygote_main(self.state, path, root, ctl_theirs, fds_theirs),
            mine=[ctl_ours, fds_ours],
            theirs=[ctl_theirs, fds_theirs],
        )
        child.track(fds_ours)
        handle = child.adopt(pid, ctl_ours)
        zygote = Zygote(path, handle, fds_ours, self.state.overlay.generation)
        with self.lock:
            self.zygotes[path] = zygote
            most = self.limits()[0]
            extra = sorted(self.zygotes.values(), key=lambda z: z.used)[
                : max(0, len(self.zygotes) - most)
            ]
        for old in extra:
            if old is not zygote:
                self.drop(old, f"more than warmMax ({most}) collection zygotes")
        return zygote

    def hand(self, zygote: Zygote, spec: dict[str, Any], swap: dict[str, bytes]) -> child.Handle:
        """Send one run to a zygote: the spec, the overlay's texts, what to swap, the socket."""
        overlay = self.state.overlay
        ours, theirs = socket.socketpair()
        msg = {
            "k": "run",
            "spec": spec,
            "docs": overlay.texts(),
            "deleted": sorted(overlay.deleted),
            "preload": list(preload.of(self.state).loaded),  # what earlier runs imported
            "swap": swap,  # file -> its new code (marshal), whose bodies the run swaps in
        }
        try:
            FrameWriter(zygote.handle.sock).write(msg)
            socket.send_fds(zygote.fds, [b"s"], [theirs.fileno()])
        except OSError:
            pass  # it went: the run's socket closes below, and the run reports a dead supervisor
        theirs.close()
        return child.adopt(0, ours, own=False)

    # -- letting go ------------------------------------------------------------------

    def drop(self, zygote: Zygote, why: str) -> None:
        with self.lock:
            if self.zygotes.get(zygote.path) is zygote:
                del self.zygotes[zygote.path]
        child.untrack(zygote.fds)
        zygote.fds.close()
        zygote.handle.close()  # it finishes the runs it has, then exits (and is reaped)
        self.dropped = [*self.dropped[-19:], f"{zygote.path}: {why}"]

    def changed(self, path: str) -> None:
        """The overlay's listener: a ready zygote that imported ``path`` goes at once.

        Unless a run may swap ``path``'s bodies: whether it may is decided by the
        next run (``verdict``), not parsed on every keystroke.
        """
        with self.lock:
            zygotes = list(self.zygotes.values())
        for z in zygotes:
            z.poll()
        hit = [z for z in zygotes if z.info and path in z.info.get("paths", {})]
        for zygote in hit:
            if swapping() and path in (zygote.info or {}).get("swap", {}):
                self.ahead(path, zygote.info["swap"][path]["text"])
                continue
            why = self.distrust(zygote)
            if why:
                self.drop(zygote, why)

    def ahead(self, path: str, base: str) -> None:
        """Once edits of ``path`` pause for ``AHEAD`` s, parse and compile its text now and
        the zygote's text of it (``parse`` keeps both), in a thread: the live run that
        follows the server's 150 ms debounce then finds them done instead of spending
        ~100 ms on a big module on its way to the first test (and the first swap twice)."""
        with self.lock:
            timer = self._ahead.pop(path, None)
        if timer is not None:
            timer.cancel()

        def work() -> None:
            text = self.state.overlay.read_text(path)
            if text is not None:
                self.parse(path, base)
                self.parse(path, text)

        timer = threading.Timer(AHEAD, work)
        timer.daemon = True
        with self.lock:
            self._ahead[path] = timer
        timer.start()

    def listing(self) -> list[ZygoteStatus]:
        """The zygotes kept, for ``twinls.status``."""
        with self.lock:
            zygotes = list(self.zygotes.values())
        for z in zygotes:
            z.poll()
        return [
            {
                "path": z.path,
                "pid": z.handle.pid,
                "ready": z.info is not None,
                "items": (z.info or {}).get("items", 0),
                "rss": (z.info or {}).get("rss", 0),
                "runs": z.runs,
            }
            for z in zygotes
        ]


def of(state: TwinState) -> WarmSessions:
    return state.singleton("run.warm_sessions", lambda: WarmSessions(state))

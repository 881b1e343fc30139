"""Server: the pool; every twin gets every edit, in one order; dead or stuck twins come back.

The pool owns the authoritative mirror (an :class:`Overlay` in the server) and
the edit log's sequence numbers. Applying an entry to the mirror and sending it
to the twins happen under one lock, so a restarted twin's snapshot and the edits
after it never overlap or leave a gap: no edit is lost.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..shared.entries import apply_entry
from ..shared.frames import ChannelClosed, encode
from ..shared.overlay import Overlay
from ..shared.schema import DEFAULTS
from ..shared.textbuf import text_crc, text_sha256
from .groups import Choice, Group, by_key, choice_key, group_of_path
from .interpreter import Interpreter
from .pause import SearchPause
from .process import Launcher, TwinProcess
from .promise import Promise, TwinDied, TwinUnavailable
from .shards import KeptAt
from .sizing import (
    LOCAL_MAX,
    RESIZE_EVERY,
    CpuMeter,
    Sizing,
    choose,
    cpu_seconds,
    fixed,
    measure,
    settle,
)
from .stubs import Query, Sharded

log = logging.getLogger(__name__)

#: (level, message, code=None) -> shown to the user; ``code``: a schema.NoticeCode.
Notice = Callable[..., None]

#: Seconds between whole-text CRC checks of a document while edits stream in.
VERIFY_EVERY = 0.05
#: Seconds a call may go on after its cancel before its twin is restarted.
CANCEL_GRACE = 10.0
#: A silent twin still using CPU (a long C call holding its GIL, a starved machine) is
#: busy, not hung: it gets up to this many ``hangAfter`` before it is killed anyway.
BUSY_GRACE = 8


def default_size() -> int:
    """This machine's pool size by its free cores and memory now (``server/sizing.py``)."""
    return local_sizing().size


def local_sizing(own_cores: float = 0.0, own_twins: int = 0) -> Sizing:
    return choose(measure(own_cores, own_twins), LOCAL_MAX)


def query_path(args: tuple[Any, ...] | list[Any]) -> str | None:
    """The file a query is about (its first argument, when that is an absolute path)."""
    first = args[0] if args else None
    return first if isinstance(first, str) and os.path.isabs(first) else None


def preload() -> None:
    """Import what every twin needs before the first fork, so each fork starts warm."""
    from ..twin import warm

    warm.preload()


class TwinPool:
    def __init__(
        self,
        roots: Iterable[str],
        size: int | None = None,
        settings: dict[str, Any] | None = None,
        notice: Notice | None = None,
        heartbeat: float = DEFAULTS["heartbeat"],
        hang_after: float = DEFAULTS["hangAfter"],
        max_restarts: int = int(DEFAULTS["maxRestarts"]),
        restart_window: float = 120.0,
        interpreter: Interpreter | None = None,
        interpreters: Mapping[str, Choice] | None = None,
        worker_timeout: float | None = None,
        cancel_grace: float | None = CANCEL_GRACE,
        remotes: list[Any] | None = None,
        lane: bool = False,
        pause: float = 0.0,
    ) -> None:
        self.roots = [os.path.abspath(r) for r in roots]
        #: How the local size was chosen (``pool`` setting, else measured; status says which).
        self.sizing = fixed(size, "pool") if size else local_sizing()
        self.size = self.sizing.size  # local twins wanted now; re-measured (``_resize_local``)
        #: Slots whose twin was stopped because its host (this one or a remote) shrank.
        self.retired: set[int] = set()
        self._meter = CpuMeter()
        self._wanted: dict[int, int] = {}  # id(host) -> the twins it should have now
        self._measured_at = time.monotonic()
        self.settings = dict(settings or {})
        self.notice = notice or (lambda level, msg, code=None: log.warning("%s: %s", level, msg))
        self.heartbeat = heartbeat
        self.hang_after = hang_after
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        #: Restart a twin whose worker stays on one call this long (None: never) ...
        self.worker_timeout = worker_timeout
        #: ... or ignores a cancel this long.
        self.cancel_grace = cancel_grace
        self.mirror = Overlay(roots=list(self.roots))
        self.kept_at = KeptAt()  # which twin keeps each file's answer (home shards)
        self.seq = 0
        self.twins: list[TwinProcess | None] = []
        self.gave_up: set[int] = set()
        self._restarts: dict[int, list[float]] = {}
        #: One interactive twin per group besides its ``size`` (the ``interactiveTwin``
        #: setting): no search is dealt to it, interactive queries go to it first.
        self.lane = lane
        self.lanes: set[int] = set()  # the slots of those twins
        #: While an interactive twin answers, the busy search twins are stopped (at most
        #: ``pause`` seconds a call: the ``interactivePause`` setting; ``server/pause.py``).
        self.pause = SearchPause(pause)
        #: Told of each twin that joins (from the starting thread; ``server/lsp/lane_warm.py``).
        self.on_started: list[Callable[[TwinProcess], None]] = []
        self._lock = threading.RLock()  # mirror + seq + who receives edits
        self._fork_lock = threading.Lock()
        self._pings = itertools.count(1)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._pending: set[int] = set()  # slots waiting to be (re)started
        self._supervisor: threading.Thread | None = None
        self.ready = threading.Event()
        self.resyncs = 0  # documents resent in full after a twin diverged
        self._verified_at: dict[str, float] = {}
        self._unverified: set[str] = set()
        #: The twins by interpreter (``server/groups.py``): ``size`` slots per group, each
        #: folder served by the group of its choice (``interpreter``, else the server's own:
        #: twins forked from here; ``interpreters`` per folder, errors included).
        self.groups: list[Group] = []
        self.group_of: dict[int, Group] = {}  # local slot -> its group
        self.retired: set[int] = set()  # slots of a group no folder chose any more
        choices: dict[str, Choice] = {r: interpreter for r in self.roots}
        for root, choice in (interpreters or {}).items():
            if os.path.abspath(root) in choices:
                choices[os.path.abspath(root)] = choice
        self._regroup(choices)
        #: Twin hosts over execnet (``remote.RemoteHost``); their slots follow the local ones.
        self.hosts: list[Any] = []
        self.host_of: dict[int, Any] = {}
        if remotes:
            from .remote import RemoteHost

            self.hosts = [RemoteHost(r, self.roots) for r in remotes]

    # -- life ------------------------------------------------------------------------

    def start(self, wait: bool = True) -> None:
        """Preload and fork every twin (from the supervisor thread, not the caller's).

        With a ``start_error`` (no usable interpreter was named) no twin starts until
        :meth:`set_interpreter` or :meth:`restart`; the error is shown instead.
        """
        with self._lock:
            failed = [g for g in self.groups if g.bad_choice]
            for g in self.groups:
                if not g.bad_choice:
                    self._pending.update(g.slots)
        for g in failed:
            self._start_failed(g.bad_choice, g)
        self._supervisor = threading.Thread(target=self._supervise, name="twin-pool", daemon=True)
        self._supervisor.start()
        for host in self.hosts:
            threading.Thread(
                target=self._keep_host, args=(host,), name="twin-host", daemon=True
            ).start()
        self._wake.set()
        if wait:
            self.ready.wait(60)

    def close(self, grace: float = 2.0) -> None:
        """Stop every twin: each sees its channel close, kills its runs and exits.

        (A twin killed outright would leave what its runs forked behind.)
        """
        self._stopping.set()
        self._wake.set()
        self.pause.resume_all()  # a stopped twin would not see its channel close
        twins = [t for t in self.twins if t is not None and t.alive]
        for t in twins:
            if t.sock is not None:
                try:
                    t.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        for t in twins:
            t.stop(grace)
        for g in self.groups:
            if g.zygote is not None:
                g.zygote.close()
        for host in self.hosts:
            host.close()

    def live(self, path: str | None = None, lanes: bool = False) -> list[TwinProcess]:
        """The live twins that search and run; with ``path``, those that may work on it: its
        folder's group's and the remote ones (which take sharded work and split runs only).

        ``lanes``: the interactive twins too (which only answer interactive queries:
        :meth:`pick`); every caller that deals work leaves them out.
        """
        twins = [
            t
            for t in self.twins
            if t is not None
            and t.alive
            and t.ready.is_set()
            and (lanes or t.slot not in self.lanes)
        ]
        if path is None:
            return twins
        group = self.group_for(path)
        return [t for t in twins if t.host is not None or self.group_of.get(t.slot) is group]

    def restart(self, slots: Iterable[int] | None = None) -> None:
        """Kill and restart twins on purpose (e.g. the Restart Twin command)."""
        slots = list(range(len(self.twins))) if slots is None else list(slots)
        slots = [s for s in slots if s not in self.retired]
        with self._lock:
            for g in self.groups:
                g.error = ""
            for slot in slots:
                self.gave_up.discard(slot)
                self._restarts.pop(slot, None)
        for slot in slots:
            t = self.twins[slot]
            if t is not None and t.alive:
                t.kill("restarted on request")
            else:
                with self._lock:
                    self._pending.add(slot)
                self._wake.set()

    def _sockets(self) -> list:
        return [t.sock for t in self.twins if t is not None and t.sock is not None]

    def _launcher(self, group: Group) -> Launcher | None:
        """The zygote of the group's interpreter (started on first need), or None to fork here."""
        interp = group.interpreter
        if interp is None or interp.is_server:
            if group.zygote is not None:  # moved back to the server's own: stop the old one
                group.zygote.close()
                group.zygote = None
            return None
        from .launch import Zygote

        zygote = group.zygote
        if zygote is None or not zygote.alive or zygote.interpreter.path != interp.path:
            if zygote is not None:
                zygote.close()
            zygote = Zygote(interp)
            zygote.start()  # raises InterpreterError with a message for the user
            group.zygote = zygote
            pytest = zygote.info.get("pytest", {})
            if pytest.get("source") != "project":
                self.notice(
                    "warning",
                    f"twinls: {interp.path} has no pytest; runs use twinls's own "
                    f"(pytest {pytest.get('version', '?')}). Install pytest into the project's "
                    "environment to run its tests with its own.",
                    code="interpreter",
                )
        return zygote.spawn

    # -- interpreters per folder (``server/groups.py``) ----------------------------------

    @property
    def interpreter(self) -> Interpreter | None:
        """The first folder's interpreter (the Python API's one root)."""
        return self.group_for(self.roots[0]).interpreter

    @property
    def start_error(self) -> str:
        """Why no twin can start in some folder's interpreter ('' when every group can)."""
        errors = [g.bad_choice or g.error for g in self.groups if g.bad_choice or g.error]
        return "; ".join(dict.fromkeys(errors))

    def group_for(self, path: str | None) -> Group:
        """The group answering for ``path`` (outside every folder, or None: the first's)."""
        found = group_of_path(path, self.groups, self.roots) if path else None
        return found or group_of_path(self.roots[0], self.groups, self.roots) or self.groups[0]

    def choices(self) -> dict[str, Choice]:
        """Each folder's current choice (an interpreter, None: the server's, or an error)."""
        return {r: g.bad_choice or g.interpreter for g in self.groups for r in g.roots}

    def _regroup(self, choices: Mapping[str, Choice]) -> tuple[list[int], list[int]]:
        """Put each folder in the group of its choice (under the lock, or before any twin).

        Returns the slots to restart (a group now in another interpreter, or new) and
        the slots retired (a group no folder chose). A group that still serves a
        folder keeps its twins: switching one folder restarts only its group's.
        """
        wanted = by_key(choices)
        old = {g.key: g for g in self.groups}
        leftover = [g for g in self.groups if g.key not in wanted]
        restart: list[int] = []
        groups: list[Group] = []
        for key, (choice, roots) in wanted.items():
            group = old.get(key)
            if group is None and leftover:  # a group no folder chose: moved to this choice
                group = leftover.pop(0)
                restart.extend(group.slots)
            elif group is None:
                group = Group(None, roots)
                first = len(self.twins)
                wanted_slots = self.size + (1 if self.lane else 0)
                group.slots = list(range(first, first + wanted_slots))
                self.twins.extend([None] * wanted_slots)
                if self.lane:  # its last slot: the search twins start first
                    group.lane = group.slots[-1]
                    self.lanes.add(group.lane)
                restart.extend(group.slots)
            group.roots = roots
            group.interpreter = None if isinstance(choice, str) else choice
            group.bad_choice = choice if isinstance(choice, str) else ""
            group.error = ""
            for slot in group.slots:
                self.group_of[slot] = group
            groups.append(group)
        retired: list[int] = []
        for group in leftover:
            retired.extend(group.slots)
            for slot in group.slots:
                self.group_of.pop(slot, None)
                self._pending.discard(slot)
            if group.zygote is not None:
                group.zygote.close()
        self.retired.update(retired)
        self.groups = groups
        return restart, retired

    def set_interpreters(self, choices: Mapping[str, Choice]) -> bool:
        """Move these folders to these interpreters; only their groups' twins restart.

        Open documents follow in each new twin's snapshot. False: nothing moved.
        """
        with self._lock:
            current = self.choices()
            new = dict(current)
            for root, choice in choices.items():
                if os.path.abspath(root) in new:
                    new[os.path.abspath(root)] = choice
            if all(choice_key(new[r]) == choice_key(current[r]) for r in new):
                for g in self.groups:  # same environments: only where the choice came from
                    g.interpreter = new[g.roots[0]] if not g.bad_choice else None  # type: ignore[assignment]
                return False
            restart, retired = self._regroup(new)
            bad = [g for g in self.groups if g.bad_choice and set(g.slots) & set(restart)]
        self._replace(restart, retired, "restarted on request: a new interpreter")
        for g in bad:
            self._start_failed(g.bad_choice, g)
        return True

    def set_interpreter(self, interpreter: Interpreter) -> bool:
        """Move every folder's twins to one interpreter (the Python API, a global setting)."""
        return self.set_interpreters({r: interpreter for r in self.roots})

    def set_roots(self, roots: Iterable[str], choices: Mapping[str, Choice]) -> None:
        """Workspace folders added or removed: every twin restarts with the new roots,
        each folder in its choice's group (a removed folder's group is retired)."""
        with self._lock:
            self.roots = [os.path.abspath(r) for r in roots]
            self.mirror.roots = list(self.roots)
            restart, retired = self._regroup({os.path.abspath(r): c for r, c in choices.items()})
            restart = sorted(set(restart) | {s for g in self.groups for s in g.slots})
            bad = [g for g in self.groups if g.bad_choice]
        self._replace(restart, retired, "restarted on request: the workspace folders changed")
        for g in bad:
            self._start_failed(g.bad_choice, g)

    def _replace(self, restart: list[int], retired: list[int], reason: str) -> None:
        """Kill the retired slots' twins for good and restart the others' (or start them)."""
        for slot in retired:
            t = self.twins[slot]
            if t is not None and t.alive:
                t.kill("its folder chose another interpreter")
        for slot in restart:
            group = self.group_of.get(slot)
            t = self.twins[slot]
            with self._lock:
                self.gave_up.discard(slot)
                self._restarts.pop(slot, None)
            if t is not None and t.alive:
                t.kill(reason)
            elif group is not None and not group.bad_choice:
                with self._lock:
                    self._pending.add(slot)
        self._wake.set()

    def interpreter_info(self, group: Group | None = None) -> dict[str, Any]:
        """A group's interpreter (the first folder's by default), its version and where the
        choice came from, and the folders it serves (status)."""
        import sys

        group = group or self.group_for(None)
        interp = group.interpreter or Interpreter(sys.executable, "server")
        info: dict[str, Any] = {
            **interp.as_dict(),
            "error": group.bad_choice or group.error or None,
            "roots": list(group.roots),
            "slots": [s for s in group.slots if s not in self.retired],
        }
        zygote = group.zygote
        if not interp.is_server and zygote is not None and zygote.interpreter.path == interp.path:
            info.update(zygote.info)
        elif interp.is_server:
            info.update(version=sys.version, pytest={"source": "server environment"})
        return info

    def interpreters_by_root(self) -> dict[str, dict[str, Any]]:
        """Each workspace folder's interpreter, as :meth:`interpreter_info` says it."""
        return {r: self.interpreter_info(g) for g in self.groups for r in g.roots}

    def slot_count(self) -> int:
        """The slots the pool keeps searching twins in (every group's, the remote hosts');
        the interactive twins are not counted."""
        return len(self.twins) - len(self.retired) - len(self.lanes - self.retired)

    def _check_ready(self) -> None:
        """Ready once every folder's group has a live twin, or cannot have one (said so)."""
        live = {t.slot for t in self.live()}
        for g in self.groups:
            if g.bad_choice or g.error or all(s in self.gave_up for s in g.slots):
                continue
            if not live & set(g.slots):
                return
        self.ready.set()

    def _start_order(self, slot: int) -> tuple[int, int]:
        """Every group's first twin before any group's second: each folder is served soon."""
        group = self.group_of.get(slot)
        return (group.slots.index(slot) if group is not None else 0, slot)

    def _spawn(self, slot: int) -> None:
        host = self.host_of.get(slot)
        group = self.group_of.get(slot)
        roots = self.roots
        if slot in self.retired or (host is None and (group is None or group.bad_choice)):
            return
        if host is not None:
            if not host.up:
                return  # _keep_host makes it pending again once the host is back

            def launcher(s: int, roots: list[str], settings: dict[str, Any]) -> Any:
                return host.spawn(s, roots, settings, self.mirror.docs.__contains__)
        else:
            assert group is not None
            roots = group.twin_roots(self.roots)
            try:
                launcher = self._launcher(group)
            except Exception as exc:
                self._start_failed(str(exc), group)
                return
            if launcher is None:
                preload()
        twin = TwinProcess(
            slot, roots, self.settings, on_exit=self._on_exit, on_resync=self._on_resync
        )
        twin.host = host
        with self._fork_lock:
            try:
                twin.start(close_in_child=self._sockets, launcher=launcher)
            except ChannelClosed as exc:  # the zygote died: the next try starts a new one
                log.warning("twin %s: %s; starting the interpreter again", slot, exc)
                with self._lock:
                    self._pending.add(slot)
                self._wake.set()
                return
        if not twin.wait_ready() or not twin.alive:
            twin.kill("no hello in time")
            return  # _on_exit schedules the next try
        with self._lock:
            if slot in self.retired:  # its host shrank while it started
                twin.stop(0.0)
                return
            # Snapshot under the edit lock: everything before is in it, everything
            # after reaches this twin through broadcast.
            try:
                entries = self._snapshot()
                if host is not None:  # the host's disk is the base: the local disk's diff first
                    entries = host.overlay_entries(self.seq) + entries
                for entry in entries:
                    self._send_snapshot_entry(twin, entry)
            except ChannelClosed:
                twin.kill("died during its snapshot")
                return  # _on_exit schedules the next try
            if slot in self.retired:  # its folder moved on while it started
                twin.kill("its folder chose another interpreter")
                return
            self.twins[slot] = twin
        self._check_ready()
        for hook in list(self.on_started):
            try:
                hook(twin)
            except Exception:  # a listener's bug must not cost the pool a twin
                log.exception("on_started hook %r failed", hook)

    def _start_failed(self, message: str, group: Group | None = None) -> None:
        """No twin can start in a folder's interpreter: say why and stop waiting for it."""
        if group is not None and not group.bad_choice:
            group.error = message
        where = ""
        if group is not None and len(self.roots) > 1:
            where = f" (for {', '.join(group.roots)})"
        self.notice("error", f"twinls: {message}{where}", code="interpreter")
        self._check_ready()

    @staticmethod
    def _send_snapshot_entry(twin: TwinProcess, entry: dict[str, Any]) -> None:
        """Send one snapshot entry; one that cannot be encoded is logged, not fatal."""
        try:
            frame = encode(entry)
        except Exception as exc:  # never leave the slot dead over one entry
            log.error("snapshot entry for %s not sent: %s", entry.get("path"), exc)
            return
        twin.send_raw(frame)

    def _snapshot(self) -> list[dict[str, Any]]:
        self.seq += 1
        entries: list[dict[str, Any]] = []
        for path in sorted(self.mirror.deleted):
            entries.append({"k": "edit", "seq": self.seq, "op": "deleted", "path": path})
        for path in self.mirror.docs:
            entries.append(self._full_text(path))
        if self.settings:
            entries.append({"k": "settings", "settings": self.settings})
        return entries

    def _full_text(self, path: str) -> dict[str, Any]:
        """An entry that sets a document to the mirror's text (closes it if not open)."""
        doc = self.mirror.docs.get(path)
        if doc is None:  # the server has no such document either: the twin reads disk
            return {"k": "edit", "seq": self.seq, "op": "close", "path": path}
        return {
            "k": "edit",
            "seq": self.seq,
            "op": "open",
            "path": path,
            "version": doc.version,
            "text": doc.buffer.text,
        }

    def _on_exit(self, twin: TwinProcess, reason: str) -> None:
        if self._stopping.is_set():
            return
        slot = twin.slot
        now = time.monotonic()
        with self._lock:
            if self.twins[slot] is twin or self.twins[slot] is None:
                self.twins[slot] = None
            if slot in self.retired:
                return  # its host shrank: it was stopped on purpose
            host = self.host_of.get(slot)
            if host is not None and not host.up:
                log.warning("remote twin %s (%s) lost: %s", slot, host.spec, reason)
                return  # the host is gone: _keep_host brings its twins back with it
            history = [t for t in self._restarts.get(slot, []) if now - t < self.restart_window]
            if reason.startswith("restarted on request"):
                history = []
            history.append(now)
            self._restarts[slot] = history
            if len(history) > self.max_restarts:
                self.gave_up.add(slot)
                give_up = True
            else:
                self._pending.add(slot)
                give_up = False
        if give_up:
            self.notice(
                "error",
                f"twinls: twin {slot} died {len(history)} times in "
                f"{int(self.restart_window)} s ({reason}); not restarting it. "
                "Run the 'twinls.restart' command to try again.",
                code="twin",
            )
        else:
            log.warning("twin %s died: %s; restarting", slot, reason)
        self._wake.set()

    def _retry_later(self, slot: int) -> None:
        """Count a failed start like a death, so the slot is retried (or given up, said so)."""
        now = time.monotonic()
        with self._lock:
            history = [t for t in self._restarts.get(slot, []) if now - t < self.restart_window]
            history.append(now)
            self._restarts[slot] = history
            if len(history) > self.max_restarts:
                self.gave_up.add(slot)
            else:
                self._pending.add(slot)
        self._wake.set()

    def _on_resync(self, twin: TwinProcess, path: str, reason: str) -> None:
        """The twin could not apply an edit: send it the document's full text."""
        log.warning("twin %s diverged on %s (%s); resending the full text", twin.slot, path, reason)
        with self._lock:
            self.resyncs += 1
            self.seq += 1
            entry = self._full_text(path)
            try:
                self._send_snapshot_entry(twin, entry)
            except ChannelClosed:
                pass

    def _supervise(self) -> None:
        """Start pending twins with backoff and ping the live ones."""
        while not self._stopping.is_set():
            self._wake.wait(self.heartbeat)
            self._wake.clear()
            if self._stopping.is_set():
                return
            with self._lock:
                pending = sorted(self._pending - self.gave_up - self.retired, key=self._start_order)
                self._pending.clear()
            for slot in pending:
                tries = len(self._restarts.get(slot, []))
                if tries:
                    time.sleep(min(5.0, 0.1 * 2 ** (tries - 1)))  # backoff
                try:
                    self._spawn(slot)
                except Exception as exc:
                    log.exception("starting twin %s failed", slot)
                    self.notice("error", f"twinls: cannot start twin {slot}: {exc}", code="twin")
                    self._retry_later(slot)
            if self.gave_up:
                self._check_ready()  # callers waiting for a twin must now hear there is none
            now = time.monotonic()
            if not self.sizing.fixed and now - self._measured_at >= RESIZE_EVERY:
                self._measured_at = now
                self._resize_local()
            n = next(self._pings)
            for t in self.live(lanes=True):
                stuck = self._stuck(t)
                silent = now - t.last_pong
                if not self._working(t, now) and silent > self.hang_after:
                    t.kill(f"stopped answering for {silent:.0f} s")
                elif stuck:
                    log.warning("twin %s: %s; restarting it", t.slot, stuck)
                    t.kill(stuck)
                else:
                    t.ping(n)

    def _working(self, t: TwinProcess, now: float) -> bool:
        """Whether a twin silent past ``hangAfter`` is computing, not hung.

        One that computes (its reader thread waits behind a long C call holding
        the GIL, or the machine is starved) keeps its work up to ``BUSY_GRACE``
        times ``hangAfter``; a stopped or deadlocked one uses no CPU and is
        killed at ``hangAfter``. CPU is looked at every second at most, so a
        supervisor woken early never sees too short a window. A remote twin's
        CPU cannot be read here: no grace.
        """
        if t.host is not None:
            return False
        used = cpu_seconds(t.pid)
        if used is None:
            return False
        if t.cpu_seen is None or now - t.cpu_seen[1] >= 1.0:
            t.cpu_busy = t.cpu_seen is not None and used > t.cpu_seen[0]
            t.cpu_seen = (used, now)
        silent = now - t.last_pong
        if t.cpu_busy and self.hang_after < silent <= BUSY_GRACE * self.hang_after:
            log.info("twin %s silent for %.0f s but using CPU: busy, not hung", t.slot, silent)
            return True
        return False

    def _keep_host(self, host: Any) -> None:
        """Connect a twin host, give it slots, and reconnect it with backoff when it goes."""
        measured = time.monotonic()
        while not self._stopping.is_set():
            if host.up:
                self._stopping.wait(1.0)
                if not host.sizing.fixed and time.monotonic() - measured >= RESIZE_EVERY:
                    measured = time.monotonic()
                    self._resize_host(host)
                continue
            if host.state == "up":  # it went away since the last look
                host.close()
                host.lost += 1
                host.failed("the gateway went away")
                self.notice(
                    "warning",
                    f"twinls: remote {host.spec} went away; its work goes to the other twins "
                    "while it is reconnected",
                )
            wait = host.next_try - time.monotonic()
            if wait > 0:
                self._stopping.wait(min(wait, 1.0))
                continue
            try:
                n = host.connect()
                measured = time.monotonic()
            except Exception as exc:
                wait = host.failed(str(exc))
                if host.failures == 1:
                    self.notice("error", f"twinls: remote {exc} (retrying in {wait:.0f} s)")
                log.warning("remote %s: %s; retrying in %.0f s", host.spec, exc, wait)
                continue
            if self._stopping.is_set():
                host.close()
                return
            with self._lock:
                self._wanted[id(host)] = n
                stop = self._set_slots(host, n)  # sized again at every connect
                for slot in self._slots_of(host):
                    self._restarts.pop(slot, None)
                    self.gave_up.discard(slot)
                    self._pending.add(slot)
            self._stop_all(stop)
            log.info("remote %s up: %d twins in %s (%s)", host.spec, n, host.root, host.sizing)
            self._wake.set()

    # -- sizing (server/sizing.py) ----------------------------------------------------

    def _slots_of(self, host: Any) -> list[int]:
        """The live (not retired) slots of a host (None: this machine)."""
        return [
            s
            for s in range(len(self.twins))
            if self.host_of.get(s) is host and s not in self.retired and s not in self.lanes
        ]

    def _set_slots(self, host: Any, n: int) -> list[TwinProcess]:
        """Give a host ``n`` slots (under the lock): retired ones come back first, new ones go
        at the end; shrinking retires the highest idle ones. The twins to stop (outside it)."""
        active = self._slots_of(host)
        if len(active) < n:
            back = sorted(s for s in self.retired if self.host_of.get(s) is host)
            for slot in back[: n - len(active)]:
                self.retired.discard(slot)
                self._pending.add(slot)
                active.append(slot)
            while len(active) < n:
                slot = len(self.twins)
                self.twins.append(None)
                if host is not None:
                    self.host_of[slot] = host
                    host.slots.append(slot)
                self._pending.add(slot)
                active.append(slot)
            self._wake.set()
        stop: list[TwinProcess] = []
        for slot in sorted(active, reverse=True)[: max(0, len(active) - n)]:
            twin = self.twins[slot]
            if twin is not None and twin.alive and twin.in_flight:
                continue  # busy: it goes at a later look, never mid-call
            self.retired.add(slot)
            self._pending.discard(slot)
            self.twins[slot] = None
            if twin is not None:
                stop.append(twin)
        return stop

    @staticmethod
    def _stop_all(twins: list[TwinProcess]) -> None:
        for twin in twins:
            threading.Thread(target=twin.stop, args=(2.0,), daemon=True).start()

    def _resize_local(self) -> None:
        """Re-measure this machine; grow or shrink the local twins when it changed noticeably."""
        local = [t for t in self.twins if t is not None and t.host is None and t.alive]
        sizing = local_sizing(self._meter.sample([t.pid for t in local]), len(local))
        with self._lock:
            self.sizing = sizing
            want = settle(self.size, sizing)
            if want == self.size == len(self._slots_of(None)):
                return  # (a busy twin left over from the last shrink goes now)
            if want != self.size:
                log.info("pool: %d local twins instead of %d (%s)", want, self.size, sizing.reason)
            self.size = want
            stop = self._set_slots(None, want)
        self._stop_all(stop)

    def _resize_host(self, host: Any) -> None:
        """Re-measure a host that is up; grow or shrink its twins likewise."""
        current = self._wanted.get(id(host)) or len(self._slots_of(host))
        try:
            sizing = host.remeasure()
        except Exception as exc:
            log.info("remote %s: re-measuring failed: %s", host.spec, exc)
            return
        want = settle(current, sizing)
        host.sizing = sizing
        with self._lock:
            if want == current == len(self._slots_of(host)):
                return  # (a busy twin left over from the last shrink goes now)
            if want != current:
                log.info("remote %s: %d twins, not %d (%s)", host.spec, want, current, sizing)
            self._wanted[id(host)] = want
            stop = self._set_slots(host, want)
        self._stop_all(stop)

    def remotes_info(self) -> list[dict[str, Any]]:
        return [h.describe() for h in self.hosts]

    def _stuck(self, t: TwinProcess) -> str | None:
        """Why the twin's worker counts as stuck (from its last pong), if it does."""
        if self.cancel_grace is not None and t.cancelled_for > self.cancel_grace:
            return f"its worker ignored a cancel for {t.cancelled_for:.0f} s"
        if self.worker_timeout is not None and t.busy > self.worker_timeout:
            return f"its worker was stuck on one call for {t.busy:.0f} s"
        return None

    # -- the edit log ---------------------------------------------------------------

    def apply(self, entry: dict[str, Any]) -> int:
        """Apply an edit entry to the mirror, then send it to every twin, in order.

        The entry is encoded before the mirror changes: one that cannot travel
        (raises here) leaves the mirror and every twin as they were.
        """
        with self._lock:
            seq = self.seq + 1
            entry = {**entry, "k": "edit", "seq": seq}
            frame = encode(entry)
            apply_entry(self.mirror, entry)
            self.seq = seq
            path = entry["path"]
            if entry["op"] == "change":
                # A CRC of the whole text costs a pass over it: attach one at most every
                # VERIFY_EVERY seconds per document while typing, and always before a call.
                now = time.monotonic()
                if now - self._verified_at.get(path, 0.0) >= VERIFY_EVERY:
                    entry["crc"] = text_crc(self.mirror.docs[path].buffer.text)
                    frame = encode(entry)
                    self._verified_at[path] = now
                    self._unverified.discard(path)
                else:
                    self._unverified.add(path)
            elif entry["op"] in ("open", "close", "deleted"):
                self._unverified.discard(path)
            self._broadcast(frame)
            return self.seq

    def _broadcast(self, frame: bytes) -> None:
        for t in self.twins:
            if t is not None and t.alive:
                try:
                    t.send_raw(frame)
                except ChannelClosed:
                    pass  # its reader will notice; the snapshot will carry this edit

    def _verify_pending(self) -> None:
        """Send the CRC of every document edited since its last check, before a call.

        A twin that finds a mismatch asks for the full text and holds its calls
        until it arrives, so no call ever reads a diverged copy.
        """
        if not self._unverified:
            return
        with self._lock:
            for path in sorted(self._unverified):
                doc = self.mirror.docs.get(path)
                if doc is None:
                    continue
                self.seq += 1
                self._broadcast(
                    encode(
                        {
                            "k": "edit",
                            "seq": self.seq,
                            "op": "verify",
                            "path": path,
                            "crc": text_crc(doc.buffer.text),
                        }
                    )
                )
                self._verified_at[path] = time.monotonic()
            self._unverified.clear()

    def update_settings(self, settings: dict[str, Any]) -> None:
        with self._lock:
            self.settings.update(settings)
            self.mirror.excluded = list(self.settings.get("exclude", []))
            for t in self.live():
                t.send({"k": "settings", "settings": self.settings})

    # -- calls ------------------------------------------------------------------------

    def takes(self, twin: TwinProcess, item: Any) -> bool:
        """May this twin work on ``item`` (a file)? A remote one only in the folders it
        maps; a local one only in its folder's interpreter group (``server/groups.py``),
        unless that group has no live twin: a file is never left with nobody to take it."""
        if not isinstance(item, str):
            return True
        host = getattr(twin, "host", None)
        if host is not None:
            return bool(host.paths.maps(item))
        if len(self.groups) <= 1:
            return True
        group = self.group_for(item)
        if group is None or self.group_of.get(twin.slot) is group:
            return True
        return not any(t.host is None and self.group_of.get(t.slot) is group for t in self.live())

    def pick(self, path: str | None = None, interactive: bool = False) -> TwinProcess | None:
        """The least busy local twin (remote ones take only sharded work); with ``path``,
        one in the interpreter of the folder holding it.

        ``interactive`` (a hover, an outline, a lens): the group's interactive twin too,
        first at equal load. A search keeps every other twin busy, so it is the one; if
        it is down (or busy with another interactive call while a twin idles) a search
        twin answers, letting the call in between its units (``twin/gate.py``).
        """
        live = [t for t in self.live(path, lanes=interactive) if t.host is None]
        if not live:
            return None
        return min(live, key=lambda t: (t.in_flight, t.slot not in self.lanes))

    def call(
        self,
        target: Query[Any] | str | Callable[..., Any],
        *args: Any,
        twin: TwinProcess | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> Promise:
        """Ask one twin (the least busy, unless named) to run ``target``.

        ``target``: a typed stub's :class:`Query` (``server/stubs.py``), or a callable
        (the Python API's ``run_remotely``). ``decode`` maps batches and the value as
        they arrive (the Python API unpickles there; the LSP server never does).
        """
        path = None
        interactive = False
        if isinstance(target, Query):
            interactive = target.interactive
            target, args = target.name, target.args
            path = query_path(args)
        twin = twin or self.pick(path, interactive)
        if twin is None:
            return Promise.rejected(self.unavailable(path))
        self._verify_pending()
        lane = interactive and twin.slot in self.lanes
        release = self.pause.hold(self._searching()) if lane else None
        promise = twin.call(target, list(args), self.seq, decode)
        if release is not None:
            promise.on_done(release)
        if lane:
            return self._or_search_twin(promise, target, list(args), path, decode)
        return promise

    def _searching(self) -> list[int]:
        """The pids of the local search twins busy now (the ones a pause stops)."""
        return [t.pid for t in self.live() if t.host is None and t.in_flight and t.pid]

    def _or_search_twin(
        self,
        first: Promise,
        target: Any,
        args: list[Any],
        path: str | None,
        decode: Callable[[Any], Any] | None,
    ) -> Promise:
        """An interactive call that the interactive twin died under, asked again of a
        search twin (an interactive query only reads: asking twice is harmless), so its
        death costs the user nothing but the time."""
        current = [first]
        out = Promise(first.call_id, first.twin, lambda: current[0].cancel())

        def follow(p: Promise) -> None:
            p.on_partial(out._add_partial)
            p.on_progress(out._progress)
            p.on_done(lambda: settled(p))

        def settled(p: Promise) -> None:
            try:
                value = p.result(0)
            except TwinDied as exc:
                twin = self.pick(path) if p is first and not out.done() else None
                if twin is None:
                    out._reject(exc)
                    return
                log.info("interactive twin died under %s; asking twin %s", target, twin.slot)
                current[0] = nxt = twin.call(target, args, self.seq, decode)
                out.twin = twin
                follow(nxt)
            except BaseException as exc:
                out._reject(exc)
            else:
                out._resolve(value)

        follow(first)
        return out

    def call_each(
        self, target: Query[Any] | str, *args: Any, lanes: bool = False
    ) -> list[tuple[TwinProcess, Promise]]:
        """Ask every live twin (status, warm-up), the interactive ones too with ``lanes``;
        pairs each promise with its twin."""
        if isinstance(target, Query):
            target, args = target.name, target.args
        self._verify_pending()
        return [(t, t.call(target, list(args), self.seq)) for t in self.live(lanes=lanes)]

    def unavailable(self, path: str | None = None) -> TwinUnavailable:
        group = self.group_for(path) if path is not None else None
        error = (group.bad_choice or group.error) if group is not None else self.start_error
        if error:
            return TwinUnavailable(f"no twin can start: {error}")
        if self.gave_up:
            return TwinUnavailable(
                "the twin kept dying and was not restarted; run the 'twinls.restart' command"
            )
        return TwinUnavailable("no twin is running yet; try again in a moment")

    def mirror_hashes(self) -> dict[str, str]:
        return {p: text_sha256(t) for p, t in self.mirror.texts().items()}

    # -- sharded calls (searches) ----------------------------------------------------

    def call_sharded(self, target: Sharded[Any] | str, *args: Any) -> Promise:
        """Spread ``items`` over every live twin in chunks: ``target(ctx, chunk, *args)``.

        ``target``: a typed stub's :class:`Sharded` (``server/stubs.py``), or a query
        name followed by ``items`` and the other arguments.

        The twin query returns how many items of its chunk it finished (it may stop
        early to stay responsive; the rest is dealt again). One promise carries every
        chunk's partial batches and ``done/total`` progress; cancelling it cancels
        the chunks in flight.
        """
        from .shards import ShardedCall

        if isinstance(target, Sharded):
            name, items, rest = target.name, target.items, target.args
        else:
            name, items, rest = target, args[0], args[1:]
        return ShardedCall(
            self, name, list(items), rest, self.kept_at, self.mirror.generation
        ).start()

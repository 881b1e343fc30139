"""Run child: a supervisor forked from the twin, and executors forked from it.

The twin forks a **supervisor** on its worker thread, so the child's copy of the
overlay is exactly the text the run was asked for. The supervisor is single
threaded and never runs user code: it forks an **executor** that runs pytest
(or an example) and streams results back, and it watches it. An executor that
outlives the timeout has its stack dumped (faulthandler, on SIGUSR1) and is
killed; one that dies (``os._exit``, a segfault) is noticed by the closed
socket. Either way the test that was running is named, and the tests it did
not reach are re-run one executor each, forked from the same snapshot.

The supervisor leads its own process group, so cancelling a run is one
``killpg``; both children die with their parent (``PR_SET_PDEATHSIG``), so a
dead twin leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import io
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..shared import checks, reap
from ..shared.frames import (
    ChannelClosed,
    ChannelTimeout,
    FrameReader,
    FrameTooBig,
    FrameWriter,
    Pickled,
)
from ..shared.inspect_schema import ParkedInfo
from ..shared.paths import belongs_to_interpreter, in_workspace
from ..shared.results import test_entry
from ..twin.context import CallContext, Cancelled
from ..twin.state import TwinState
from . import live

#: The twin's ends of run sockets: a newly forked supervisor closes its copies.
_open: set[socket.socket] = set()
_open_lock = threading.Lock()
#: Supervisors still running (killed if the twin exits mid-run).
_handles: set[Handle] = set()

STACK_WAIT = 1.0  # seconds to wait for a faulthandler dump before the kill
#: Seconds an executor may be silent while no test is running (start-up, collection,
#: between tests) when ``runTimeout`` is shorter: a loaded machine is slow there too,
#: and ``runTimeout`` is a test's budget, not pytest's.
BETWEEN_TESTS = 60.0
REAP_GRACE = 2.0  # seconds an executor has to exit after its last word
EXIT_DRAIN = 0.5  # seconds to read what an executor wrote before it exited

_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


@dataclass(eq=False)
class Handle:
    """The twin's view of one running supervisor."""

    pid: int  # 0 until a warm run's supervisor names itself (``run/warm_session.py``)
    sock: socket.socket
    closed: bool = False
    own: bool = True  # our child (reaped here); a warm run's supervisor is its zygote's

    def kill(self) -> None:
        if self.pid <= 0:
            return  # not forked yet: closing the socket stops it (its first write fails)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            _handles.discard(self)
            untrack(self.sock)
            self.sock.close()
            if self.own:
                threading.Thread(target=_reap, args=(self.pid,), daemon=True).start()


def _reap(pid: int) -> None:
    """Wait for a supervisor, then kill anything still in its process group."""
    reap.wait(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# -- the twin's side -----------------------------------------------------------------


def spawn(state: TwinState, spec: dict[str, Any]) -> Handle:
    """Fork a supervisor for ``spec``; call on the twin's worker thread (see module doc)."""
    ours, theirs = socket.socketpair()
    pid = fork_from_twin(
        state, lambda: supervise(state, spec, theirs), mine=[ours], theirs=[theirs]
    )
    return adopt(pid, ours)


def fork_from_twin(
    state: TwinState,
    body: Callable[[], None],
    mine: list[socket.socket],
    theirs: list[socket.socket],
) -> int:
    """Fork a child of the twin that runs ``body`` and exits; the pid.

    The child closes the twin's ends (``mine``), the twin the child's (``theirs``);
    the twin's heap is frozen over the fork, so the child's collections skip it.
    """
    gc.freeze()
    try:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for s in mine:
                    s.close()
                body()
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
    finally:
        if os.getpid() == state.pid:
            gc.unfreeze()
    for s in theirs:
        s.close()
    return pid


def track(*socks: socket.socket) -> None:
    """The twin's ends of run sockets: a newly forked supervisor closes its copies."""
    with _open_lock:
        _open.update(socks)


def untrack(sock: socket.socket) -> None:
    with _open_lock:
        _open.discard(sock)


def adopt(pid: int, sock: socket.socket, own: bool = True) -> Handle:
    """The twin's handle on a supervisor (killed if the twin exits mid-run)."""
    track(sock)
    handle = Handle(pid, sock, own=own)
    _handles.add(handle)
    return handle


def follow(
    ctx: CallContext, handle: Handle, on_park: Callable[[Handle, Any], bool] | None = None
) -> dict[str, Any]:
    """Stream a supervisor's events to the caller until it ends; kill it on cancel.

    A run that ends ``parked`` (it holds a live result) is handed to ``on_park``
    instead of being let go, unless that declines it (``twin/parked.py``).
    """
    reader = FrameReader(handle.sock)
    tests: list[dict[str, Any]] = []
    end: dict[str, Any] | None = None
    try:
        while end is None:
            if ctx.cancelled.is_set():
                handle.kill()
                raise Cancelled(f"run {ctx.id} was cancelled")
            ready, _, _ = select.select([handle.sock], [], [], 0.05)
            if not ready:
                continue
            try:
                msg = reader.read()
            except ChannelClosed:
                break
            msg = without_pickles(msg)
            try:
                checks.check_message(msg, checks.RUN_EVENTS, "run child → twin")
            except checks.MessageError as exc:  # a bug in the run child: said, then skipped
                ctx.send({"k": "log", "level": "error", "msg": f"run event skipped: {exc}"})
                continue
            if msg["k"] == "pid":  # a warm run's supervisor, forked by its zygote
                handle.pid = int(msg["pid"])
                continue
            if msg["k"] == "end":
                end = msg
                break
            if msg["k"] == "result":
                tests.append(msg["test"])
            ctx.partial([msg])
    finally:
        if end is None:
            handle.kill()  # cancelled, or the supervisor died: its whole group goes
        if not _parked(handle, end, on_park):
            handle.close()  # else it sweeps and exits; the reaper kills what is left
    if end is None:
        entry = test_entry(
            "run", None, message="the run's supervisor process died", outcome="error"
        )
        tests.append(entry)
        ctx.partial([{"k": "result", "test": entry}])
        end = {}
    session = {k: v for k, v in end.items() if k not in ("k", "imported", "parked")}
    return {"tests": tests, "imported": end.get("imported", []), **session}


def _parked(
    handle: Handle, end: dict[str, Any] | None, on_park: Callable[[Handle, Any], bool] | None
) -> bool:
    """Was the run's parked child kept (so its handle must stay open)?"""
    if end is None or not end.get("parked"):
        return False
    if on_park is not None and on_park(handle, end["parked"]):
        return True
    handle.kill()  # parked, but not kept
    return False


def without_pickles(value: Any) -> Any:
    """A run child's message with any pickled object replaced by its description.

    Nothing a test sends is ever unpickled (the readers here are plain); this only
    keeps the placeholder out of the JSON the server sends the editor.
    """
    if isinstance(value, Pickled):
        return repr(value)
    if isinstance(value, dict):
        return {k: without_pickles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_pickles(v) for v in value]
    return value


def kill_all() -> None:
    """Kill every run's process group (the twin is exiting: nothing may outlive it)."""
    for handle in list(_handles):
        handle.kill()


# -- process set-up ------------------------------------------------------------------


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value)
    except (OSError, AttributeError):
        pass


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent (thread) goes away."""
    _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _adopt_orphans() -> None:
    """Become the subreaper: a test's orphaned grandchildren become our children."""
    _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def _proc_stat(pid: int) -> tuple[bytes, int, int] | None:
    """(state, parent pid, process group) of ``pid`` from /proc; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def sweep(keep: frozenset[int] = frozenset()) -> int:
    """Kill everything a run left: our process group and our adopted orphans.

    Called by the supervisor between executors and at the end of a run, so a
    test that forked (even one that left our group with ``setsid``, whose
    orphans come to us as the subreaper) leaves nothing running. ``keep``: a
    parked executor (``twin/parked.py``).
    """
    me, group = os.getpid(), os.getpgrp()
    killed = 0
    if not _has_children():
        return 0  # every descendant would be our child (we are the subreaper): none left
    for _ in range(50):  # a fork bomb may add processes while we look
        live, ours = [], []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me or int(name) in keep:
                continue
            info = _proc_stat(int(name))
            if info is None or not (info[2] == group or info[1] == me):
                continue
            if info[0] != b"Z":
                live.append(int(name))
            if info[1] == me:
                ours.append(int(name))
        if not live and not ours:
            break
        for pid in live:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        for pid in ours:  # killed above or already dead: reap, so no zombie is left
            reap.wait(pid)
    return killed


def _has_children() -> bool:
    """Reap exited children; is any child (so any descendant) still running?"""
    return reap.reap_exited()


def close_inherited(keep: set[int]) -> None:
    """Let go of every descriptor but 0, 1, 2 and ``keep`` (an executor's own).

    Each is pointed at ``/dev/null`` rather than closed: the twin's Python objects
    that owned them still hold the numbers, and a plain close would let a later
    ``open`` reuse a number such an object may close again when collected.
    """
    devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd > 2 and fd not in keep and fd != devnull:
                try:
                    os.dup2(devnull, fd, inheritable=False)
                except OSError:
                    pass  # the listing's own descriptor, already closed
    finally:
        os.close(devnull)


def limit_executor(memory_mb: int | None) -> None:
    """An executor is the first thing the OOM killer takes; with a limit, it has one."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    if memory_mb:
        import resource

        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def become_supervisor(state: TwinState, root: str) -> None:
    """Set this fresh fork up as a run's supervisor (or a collection zygote)."""
    global _open_lock
    os.setpgid(0, 0)
    _die_with_parent()
    _adopt_orphans()
    if state.channel is not None:
        state.channel.close()  # the twin's channel is the twin's alone
    # Another twin thread may have held the lock at the fork: this copy is ours alone.
    _open_lock = threading.Lock()
    for s in list(_open):
        s.close()
    _open.clear()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    gc.enable()  # a twin thread (the index walk) may have had it off at the fork
    sys.dont_write_bytecode = True
    os.chdir(root)
    if root not in sys.path:
        sys.path.insert(0, root)


# -- the supervisor ------------------------------------------------------------------


@dataclass
class Ending:
    """How one executor ended: its last word, or why it has none."""

    ok: bool
    end: dict[str, Any] = field(default_factory=dict)
    current: str | None = None
    why: str = ""
    stack: str = ""


class Supervisor:
    def __init__(self, state: TwinState, spec: dict[str, Any], out: FrameWriter) -> None:
        self.state = state
        self.spec = spec
        self.out = out
        self.roots = state.roots
        self.timeout = float(spec.get("timeout") or 60.0)
        self.collected: list[str] = []
        self.lines: dict[str, int | None] = {}
        self.reported: set[str] = set()
        self.imported: set[str] = set()
        self.finished: list[int] = []  # executors that said their last word, to reap
        self.parked: tuple[int, socket.socket] | None = None  # (pid, socket) of a parked one
        #: A warm run's: an executor raises through it into its zygote's session.
        self.resume: Callable[[dict[str, Any], socket.socket, int], NoReturn] | None = None

    def run(self) -> None:
        first = self.execute(self.spec, forward_collected=True)
        session = {k: v for k, v in first.end.items() if k not in ("k", "imported")}
        if not first.ok:
            sweep()
            self.report_lost(first.current or self.target_nodeid(), first)
            session["exitcode"] = 1  # pytest would have reported the lost test as failed
            rest = [n for n in self.collected if n not in self.reported and n != first.current]
            for nodeid in rest:
                single = {**self.spec, "targets": [nodeid], "include": [], "exclude": []}
                single["park"] = False
                ending = self.execute(single, forward_collected=False)
                sweep()
                session["warnings"] = session.get("warnings", 0) + ending.end.get("warnings", 0)
                if not ending.ok and nodeid not in self.reported:
                    self.report_lost(ending.current or nodeid, ending)
        self.out.write({"k": "end", "imported": sorted(self.imported), **session})
        for pid in self.finished:  # after the answer: a big process takes a while to exit
            _wait_exit(pid, REAP_GRACE)
        # Nothing a test forked outlives its run (a parked executor stays, alone).
        sweep(frozenset([self.parked[0]]) if self.parked else frozenset())

    def target_nodeid(self) -> str:
        """A node id for the whole job (when it died before naming any test)."""
        spec = self.spec
        if spec["kind"] == "example":
            target = f"{spec['path']}::{spec['qualname']}"
        else:
            targets = spec.get("targets") or [spec["path"]]
            target = targets[0] if len(targets) == 1 else spec["path"]
        file, sep, rest = target.partition("::")
        return os.path.relpath(os.path.join(spec["root"], file), spec["root"]) + sep + rest

    def report_lost(self, nodeid: str, ending: Ending) -> None:
        """A result for the test an executor died in (or was killed in)."""
        path, line = self.spec["path"], self.lines.get(nodeid)
        for m in _FRAME.finditer(ending.stack):
            if in_workspace(m.group("path"), self.roots):
                path, line = m.group("path"), int(m.group("line")) - 1
                break  # faulthandler lists the most recent call first
        message = ending.why
        entry = test_entry(
            nodeid,
            self.spec["path"],
            outcome="error",
            message=message,
            stack=ending.stack or None,
            traceback=(message + "\n\n" + ending.stack) if ending.stack else message,
            path=path,
            line=line,
        )
        self.reported.add(nodeid)
        self.relay({"k": "result", "test": entry})

    def relay(self, msg: dict[str, Any]) -> None:
        """Send an event up; one too big for a frame becomes an error for that test."""
        try:
            self.out.write(msg)
        except FrameTooBig as exc:
            if msg.get("k") != "result":
                return  # progress only: the result will say what happened
            test = msg["test"]
            small = {k: test.get(k) for k in ("nodeid", "name", "qualname", "file", "path", "line")}
            entry = test_entry(
                test["nodeid"],
                test.get("file"),
                **{k: v for k, v in small.items() if k not in ("nodeid", "file")},
                outcome="error",
                message=f"twinls could not send this test's result: {exc}",
            )
            self.out.write({"k": "result", "test": entry})

    def execute(self, job: dict[str, Any], forward_collected: bool) -> Ending:
        ours, theirs = socket.socketpair()
        stack_r, stack_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            warm = False
            try:
                ours.close()
                os.close(stack_r)
                _die_with_parent()
                close_inherited({theirs.fileno(), stack_w})
                limit_executor(job.get("memory_limit"))
                if self.resume is None:
                    execute(self.state, job, theirs, stack_w)
                else:
                    warm = True
            finally:
                if not warm:
                    os._exit(0)
            self.resume(job, theirs, stack_w)  # raises: the executor runs in the zygote's pytest
            os._exit(0)
        theirs.close()
        os.close(stack_w)
        try:
            return self._watch(pid, ours, stack_r, forward_collected)
        finally:
            if self.parked is None or self.parked[1] is not ours:
                ours.close()
            os.close(stack_r)

    def _watch(self, pid: int, sock: socket.socket, stack_r: int, forward: bool) -> Ending:
        """Relay an executor's events until its ``end``, its death, or its deadline.

        The executor's exit is watched through a pidfd as well as its socket: a
        test that forked keeps the socket open in the grandchild, and a crash
        must still read as a crash. A frame that stops half way counts against
        the same deadline.
        """
        reader = FrameReader(sock)
        current: str | None = None
        budget = max(self.timeout, BETWEEN_TESTS)
        deadline = time.monotonic() + budget
        pidfd = _pidfd(pid)
        exited = False
        try:
            while True:
                left = deadline - time.monotonic()
                watch = [sock] if exited or pidfd is None else [sock, pidfd]
                ready = select.select(watch, [], [], max(0.0, left))[0] if left > 0 else []
                if not ready:
                    if exited:  # gone without its last word; what it wrote is read
                        return self._crashed(pid, stack_r, current)
                    stack = _dump_stack(pid, stack_r)
                    _kill(pid)
                    why = f"Timeout: still running after {budget:g} s; its process was killed"
                    return Ending(False, current=current, why=why, stack=stack)
                if sock not in ready:  # the pidfd: it exited; drain its socket briefly
                    exited = True
                    deadline = time.monotonic() + EXIT_DRAIN
                    continue
                sock.settimeout(max(left, 0.001))
                try:
                    msg = reader.read()
                except ChannelTimeout:
                    if exited:
                        return self._crashed(pid, stack_r, current)
                    stack = _dump_stack(pid, stack_r)
                    _kill(pid)
                    why = (
                        f"Timeout: still running after {budget:g} s (its last message "
                        "stopped half way); its process was killed"
                    )
                    return Ending(False, current=current, why=why, stack=stack)
                except ChannelClosed:
                    return self._crashed(pid, stack_r, current)
                finally:
                    sock.settimeout(None)
                kind = msg["k"]
                if kind == "end":
                    self.imported.update(msg.get("imported", []))
                    if msg.get("parked"):
                        self.parked = (pid, sock)
                    else:
                        self.finished.append(pid)
                    return Ending(True, end=msg, current=current)
                if kind == "start":
                    current = msg["nodeid"]
                elif kind == "result":
                    self.reported.add(msg["test"]["nodeid"])
                    if msg["test"]["nodeid"] == current:
                        current = None
                if not exited:  # runTimeout is a test's budget; pytest's own work gets more
                    budget = self.timeout if current else max(self.timeout, BETWEEN_TESTS)
                    deadline = time.monotonic() + budget
                if kind == "collected":
                    for item in msg["items"]:
                        self.collected.append(item["nodeid"])
                        self.lines[item["nodeid"]] = item.get("line")
                    if not forward:
                        continue
                self.relay(msg)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    @staticmethod
    def _crashed(pid: int, stack_r: int, current: str | None) -> Ending:
        status = _wait_exit(pid, REAP_GRACE)
        stack = _read_available(stack_r, 0.2)
        return Ending(False, current=current, why=_describe(status), stack=stack)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class Resume(BaseException):
    """Raised in a warm run's new executor to unwind into its zygote's pytest session."""


def supervise(
    state: TwinState,
    spec: dict[str, Any],
    sock: socket.socket,
    resume: Callable[[dict[str, Any], socket.socket, int], NoReturn] | None = None,
) -> NoReturn:
    """Body of the supervisor process (never returns; a warm executor raises ``Resume``)."""
    from . import imports

    become_supervisor(state, spec["root"])
    out = FrameWriter(sock)
    if resume is None:
        imports.install(state.overlay, set(sys.modules))
    else:  # forked by a collection zygote: the twin learns who runs its run
        out.write({"k": "pid", "pid": os.getpid()})
    try:
        supervisor = Supervisor(state, spec, out)
        supervisor.resume = resume
        supervisor.run()
        if supervisor.parked is not None:
            stay_parked(sock, out, *supervisor.parked, float(spec.get("park_timeout") or 600))
    except Resume:
        raise
    except BaseException as exc:
        entry = test_entry("run", spec.get("path"), message=f"twinls supervisor failed: {exc!r}")
        try:
            out.write({"k": "result", "test": entry})
            out.write({"k": "end", "imported": [], "message": traceback.format_exc()})
        except ChannelClosed:
            pass
    os._exit(0)


def stay_parked(
    up: socket.socket, out: FrameWriter, pid: int, down: socket.socket, timeout: float
) -> None:
    """Relay the twin's ``inspect`` requests to the parked executor and its answers back.

    Ends when the twin lets go, the executor exits, or nobody asked for ``timeout``
    seconds; the executor is killed then (and so the run's group is empty).
    """
    up_reader, down_reader, down_writer = FrameReader(up), FrameReader(down), FrameWriter(down)
    try:
        while True:
            ready = select.select([up, down], [], [], timeout)[0]
            if not ready or down in ready:
                break  # idle too long, or the executor went
            try:
                msg = up_reader.read()
                down_writer.write(msg)
                out.write(down_reader.read())
            except (ChannelClosed, OSError):
                break
    finally:
        _kill(pid)
        down.close()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _wait_exit(pid)


def _wait_exit(pid: int, grace: float | None = None) -> int | None:
    """The exit status; with ``grace``, kill a process that does not exit in time."""
    return reap.wait(pid, grace)


def _describe(status: int | None) -> str:
    ended = reap.exit_of(status)
    if ended.signal is not None:
        return f"Crashed: the test process was {ended}"
    if ended.code is not None:
        return f"Crashed: the test process {ended} before reporting (os._exit or a hard exit)"
    return "Crashed: the test process went away before reporting"


def _dump_stack(pid: int, stack_r: int) -> str:
    try:
        os.kill(pid, signal.SIGUSR1)
    except ProcessLookupError:
        return ""
    return _read_available(stack_r, STACK_WAIT)


def _read_available(fd: int, wait: float) -> str:
    """What is written to ``fd`` within ``wait`` seconds (stop once it goes quiet)."""
    chunks: list[bytes] = []
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        ready = select.select([fd], [], [], left if not chunks else min(left, 0.1))[0]
        if not ready:
            if chunks:
                break
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


# -- the executor --------------------------------------------------------------------


def execute(state: TwinState, job: dict[str, Any], sock: socket.socket, stack_w: int) -> None:
    """Body of an executor: run the job, stream results, say which modules it imported."""
    faulthandler.enable(file=stack_w, all_threads=True)
    faulthandler.register(signal.SIGUSR1, file=stack_w, all_threads=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the twin ignores it; tests not
    out = FrameWriter(sock)
    before = set(sys.modules)
    session: dict[str, Any] = {"message": None}
    if job.get("park"):
        live.table(job["twin_pid"])  # what this run keeps for inspecting
    try:
        if job.get("debug"):
            from .debug import wait_for_debugger

            wait_for_debugger(out.write, state.overlay)
        if job["kind"] == "example":
            _run_example(state, job, out)
        else:
            session = _run_pytest(state, job, out, stack_w)
    except BaseException:
        message = traceback.format_exc()
        session = {"message": message}
        out.write({"k": "result", "test": test_entry("run", job.get("path"), message=message)})
    if job.get("debug"):
        from .debug import end_debug_session

        end_debug_session()
    finish(state, job, out, sock, before, session)


def finish(
    state: TwinState,
    job: dict[str, Any],
    out: FrameWriter,
    sock: socket.socket,
    before: set[str],
    session: dict[str, Any],
) -> None:
    """An executor's last word (``end``); then it parks if it kept a live result."""
    end = {"k": "end", "imported": _third_party(before, state.roots), **session}
    kept = live.current() if job.get("park") else None
    if kept:
        end["parked"] = ParkedInfo(
            pid=os.getpid(),
            paths=live.imported_texts(state.overlay, state.roots),
            rss=live.rss_kib(),
        )
    out.write(end)
    if kept:
        live.serve(sock, kept)  # until the twin lets go of this result


def _run_example(state: TwinState, job: dict[str, Any], out: FrameWriter) -> None:
    from .examples import run_example

    nodeid = f"{os.path.relpath(job['path'])}::{job['qualname']}"
    out.write({"k": "collected", "items": [{"nodeid": nodeid, "file": job["path"]}]})
    out.write({"k": "start", "nodeid": nodeid})
    kept = live.current() if job.get("park") else None
    entry = run_example(
        job["path"],
        job["qualname"],
        job["mode"],
        state.overlay,
        state.roots,
        keep=kept.keep if kept is not None else None,
    )
    entry["nodeid"] = nodeid
    out.write({"k": "result", "test": entry})


def pytest_args(job: dict[str, Any]) -> list[str]:
    """A plain pytest command line, minus anything that would write to disk."""
    import importlib.util

    from ..twin.fastconfig import BASE_ARGS

    # No -q: the project's own verbosity decides what pytest counts (passed subtests).
    args = [*BASE_ARGS, "--color=no", "--rootdir", job["root"]]
    if importlib.util.find_spec("xdist") is not None:
        args += ["-n", "0"]  # a run child is already the parallel unit
    root = job["root"]
    for target in job["targets"]:
        args.append(target if os.path.isabs(target) else os.path.join(root, target))
    return args


def _run_pytest(
    state: TwinState, job: dict[str, Any], out: FrameWriter, stack_w: int | None = None
) -> dict[str, Any]:
    """One pytest session; what the run's ``end`` says about it (see ``session_end``)."""
    import pytest

    from ..twin import fastconfig
    from . import trace
    from .pytest_plugin import CacheOptionsIgnored, FaulthandlerTimeout, Reporter, session_end

    kept = live.current() if job.get("park") else None
    keeper = live.FailureKeeper(kept, state.roots) if kept is not None else None
    emit = keeper.stamp(out.write) if keeper is not None else out.write
    reporter = Reporter(emit, state.roots, job.get("include"), job.get("exclude"))
    plugins = [reporter, CacheOptionsIgnored(), FaulthandlerTimeout(reporter, stack_w)]
    plugins += trace.plugins(job, out.write, state.overlay.read_text, state.roots)  # live runs
    if keeper is not None:
        plugins.append(keeper)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = text = io.StringIO()
    try:
        capture_in_memory()
        fastconfig.use_once()
        code = pytest.main(pytest_args(job), plugins=plugins)
    finally:
        sys.stdout, sys.stderr = saved
    return session_end(reporter, int(code), text.getvalue())


def capture_in_memory() -> None:
    """pytest's fd capture writes to temp files; a run child's go to memory (memfd)."""
    if not hasattr(os, "memfd_create"):
        return
    from ..twin import pytest_compat

    def memory_file(*args: Any, **kwargs: Any) -> Any:
        return open(os.memfd_create("twinls-capture"), "wb+", buffering=0)

    pytest_compat.capture_into(memory_file)


def _third_party(before: set[str], roots: list[str]) -> list[str]:
    """Modules this run imported that live with the interpreter (the twin may preload them)."""
    names = []
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        if spec is None or name == "__main__":
            continue
        if spec.origin is None and spec.submodule_search_locations:
            continue  # a namespace package: could be the workspace's
        if belongs_to_interpreter(spec.origin, roots):
            names.append(name)
    return sorted(names)[:5000]

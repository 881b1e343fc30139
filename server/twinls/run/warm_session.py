"""Run child: a collection zygote, one test file's pytest session collected once and kept.

Warm collection (issue 15). Collecting a big module is most of a run's time (a
51,000-case parametrized module: seconds), and a re-run of one of its tests
collects it all again. So the first run of a test file forks a **zygote** from
the twin instead of a supervisor: it sets up as a supervisor does, runs
``pytest.main`` on the whole file and, in ``pytest_runtestloop``, stops and
waits on its control socket. Each run is then one fork of it (the run's
**supervisor**, ``run/child.py`` unchanged: timeouts, crashes, parking); the
supervisor's **executor** is a fork of that, which returns from the hook into
pytest with ``session.items`` cut to the run's targets, so pytest itself runs
them (``runtestprotocol`` per item, ``-x``, collection errors, the session's
finish and exit code) and the executor ends as a cold one does.

What is set up where: the zygote holds imported modules (the file, its
conftests, what they import) and pytest's collected items, nothing more. No
fixture of any scope is set up in it (pytest sets fixtures up in a test's
setup phase, which only executors reach), so every run sets up and tears down
its own session, package, module and class fixtures, and state a test leaves
behind dies with its executor. ``pytest_configure``, ``pytest_sessionstart``
and collection hooks ran once, in the zygote, as they do once per cold run.

Exactness: the run's ``collected`` event, the deselected count (the project's
own ``-m``/``-k``, counted for the run's targets only), shards' ``include`` /
``exclude`` and live runs' ``select`` are applied per run; a target that names
nothing is pytest's usage error (exit 4). The global fd capture is restarted
in each executor (the zygote's memfds would be shared by its forks). Each run
brings the twin's unsaved texts (``docs``), so a module first imported by a
test sees the editor's text; the twin replaces the zygote when a file it
imported or a config file changes (``twin/warm_sessions.py``), unless only
function bodies of a workspace module changed: then the run's ``swap`` names
the files whose new bodies its supervisor sets on the zygote's functions
(``run/code_swap.py``), and its ``warm`` says ``swapped``.
"""

from __future__ import annotations

import faulthandler
import gc
import io
import marshal
import os
import select
import signal
import socket
import sys
import traceback
import zlib
from collections.abc import Callable
from typing import Any, NoReturn

import pytest

from ..shared import reap
from ..shared.frames import ChannelClosed, FrameReader, FrameWriter
from ..shared.overlay import Doc
from ..shared.paths import in_workspace
from ..shared.schema import WarmReady, WarmServed
from ..shared.textbuf import TextBuffer
from ..twin.state import TwinState
from . import child, code_swap, live

CONFIG_FILES = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini", ".pytest.ini")


class BecomeExecutor(child.Resume):
    """Raised in a freshly forked executor: unwind to the zygote's hook and run there."""

    def __init__(self, job: dict[str, Any], sock: socket.socket, stack_w: int) -> None:
        super().__init__()
        self.job, self.sock, self.stack_w = job, sock, stack_w


def _resume(job: dict[str, Any], sock: socket.socket, stack_w: int) -> NoReturn:
    raise BecomeExecutor(job, sock, stack_w)


class Relay:
    """The session's event stream: buffered in the zygote, replayed by each executor."""

    def __init__(self) -> None:
        self.buffer: list[dict[str, Any]] = []
        self.emit: Callable[[dict[str, Any]], None] | None = None

    def write(self, msg: dict[str, Any]) -> None:
        if self.emit is None:
            self.buffer.append(msg)
        else:
            self.emit(msg)


def matches(nodeid: str, target: str) -> bool:
    """Does a pytest node id argument (relative, ``a.py::T::t``) select this item?"""
    if not target or nodeid == target:
        return True
    return nodeid.startswith(target + "::") or nodeid.startswith(target + "[")


class Zygote:
    """The plugin that turns a pytest session into a collection zygote (see module doc)."""

    def __init__(
        self, state: TwinState, path: str, root: str, ctl: socket.socket, fds: socket.socket
    ):
        self.state, self.path, self.root = state, path, root
        self.ctl, self.fds = ctl, fds
        self.relay = Relay()
        self.deselected: list[str] = []
        self.executor: BecomeExecutor | None = None
        self.served = False
        self.runs = 0
        self.reporter: Any = None
        self.timeout_plugin: Any = None
        self.started = code_swap.Started()  # on while it collects (``zygote_main``)
        self.functions: code_swap.Functions | None = None  # what its runs swap bodies into

    def pytest_configure(self, config: pytest.Config) -> None:
        self.started.watch_hooks(config.pluginmanager, self.state.roots)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += [i.nodeid for i in items]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """The zygote waits here; an executor returns from here into pytest's own loop."""
        if self.executor is not None:
            return None
        from ..twin import pytest_compat

        signal.alarm(0)  # collected in time
        self.started.stop()
        pytest_compat.stop_capture(session.config)
        paths = live.imported_texts(self.state.overlay, self.state.roots)
        self.functions = code_swap.Functions(paths)  # before the freeze hides the heap
        gc.freeze()  # the runs' collections then skip (and do not copy) what the zygote holds
        self.served = True
        self.ready(session, paths)
        self.executor = self.serve()  # returns only in an executor
        self.become_executor(session)
        return None

    def ready(self, session: pytest.Session, paths: dict[str, int]) -> None:
        """Tell the twin what this zygote imported (CRCs: it is replaced when one changes)."""
        paths = dict(paths)
        inipath = session.config.inipath
        if inipath is not None and in_workspace(str(inipath), self.state.roots):
            text = self.state.overlay.read_text(str(inipath))
            if text is not None:
                paths[str(inipath)] = zlib.crc32(text.encode("utf-8", "surrogatepass"))
        text = self.state.overlay.read_text(self.path)  # tracked even if it did not import
        if text is not None:
            paths[self.path] = zlib.crc32(text.encode("utf-8", "surrogatepass"))
        assert self.functions is not None
        info: WarmReady = {
            "k": "ready",
            "ok": True,
            "paths": paths,
            "rss": live.rss_kib(),
            "items": len(session.items),
            # A module that failed to import is not in sys.modules, so its text is not among
            # the paths: a zygote whose collection failed is trusted only until any edit.
            "errors": bool(session.testsfailed),
            "swap": self.functions.info(self.started, self.state.overlay.read_text),
        }
        self.started.seen.clear()
        FrameWriter(self.ctl).write(dict(info))

    def serve(self) -> BecomeExecutor:
        """Fork a supervisor per run request until the twin lets go (then wait for them)."""
        reader = FrameReader(self.ctl)
        while True:
            ready = select.select([self.ctl], [], [], 1.0)[0]
            reap.reap_exited()
            if not ready:
                continue
            try:
                msg = reader.read()
            except (ChannelClosed, OSError):
                break
            run_sock = self.receive_socket()
            if run_sock is None:
                break
            self.runs += 1
            if not self.served:
                self.answer_failed(msg, run_sock)
                continue
            self.preload(msg.get("preload") or [])
            pid = os.fork()
            if pid == 0:
                try:
                    self.ctl.close()
                    self.fds.close()
                    self.supervise(msg, run_sock)
                except BecomeExecutor as become:
                    return become
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            run_sock.close()
        _wait_children()
        os._exit(0)

    def preload(self, names: list[str]) -> None:
        """Import what the twin preloaded since (interpreter modules earlier runs imported)."""
        from ..twin.warm import import_quietly

        missing = [n for n in names if n not in sys.modules]
        if missing:
            import_quietly(missing)
            gc.freeze()

    def receive_socket(self) -> socket.socket | None:
        try:
            _, fds, _, _ = socket.recv_fds(self.fds, 1, 1)
        except OSError:
            return None
        return socket.socket(fileno=fds[0]) if fds else None

    def supervise(self, msg: dict[str, Any], sock: socket.socket) -> None:
        """A run's supervisor (forked from the zygote): the twin's current texts, then run."""
        overlay = self.state.overlay
        docs: dict[str, str] = msg.get("docs") or {}
        with overlay.lock:
            for path in [p for p in overlay.docs if p not in docs]:
                del overlay.docs[path]
            for path, text in docs.items():
                doc = overlay.docs.get(path)
                if doc is None or doc.buffer.text != text:
                    overlay.docs[path] = Doc(TextBuffer(text), 0, 0)
            overlay.deleted = set(msg.get("deleted") or ())
        from .imports import prime_linecache

        prime_linecache(overlay)
        swapped = []
        swap: dict[str, bytes] = msg.get("swap") or {}
        for path in sorted(swap):  # the twin checked: only function bodies changed
            if self.functions is not None:
                self.functions.swap(path, marshal.loads(swap[path]))
                swapped.append(path)
        warm: WarmServed = {
            "zygote": os.getppid(),
            "file": self.path,
            "run": self.runs,
            "swapped": swapped,
        }
        spec = {**msg["spec"], "warm": warm}
        child.supervise(self.state, spec, sock, resume=_resume)

    def answer_failed(self, msg: dict[str, Any], sock: socket.socket) -> None:
        """pytest stopped before collecting (usage, config error): each run gets its answer."""
        out = FrameWriter(sock)
        try:
            for event in self.relay.buffer:
                out.write(event)
            out.write({"k": "end", "imported": [], **self.failure})
        except (ChannelClosed, OSError):
            pass
        sock.close()

    failure: dict[str, Any] = {}

    # -- in an executor ---------------------------------------------------------------

    def become_executor(self, session: pytest.Session) -> None:
        """Set this fork up as a cold executor would be, with the run's items only."""
        from ..twin import pytest_compat
        from . import trace

        become = self.executor
        assert become is not None
        job, state = become.job, self.state
        faulthandler.enable(file=become.stack_w, all_threads=True)
        faulthandler.register(signal.SIGUSR1, file=become.stack_w, all_threads=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        config = session.config
        out = FrameWriter(become.sock)
        emit = out.write
        if job.get("park"):
            live.table(job["twin_pid"])
            keeper = live.FailureKeeper(live.current(), state.roots)
            config.pluginmanager.register(keeper, "twinls-failure-keeper")
            emit = keeper.stamp(out.write)
        self.relay.emit = emit
        if self.timeout_plugin is not None:
            self.timeout_plugin.stack_fd = become.stack_w
        pytest_compat.start_capture(config)
        extra = trace.plugins(job, emit, state.overlay.read_text, state.roots)
        for plugin in extra:
            config.pluginmanager.register(plugin)
            if hasattr(plugin, "pytest_configure"):
                plugin.pytest_configure(config)
        targets = [self.relative(t) for t in job["targets"]]
        missing = [t for t in targets if not any(matches(i.nodeid, t) for i in session.items)]
        missing = [t for t in missing if not any(matches(d, t) for d in self.deselected)]
        collected = session.items
        items = [i for i in collected if any(matches(i.nodeid, t) for t in targets)]
        include, exclude = set(job.get("include") or ()), set(job.get("exclude") or ())
        if include or exclude:
            items = [
                i
                for i in items
                if (i.nodeid in include if include else True) and i.nodeid not in exclude
            ]
        for plugin in extra:
            if hasattr(plugin, "pytest_collection_modifyitems"):
                plugin.pytest_collection_modifyitems(config, items)
        session.items = items
        session.testscollected = len(items)  # pytest's "no tests collected" (exit 5) counts these
        self.reporter.deselected = sum(
            1 for d in self.deselected if any(matches(d, t) for t in targets)
        )
        for event in self.relay.buffer:
            if event.get("k") == "collected":
                keep = {i.nodeid for i in items}
                event = {**event, "items": [e for e in event["items"] if e["nodeid"] in keep]}
            emit(event)
        for plugin in extra:
            if hasattr(plugin, "pytest_collection_finish"):
                plugin.pytest_collection_finish(session)
        if missing and not session.testsfailed:  # a collection error: pytest says that (exit 2)
            # pytest's own words and exit code (4) for a target that names nothing, as
            # its collection says them (main.Session.perform_collect): a UsageError.
            modules = list(
                {id(m): m for i in collected if (m := i.getparent(pytest.Module))}.values()
            )
            raise pytest.UsageError(
                *(
                    f"not found: {os.path.join(self.root, t)}\n(no match in any of {modules!r})"
                    for t in missing
                )
            )

    def relative(self, target: str) -> str:
        file, sep, rest = target.partition("::")
        if os.path.isabs(file):
            file = os.path.relpath(file, self.root)
        return file.replace(os.sep, "/") + sep + rest


def _wait_children() -> None:
    """The twin let go: wait for the runs still going (they die with this process)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def zygote_main(
    state: TwinState, path: str, root: str, ctl: socket.socket, fds: socket.socket
) -> NoReturn:
    """Body of a collection zygote (never returns); its executors end here too."""
    from ..twin import fastconfig
    from .imports import install
    from .pytest_plugin import CacheOptionsIgnored, FaulthandlerTimeout, Reporter, session_end

    child.become_supervisor(state, root)
    install(state.overlay, set(sys.modules))
    before = set(sys.modules)
    zygote = Zygote(state, path, root, ctl, fds)
    reporter = Reporter(zygote.relay.write, state.roots)
    timeout = FaulthandlerTimeout(reporter, None)
    zygote.reporter, zygote.timeout_plugin = reporter, timeout
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = text = io.StringIO()
    # A collection that hangs kills the zygote (its runs report a dead supervisor), as a
    # cold executor silent this long is killed.
    signal.alarm(int(max(float(state.settings.get("runTimeout") or 0), child.BETWEEN_TESTS)))
    try:
        child.capture_in_memory()
        fastconfig.use_once()
        args = child.pytest_args({"root": root, "targets": [path]})
        # What workspace code runs while it collects (off in its runs).
        zygote.started.watch(state.roots, code_swap.loaders())
        try:
            code = int(
                pytest.main(args, plugins=[reporter, CacheOptionsIgnored(), timeout, zygote])
            )
        except BecomeExecutor:
            raise
        except BaseException:
            code = 3
            text.write(traceback.format_exc())
    finally:
        zygote.started.stop()
        sys.stdout, sys.stderr = saved
    session = session_end(reporter, code, text.getvalue())
    become = zygote.executor
    if become is None:  # the zygote itself: pytest stopped before a session could be kept
        signal.alarm(0)
        zygote.failure = session
        try:
            FrameWriter(ctl).write({"k": "ready", "ok": False, "paths": {}, "rss": 0, "items": 0})
        except (ChannelClosed, OSError):
            os._exit(0)
        zygote.serve()
    session["warm"] = become.job.get("warm")
    child.finish(state, become.job, FrameWriter(become.sock), become.sock, before, session)
    os._exit(0)

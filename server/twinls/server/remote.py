"""Server: one twin host over execnet (ssh or popen): connect, check its base, start twins.

A host holds a checkout of the project (``root``) and a Python with the project's
environment. Connecting: ``execnet.makegateway(spec)`` (only ``ssh`` and
``popen``: authenticated transports), rsync of twinls's pure-Python packages
(and pytest's, the fallback) into a cache folder there (execnet's ``RSync``
sends only what changed), then ``remote_agent.py`` as ``remote_exec`` source,
which reports the host's cores, load and free memory: the number of twins
follows them (``server/sizing.py``; a ``twins`` setting overrides), measured at
every connect and every ``RESIZE_EVERY`` seconds while up (the agent meters its
own twins' CPU so their work is not read as the host's load).

A host mirrors workspace folders: ``root`` is the checkout of ``folder`` (default:
the first workspace folder), or ``folders`` maps several, local -> there. The base
check sends, per folder, the commit at its local HEAD (or, without git, the hashes
of its Python files); a host at another base is reported and not used. Files of a
folder the host does not map are never dealt to it (``TwinPool.takes``). A twin
there is ``spawn(slot, roots, settings) -> (pid, socket)`` like a zygote's, its
channel relayed with paths mapped (``remote_relay.py``); its snapshot starts with
:meth:`overlay_entries` (every file whose local disk text differs from the base),
then the pool's usual one (open documents, hidden files), then the log.

A host that goes away (gateway killed, ssh dropped) is noticed by the pool's
keeper thread for it, its twins' chunks are dealt to the others, and it is
reconnected with backoff, 1 s doubling to 60 s (``twinls.status`` → ``remotes``:
``state``, ``error``, ``lost``, ``retry_in``).

Known limits: edits to files of unmapped folders still reach the host's twins
(unmapped, never searched there: one ordered log for every twin); a git base needs
``git`` on the host, and the host must be at the workspace's HEAD; the cache
folder on the host (``$TMPDIR/twinls-remote-UID``) is written by this deployment,
not by a twin, and kept for the next connect.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import execnet

from ..shared.schema import RemoteSetting
from .launch import FALLBACK, OWN, bootstrap_source, folder_of
from .remote_relay import PathMap, Relay
from .sizing import HOST_MAX, TWIN_MEMORY, Measured, Sizing, choose, fixed

log = logging.getLogger(__name__)

#: Seconds between reconnection tries: doubles from the first to the last.
BACKOFF = (1.0, 60.0)
#: How long a request on the control channel may take (a zygote's first start compiles).
REQUEST_TIMEOUT = 180.0
#: Largest file sent as part of the overlay (matches the overlay's own limit).
OVERLAY_FILE_LIMIT = 4 * 1024 * 1024


class RemoteError(RuntimeError):
    """A host that cannot be used, with a message for the user."""


def check_setting(raw: Any) -> tuple[list[RemoteSetting], list[str]]:
    """The ``remotes`` option, entry by entry: the good ones and what is wrong with the others."""
    if raw in (None, [], ""):
        return [], []
    if not isinstance(raw, list):
        return [], [f"remotes must be a list, not {type(raw).__name__}"]
    good: list[RemoteSetting] = []
    problems: list[str] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            problems.append(f"remotes[{i}] must be an object")
            continue
        gateway, root, folders = entry.get("gateway"), entry.get("root"), entry.get("folders")
        if folders is not None:
            if not isinstance(gateway, str) or not _absolute_map(folders) or root is not None:
                problems.append(
                    f"remotes[{i}] needs a 'gateway' spec and 'folders' mapping absolute local "
                    "folders to absolute paths on the host (or 'root', not both)"
                )
                continue
        elif not isinstance(gateway, str) or not isinstance(root, str) or not root.startswith("/"):
            problems.append(f"remotes[{i}] needs a 'gateway' spec and an absolute 'root'")
            continue
        folder = entry.get("folder")
        if folder is not None and (
            not isinstance(folder, str) or not folder.startswith("/") or folders is not None
        ):
            problems.append(
                f"remotes[{i}].folder must be an absolute local folder (with 'root', not 'folders')"
            )
            continue
        why = gateway_problem(gateway)
        if why:
            problems.append(f"remotes[{i}]: {why}")
            continue
        twins = entry.get("twins")
        if twins is not None and (isinstance(twins, bool) or not isinstance(twins, int)):
            problems.append(f"remotes[{i}].twins must be a whole number")
            continue
        setting: RemoteSetting = {"gateway": gateway}
        if folders is not None:
            setting["folders"] = {os.path.abspath(k): v for k, v in folders.items()}
        else:
            setting["root"] = root
        if folder is not None:
            setting["folder"] = os.path.abspath(folder)
        if twins is not None:
            setting["twins"] = max(0, min(HOST_MAX, twins))
        if isinstance(entry.get("ssh_config"), str):
            setting["ssh_config"] = entry["ssh_config"]
        good.append(setting)
    return good, problems


def _absolute_map(folders: Any) -> bool:
    return (
        isinstance(folders, dict)
        and bool(folders)
        and all(
            isinstance(k, str) and isinstance(v, str) and k.startswith("/") and v.startswith("/")
            for k, v in folders.items()
        )
    )


def folder_map(setting: RemoteSetting, local_roots: list[str]) -> dict[str, str]:
    """Local folder -> the host's checkout of it: ``folders``, else ``folder`` (default: the
    first workspace folder) at ``root``."""
    if "folders" in setting:
        return dict(setting["folders"])
    return {setting.get("folder") or local_roots[0]: setting["root"]}


def gateway_problem(spec: str) -> str:
    """Why an execnet spec is refused (empty: accepted)."""
    try:
        xspec = execnet.XSpec(spec)
    except Exception as exc:
        return f"bad gateway spec {spec!r}: {exc}"
    if xspec.socket or xspec.vagrant_ssh or xspec.via or xspec.proxy:
        return (
            f"gateway {spec!r} is refused: only ssh and popen gateways are authenticated "
            "(a socket gateway runs whatever anyone on the network sends it)"
        )
    if not (xspec.ssh or xspec.popen):
        return f"gateway {spec!r} names no transport: use ssh=user@host or popen"
    return ""


def local_base(root: str) -> tuple[str | None, dict[str, str] | None]:
    """(the commit at HEAD, None), or (None, hashes of every Python file) without git."""
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        top = subprocess.run(
            ["git", "-C", root, "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        if head.returncode == 0 and os.path.samefile(top.stdout.strip(), root):
            return head.stdout.strip(), None
    except (OSError, subprocess.TimeoutExpired):
        pass
    return None, _file_hashes(root)


def _file_hashes(root: str) -> dict[str, str]:
    from ..shared.overlay import SKIP_DIRS

    out: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as f:
                        out[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
                except OSError:
                    pass
    return out


def git_overlay(root: str) -> tuple[list[str], list[str]]:
    """(files whose disk text differs from HEAD, staged or not, or that git does not track
    (ignored ones aside), files deleted since HEAD), under ``root``."""

    def git(*args: str) -> list[str]:
        out = subprocess.run(
            ["git", "-C", root, *args],
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=True,
        ).stdout
        names = out.decode("utf-8", "surrogateescape").split("\0")
        return [os.path.join(root, p) for p in names if p]

    deleted = set(git("diff", "--name-only", "-z", "--relative", "--diff-filter=D", "HEAD"))
    changed = git("diff", "--name-only", "-z", "--relative", "HEAD")
    changed += git("ls-files", "-z", "--others", "--exclude-standard")
    return sorted(set(changed) - deleted), sorted(deleted)


def hashed_overlay(root: str, base: dict[str, str]) -> tuple[list[str], list[str]]:
    """The same against a base of file hashes (no git): what differs now, what is gone."""
    now = _file_hashes(root)
    changed = [os.path.join(root, rel) for rel, h in now.items() if base.get(rel) != h]
    deleted = [os.path.join(root, rel) for rel in base if rel not in now]
    return sorted(changed), sorted(deleted)


class RemoteHost:
    """The server's handle on one host: its gateway, its agent, its state for status."""

    def __init__(self, setting: RemoteSetting, local_roots: list[str]) -> None:
        self.setting = setting
        self.spec = setting["gateway"]
        #: Local folder -> its checkout there; files of other folders never go to this host.
        self.folders = folder_map(setting, local_roots)
        self.root = next(iter(self.folders.values()))  # the first, for messages
        self.paths = PathMap(self.folders)
        self.cap = setting.get("twins")
        self.gateway: Any = None
        self.group: Any = None  # its own execnet.Group: terminate() also reaps the process
        self.ctl: Any = None
        self.facts: dict[str, Any] = {}
        self.zygote: dict[str, Any] = {}
        self.state = "new"  # new | connecting | up | down | mismatch
        self.error = ""
        self.failures = 0
        self.next_try = 0.0
        self.connects = 0
        self.lost = 0  # times it went away while up
        self.connect_s = 0.0  # how long the last connect took (rsync, base, zygote)
        self.slots: list[int] = []  # its slots in the pool, retired ones included
        self.sizing: Sizing | None = None
        #: Without git, a folder's base is its file hashes at the first connect: later
        #: connects expect the same, and the overlay is what differs from it since.
        self.base_files: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    # -- life ---------------------------------------------------------------------------

    @property
    def up(self) -> bool:
        gw, ctl = self.gateway, self.ctl
        return (
            self.state == "up"
            and gw is not None
            and ctl is not None
            and not ctl.isclosed()
            and gw.hasreceiver()
        )

    def connect(self) -> int:
        """Connect, check the base, start the zygote; the number of twins the host takes.

        Raises :class:`RemoteError` with the reason (the caller reports it and retries).
        """
        self.close()
        self.state = "connecting"
        started = time.monotonic()
        spec = self.spec
        if self.setting.get("ssh_config") and "ssh_config=" not in spec:
            spec += f"//ssh_config={self.setting['ssh_config']}"
        self.group = execnet.Group()
        try:
            gateway = self.group.makegateway(spec)
        except Exception as exc:
            self.close()
            raise RemoteError(f"cannot open gateway {self.spec}: {exc}") from exc
        self.gateway = gateway
        try:
            folders = self._rsync(gateway)
            source = bootstrap_source() + "\n" + _agent_source()
            self.ctl = gateway.remote_exec(source)
            self.ctl.send({"k": "boot", **folders})
            self.facts = self._receive()
            for local, there in self.folders.items():  # every mapped folder at its base
                git, files = local_base(local)
                if git is None:
                    files = self.base_files[local] = self.base_files.get(local) or files
                answer = self.request({"k": "base", "root": there, "git": git, "files": files})
                if not answer.get("ok"):
                    self.state = "mismatch"
                    raise RemoteError(
                        f"{self.spec}: the checkout there does not match: {answer.get('why')}; "
                        "not using it"
                    )
            self.zygote = self.request({"k": "zygote"})
        except RemoteError:
            state = self.state
            self.close()
            self.state = state
            raise
        except Exception as exc:
            self.close()
            raise RemoteError(f"{self.spec}: {type(exc).__name__}: {exc}") from exc
        self.connect_s = time.monotonic() - started
        self.state = "up"
        self.error = ""
        self.failures = 0
        self.connects += 1
        return self.size()

    def size(self) -> int:
        """Twins this host takes now (its ``twins`` setting, else its free cores and memory)."""
        self.sizing = self.choose_size()
        return self.sizing.size

    def choose_size(self) -> Sizing:
        if self.cap is not None:
            return fixed(self.cap, "twins")
        f = self.facts
        measured = Measured(
            cpus=int(f.get("cpus") or 1),
            load=float(f.get("load") or 0.0),
            mem_available=int(f.get("mem_available") or 0),
            quota=f.get("quota"),
            own_cores=float(f.get("own_cores") or 0.0),
            own_twins=int(f.get("own_twins") or 0),
        )
        return choose(measured, HOST_MAX, TWIN_MEMORY)

    def remeasure(self) -> Sizing:
        """Ask the host for its figures again (a round trip); the size they give."""
        self.facts = self.request({"k": "facts"}, timeout=30)
        return self.choose_size()

    def failed(self, message: str) -> float:
        """Count a failure; seconds until the next try (doubling, at most a minute)."""
        self.failures += 1
        if self.state != "mismatch":
            self.state = "down"
        self.error = message
        wait = min(BACKOFF[1], BACKOFF[0] * 2 ** (self.failures - 1))
        self.next_try = time.monotonic() + wait
        return wait

    def close(self) -> None:
        """Close the gateway; its process is waited for 2 s, then killed (and reaped)."""
        ctl, group = self.ctl, self.group
        self.ctl = self.gateway = self.group = None
        if self.state == "up":
            self.state = "down"
        try:
            if ctl is not None:
                ctl.close()
            if group is not None:
                group.terminate(timeout=2.0)
        except Exception as exc:
            log.info("%s: closing: %s", self.spec, exc)

    # -- requests -----------------------------------------------------------------------

    def _receive(self, timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        answer = self.ctl.receive(timeout)
        if answer.get("k") == "error":
            raise RemoteError(f"{self.spec}: {answer.get('message')}")
        return answer

    def request(self, msg: dict[str, Any], timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        with self._lock:
            if self.ctl is None:
                raise RemoteError(f"{self.spec} is not connected")
            self.ctl.send(msg)
            return self._receive(timeout)

    def spawn(
        self,
        slot: int,
        roots: list[str],
        settings: dict[str, Any],
        has_document: Callable[[str], bool],
    ) -> tuple[int, socket.socket]:
        """A twin on the host: its pid there and the pool's end of its (relayed) channel."""
        from ..shared.frames import ChannelClosed

        if not self.up:
            raise ChannelClosed(f"{self.spec} is not connected")
        channel = self.gateway.newchannel()
        try:
            reply = self.request(
                {
                    "k": "fork",
                    "slot": slot,
                    "roots": list(self.folders.values()),
                    "settings": self.paths.out(settings),
                    "channel": channel,
                }
            )
        except Exception as exc:
            raise ChannelClosed(f"{self.spec}: {exc}") from exc
        ours, theirs = socket.socketpair()
        Relay(theirs, channel, self.paths, has_document).start()
        return int(reply["pid"]), ours

    def kill(self, pid: int) -> None:
        """SIGKILL a twin there; a host already gone has killed it already."""
        if not self.up:
            return
        try:
            self.request({"k": "kill", "pid": pid}, timeout=10)
        except Exception as exc:
            log.warning("%s: kill %s: %s", self.spec, pid, exc)

    # -- the snapshot's first part ------------------------------------------------------

    def overlay_entries(self, seq: int) -> list[dict[str, Any]]:
        """Edit entries making the host's checkout look like the local disk (git: vs HEAD)."""
        from ..shared.overlay import decode_source

        changed: list[str] = []
        deleted: list[str] = []
        for local in self.folders:
            try:
                if local in self.base_files:
                    more, gone = hashed_overlay(local, self.base_files[local])
                else:
                    more, gone = git_overlay(local)
            except (OSError, subprocess.SubprocessError) as exc:
                log.warning("%s: the disk's changes in %s are not sent (%s)", self.spec, local, exc)
                continue
            changed += more
            deleted += gone
        entries: list[dict[str, Any]] = [
            {"k": "edit", "seq": seq, "op": "deleted", "path": p} for p in deleted
        ]
        for path in changed:
            try:
                if os.path.getsize(path) > OVERLAY_FILE_LIMIT or not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    text = decode_source(f.read())
            except OSError:
                continue
            entries.append(
                {"k": "edit", "seq": seq, "op": "open", "path": path, "version": 0, "text": text}
            )
        return entries

    def describe(self) -> dict[str, Any]:
        """This host in ``twinls.status`` → ``remotes``."""
        left = max(0.0, self.next_try - time.monotonic()) if self.state != "up" else 0.0
        return {
            "gateway": self.spec,
            "root": self.root,
            "folders": dict(self.folders),
            "state": self.state,
            "error": self.error or None,
            "failures": self.failures,
            "retry_in": round(left, 1) if self.state in ("down", "mismatch") else None,
            "connects": self.connects,
            "lost": self.lost,
            "slots": list(self.slots),
            "cap": self.cap,
            "size": None if self.sizing is None else self.sizing.size,
            "sizing": None if self.sizing is None else self.sizing.as_dict(),
            "facts": {k: v for k, v in self.facts.items() if k != "k"},
            "python": self.zygote.get("info", {}).get("executable") or self.facts.get("python"),
            "connect_s": round(self.connect_s, 2),
        }

    # -- twinls's code, sent there ------------------------------------------------------

    def _rsync(self, gateway: Any) -> dict[str, dict[str, str]]:
        """Copy twinls's packages (and the fallback pytest) into a cache folder on the host."""
        cache = gateway.remote_exec(
            "import os, tempfile\n"
            "channel.send(os.path.join(tempfile.gettempdir(), f'twinls-remote-{os.getuid()}'))"
        ).receive(REQUEST_TIMEOUT)
        by_folder: dict[str, list[str]] = {}
        for name in (*OWN, *FALLBACK):
            folder = folder_of(name)
            if folder is not None:
                by_folder.setdefault(folder, []).append(name)
        own: dict[str, str] = {}
        fallback: dict[str, str] = {}
        for i, (folder, names) in enumerate(sorted(by_folder.items())):
            dest = f"{cache}/{i}-{hashlib.sha1(folder.encode()).hexdigest()[:10]}"
            sync = PackageSync(folder, names)
            sync.add_target(gateway, dest, delete=True)
            sync.send()
            for name in names:
                (own if name in OWN else fallback)[name] = dest
        return {"own": own, "fallback": fallback}


def _agent_source() -> str:
    from .remote_agent import AGENT

    return AGENT


class PackageSync(execnet.RSync):
    """Only the named top-level packages/modules of a folder (and their metadata), no bytecode."""

    def __init__(self, folder: str, names: list[str]) -> None:
        super().__init__(folder, verbose=False)
        self._top = os.path.abspath(folder)
        self._names = {n.lower() for n in names}

    def filter(self, path: str) -> bool:
        parts = os.path.relpath(path, self._top).split(os.sep)
        if "__pycache__" in parts or path.endswith((".pyc", ".pyo")):
            return False
        first = parts[0]
        if first.endswith(".dist-info"):
            return first.split("-")[0].lower().replace(".", "_") in self._names
        return (first[:-3] if first.endswith(".py") else first).lower() in self._names

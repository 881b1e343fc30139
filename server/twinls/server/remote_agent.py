"""Server side, on a twin host (execnet's remote process): check its base, start twins there.

The server (``server/remote.py``) runs this on the host through an execnet gateway,
after rsyncing twinls's pure-Python packages to a cache folder there and
installing ``bootstrap.NamedFinder`` for them (``AGENT`` below), so nothing of
twinls is installed on the host. The control channel carries one request, then
one answer (``schema.py``: ``Remote*``). The zygote is the same as for a local
interpreter (``launch.Zygote``, in the host's Python with the host's pytest);
each twin's socket is relayed, as bytes, over an execnet channel of its own, so
the twin cannot tell it is remote. When the control channel closes (the server
went, ssh dropped) the zygote's control socket closes and every twin sees EOF.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from ..shared.schema import HostFacts, RemoteBaseAnswer
from .sizing import CpuMeter, measure

#: Run by ``gateway.remote_exec`` after bootstrap.py's source (which defines NamedFinder).
AGENT = """
def _twinls_agent(channel):
    sys.dont_write_bytecode = True  # nothing in the cache folder but what was sent
    boot = channel.receive()
    sys.meta_path.insert(0, NamedFinder(boot["own"]))
    from twinls.server import remote_agent
    remote_agent.serve(channel, boot)

if __name__ == "__channelexec__":
    _twinls_agent(channel)
"""


def facts(meter: CpuMeter | None = None, twins: list[int] | None = None) -> HostFacts:
    """Cores, load and free memory of this host, measured now (the pool sizes from them),
    with the cores and the number of the twins forked here (``sizing.py``)."""
    pids = [pid for pid in twins or [] if os.path.exists(f"/proc/{pid}")]
    own = meter.sample(pids) if meter is not None else 0.0
    m = measure(own, len(pids))
    return {
        "k": "facts",
        "cpus": m.cpus,
        "load": m.load,
        "mem_available": m.mem_available,
        "quota": m.quota,
        "own_cores": m.own_cores,
        "own_twins": m.own_twins,
        "python": sys.executable,
        "version": sys.version.split()[0],
        "pid": os.getpid(),
    }


def check_base(root: str, git: str | None, files: dict[str, str] | None) -> RemoteBaseAnswer:
    """Is the checkout at ``root`` the server's base? Never changes anything there."""
    if not os.path.isdir(root):
        return {"k": "base", "ok": False, "why": f"{root} is not a folder on this host"}
    if git is not None:
        try:
            head = subprocess.run(
                ["git", "-C", root, "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"k": "base", "ok": False, "why": f"cannot run git in {root}: {exc}"}
        here = head.stdout.strip()
        if head.returncode != 0:
            return {"k": "base", "ok": False, "why": f"{root} is not a git checkout here"}
        if here != git:
            return {
                "k": "base",
                "ok": False,
                "why": f"{root} is at commit {here[:12]}, the editor's workspace at {git[:12]}",
            }
        return {"k": "base", "ok": True, "why": ""}
    differ = []
    for rel, digest in sorted((files or {}).items()):
        try:
            with open(os.path.join(root, rel), "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() == digest:
                    continue
        except OSError:
            pass
        differ.append(rel)
    if differ:
        more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
        return {
            "k": "base",
            "ok": False,
            "why": f"{len(differ)} files differ from the workspace's: "
            f"{', '.join(differ[:3])}{more}",
        }
    return {"k": "base", "ok": True, "why": ""}


def relay(sock: socket.socket, channel: Any) -> None:
    """Bytes both ways between a twin's socket and its execnet channel, until either closes."""

    def down(data: Any) -> None:  # execnet's receiver thread: server -> twin
        if data is None:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        try:
            sock.sendall(data)
        except OSError:
            pass

    def up() -> None:  # twin -> server
        try:
            while True:
                data = sock.recv(1 << 16)
                if not data:
                    break
                channel.send(data)
        except (OSError, EOFError):
            pass
        finally:
            try:
                channel.close()
            except Exception:
                pass
            sock.close()

    channel.setcallback(down, endmarker=None)
    threading.Thread(target=up, name="twin-relay", daemon=True).start()


def serve(channel: Any, boot: dict[str, Any]) -> None:
    """Answer the server's requests until the control channel closes."""
    from .interpreter import Interpreter
    from .launch import Zygote

    meter = CpuMeter()
    forked: list[int] = []
    channel.send(dict(facts(meter, forked)))
    zygote: Zygote | None = None
    try:
        while True:
            try:
                msg = channel.receive()
            except EOFError:
                return
            kind = msg.get("k")
            try:
                if kind == "facts":  # a re-measurement (the pool re-sizes the host)
                    forked[:] = [p for p in forked if os.path.exists(f"/proc/{p}")]
                    channel.send(dict(facts(meter, forked)))
                elif kind == "base":
                    channel.send(dict(check_base(msg["root"], msg.get("git"), msg.get("files"))))
                elif kind == "zygote":
                    if zygote is None or not zygote.alive:
                        if zygote is not None:
                            zygote.close()
                        zygote = Zygote(Interpreter(sys.executable, "remote"), folders=boot)
                        zygote.start()
                    assert zygote.proc is not None
                    channel.send({"k": "zygote", "pid": zygote.proc.pid, "info": zygote.info})
                elif kind == "fork":
                    assert zygote is not None, "no zygote started"
                    pid, sock = zygote.spawn(msg["slot"], list(msg["roots"]), msg["settings"])
                    relay(sock, msg["channel"])
                    forked.append(pid)
                    channel.send({"k": "forked", "pid": pid})
                elif kind == "kill":
                    try:
                        os.kill(int(msg["pid"]), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    channel.send({"k": "killed", "pid": msg["pid"]})
                else:
                    channel.send({"k": "error", "message": f"unknown request {kind!r}"})
            except Exception as exc:
                channel.send({"k": "error", "message": f"{type(exc).__name__}: {exc}"})
    finally:
        if zygote is not None:
            zygote.close()

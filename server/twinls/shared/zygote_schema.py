"""Shared: the messages between the server and a zygote (the twin starter), typed.

The zygote speaks on its own control socket, apart from the twins' channel
(``shared/frames.py`` kinds are in docs/architecture.md): one packet per message,
encoded as a channel frame.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class ZygoteHello(TypedDict):
    """zygote → server, once preloaded: who it is (``zygote.describe``)."""

    k: Literal["zygote"]
    pid: int
    info: dict[str, Any]


class ZygoteFork(TypedDict):
    """server → zygote, with the twin's socket as an ``SCM_RIGHTS`` fd."""

    k: Literal["fork"]
    slot: int
    roots: list[str]
    settings: dict[str, Any]


class ZygoteForked(TypedDict):
    """zygote → server: the new twin's pid."""

    k: Literal["forked"]
    pid: int


# -- a twin host over execnet (issue 18: server/remote.py ⇄ server/remote_agent.py) ------------
#
# The control channel of an execnet gateway carries these as plain dicts (execnet's own
# serializer), one request then one answer; each twin has an execnet channel of its own
# (sent inside ``RemoteFork``) carrying the ordinary channel frames as bytes.


class RemoteSetting(TypedDict, total=False):
    """One entry of the ``remotes`` option (``server/remote.py`` checks it)."""

    gateway: str  # an execnet spec: ``ssh=user@host//python=…`` or ``popen//python=…``
    root: str  # the checkout of the project on that host
    twins: int  # a cap on the measured pool size of that host
    ssh_config: str  # an ssh config file (``ssh -F``); else the spec's own or ~/.ssh's


class RemoteBoot(TypedDict):
    """server → agent, first: the folders (rsynced there) twinls's packages are in."""

    k: Literal["boot"]
    own: dict[str, str]
    fallback: dict[str, str]


class HostFacts(TypedDict):
    """agent → server, after boot: what the host can take (``remote_agent.facts``)."""

    k: Literal["facts"]
    cpus: int
    load: float
    mem_available: int  # bytes
    python: str  # sys.executable there
    version: str
    pid: int  # the agent's (the gateway's remote process)


class RemoteBase(TypedDict):
    """server → agent: the base the host's checkout must be (a git commit, else file hashes)."""

    k: Literal["base"]
    root: str
    git: str | None
    files: dict[str, str] | None  # root-relative path -> sha256 of its bytes


class RemoteBaseAnswer(TypedDict):
    """agent → server: whether the checkout is that base, and if not why."""

    k: Literal["base"]
    ok: bool
    why: str


class RemoteZygote(TypedDict):
    """server → agent: start the zygote in the host's interpreter."""

    k: Literal["zygote"]


class RemoteZygoteReady(TypedDict):
    """agent → server: the zygote preloaded (its ``ZygoteHello.info``)."""

    k: Literal["zygote"]
    pid: int
    info: dict[str, Any]


class RemoteFork(TypedDict):
    """server → agent: fork a twin and relay its socket over ``channel`` (an execnet channel)."""

    k: Literal["fork"]
    slot: int
    roots: list[str]
    settings: dict[str, Any]
    channel: Any


class RemoteKill(TypedDict):
    """server → agent: SIGKILL one twin (its pid on the host)."""

    k: Literal["kill"]
    pid: int


class RemoteKilled(TypedDict):
    """agent → server: the kill was sent."""

    k: Literal["killed"]
    pid: int


class RemoteError(TypedDict):
    """agent → server, instead of an answer: what went wrong there."""

    k: Literal["error"]
    message: str

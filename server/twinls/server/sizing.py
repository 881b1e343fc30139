"""Server (and the remote agent on a twin host): how many twins a host takes, from its free
cores and memory.

Glamorous Toolkit's runner sizes its workers to free CPU and RAM; so does the pool,
on this machine and on every twin host. :func:`measure` reads the figures (the
cores this process may use: ``os.sched_getaffinity``, then a cgroup v2 ``cpu.max``
quota; the 1-minute load average; ``MemAvailable``, or the cgroup's ``memory.max``
less ``memory.current`` when smaller); :func:`choose` turns them into a size and a
sentence saying why, and is pure, so tests give it figures instead of a machine.

Our own twins are part of the load and already hold their memory: the caller passes
the cores they used since its last look (:class:`CpuMeter`, from ``/proc/PID/stat``)
and how many run, so a busy pool does not read its own work as somebody else's and
shrink itself. A size set by the user (``pool`` locally, ``twins`` for a host) wins.

Re-sizing (the pool's supervisor, every ``RESIZE_EVERY`` seconds, and a host at each
reconnect) goes through :func:`settle`: the size moves only when the figures are a
whole core (or a twin's memory) past the current size, so a load average wobbling
around a boundary does not start and stop twins. A slow timer rather than a look at
each call's start: the load average is itself a one-minute mean, a measurement costs
a round trip to a host, and a call should not wait for twins to fork.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ..shared.schema import PoolSizing

#: Memory a twin needs (jedi's state over a mid-size project, a run child).
TWIN_MEMORY = 400 * 1024 * 1024
#: Most twins this machine's pool gets by itself (the design's "one per core, at most 4").
LOCAL_MAX = 4
#: Most twins one remote host gets, whatever it has.
HOST_MAX = 8
#: Seconds between re-measurements of a host that is up.
RESIZE_EVERY = 30.0

_GIB = 1024**3


@dataclass(frozen=True)
class Measured:
    """A host's figures at one moment."""

    cpus: int  # cores this process may run on (affinity)
    load: float  # 1-minute load average
    mem_available: int  # bytes (0: unknown)
    quota: float | None = None  # cgroup cpu.max in cores; None: no limit
    own_cores: float = 0.0  # of the load, cores our own twins used lately
    own_twins: int = 0  # twins of ours running there now (their memory is taken already)


@dataclass(frozen=True)
class Sizing:
    """The size chosen and why (``twinls.status``: ``pool.sizing``, ``remotes[].sizing``)."""

    size: int
    reason: str
    free_cores: float | None = None
    by_memory: int | None = None
    fixed: bool = False  # set by the user

    def as_dict(self) -> PoolSizing:
        return {
            "size": self.size,
            "reason": self.reason,
            "free_cores": None if self.free_cores is None else round(self.free_cores, 2),
            "by_memory": self.by_memory,
            "fixed": self.fixed,
        }


def fixed(size: int, setting: str) -> Sizing:
    return Sizing(size, f"set by the {setting!r} setting", fixed=True)


def choose(m: Measured, top: int, per_twin: int = TWIN_MEMORY) -> Sizing:
    """Twins for a host with these figures: free cores, then memory, then ``top``; at least 1."""
    cores = float(m.cpus) if m.quota is None else min(float(m.cpus), m.quota)
    others = max(0.0, m.load - m.own_cores)  # the load that is not our twins'
    free = max(0.0, cores - others)
    by_cpu = max(1, int(free + 0.5))
    by_memory = max(1, m.own_twins + m.mem_available // per_twin) if m.mem_available else None
    size = min(by_cpu, by_memory or by_cpu, top)
    quota = f" (cgroup quota {m.quota:g})" if m.quota is not None and m.quota < m.cpus else ""
    figures = (
        f"{m.cpus} cores{quota}, load {m.load:.2f} ({m.own_cores:.2f} of it ours): {free:.1f} free"
    )
    if by_memory is not None:
        figures += f"; {m.mem_available / _GIB:.1f} GiB available: room for {by_memory}"
    if size == top and by_cpu >= top and (by_memory or top) >= top:
        why = f"at most {top} twins"
    elif by_memory is not None and by_memory < by_cpu:
        why = "memory"
    else:
        why = "free cores"
    return Sizing(size, f"{why}: {figures}", free, by_memory)


def settle(current: int, new: Sizing) -> int:
    """The size to move to from ``current``: ``new.size`` only when it differs noticeably."""
    if new.fixed or current <= 0 or new.free_cores is None:
        return new.size
    if new.size > current and new.free_cores >= current + 1:
        return new.size
    if new.size < current:
        if new.free_cores <= current - 1 or (new.by_memory is not None and new.by_memory < current):
            return new.size
    return current


def measure(own_cores: float = 0.0, own_twins: int = 0) -> Measured:
    """This host's figures now (Linux; elsewhere the core count and no memory figure)."""
    cpus = cores()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    quota, room = _cgroup_limits()
    mem = _meminfo_available()
    if room is not None:
        mem = min(mem, room) if mem else room
    return Measured(cpus, load, mem, quota, own_cores, own_twins)


def cores() -> int:
    """Cores this process may run on (its affinity; else the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_limits() -> tuple[float | None, int | None]:
    """(cores of the tightest ``cpu.max``, bytes left under the tightest ``memory.max``)
    over this process's cgroup v2 and its parents; None where nothing limits."""
    own = _read("/proc/self/cgroup") or ""
    rel = next((line[3:] for line in own.splitlines() if line.startswith("0::")), None)
    if rel is None:
        return None, None
    quota: float | None = None
    room: int | None = None
    path = "/sys/fs/cgroup" + rel.rstrip("/")
    while path.startswith("/sys/fs/cgroup"):
        cpu = (_read(path + "/cpu.max") or "max").split()
        if cpu and cpu[0] != "max" and len(cpu) == 2:
            try:
                cores = int(cpu[0]) / int(cpu[1])
                quota = cores if quota is None else min(quota, cores)
            except (ValueError, ZeroDivisionError):
                pass
        limit, used = _read(path + "/memory.max"), _read(path + "/memory.current")
        if limit and limit != "max" and used:
            try:
                left = max(0, int(limit) - int(used))
                room = left if room is None else min(room, left)
            except ValueError:
                pass
        if path == "/sys/fs/cgroup":
            break
        path = os.path.dirname(path)
    return quota, room


class CpuMeter:
    """Cores a set of processes used between two looks (their CPU time over the wall time)."""

    def __init__(self) -> None:
        self._last: dict[int, float] = {}
        self._at = 0.0

    def sample(self, pids: list[int]) -> float:
        now = time.monotonic()
        seen = {pid: secs for pid in pids if (secs := cpu_seconds(pid)) is not None}
        used = sum(max(0.0, s - self._last[p]) for p, s in seen.items() if p in self._last)
        elapsed = now - self._at if self._at else 0.0
        self._last, self._at = seen, now
        return used / elapsed if elapsed > 0 else 0.0


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and its reaped children (``/proc/PID/stat``), None if gone."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    except (ValueError, IndexError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")

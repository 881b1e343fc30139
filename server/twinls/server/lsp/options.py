"""Server: initializationOptions, range-checked.

An out-of-range or mistyped option is replaced by the nearest sensible value
and said so (one ``window/showMessage``), never taken as it is: ``pool: 12``
on two cores would fork twelve twins, ``heartbeat: 0`` busy-loops the
supervisor thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ...shared.overlay import MAX_FILE_SIZE
from ...shared.schema import DEFAULTS

#: name -> (default, lowest, highest); None as default means "not set".
NUMBERS: dict[str, tuple[float | None, float, float]] = {
    "heartbeat": (DEFAULTS["heartbeat"], 0.1, 60.0),
    "hangAfter": (DEFAULTS["hangAfter"], 1.0, 3600.0),
    "runTimeout": (DEFAULTS["runTimeout"], 1.0, 86400.0),
    "maxRestarts": (DEFAULTS["maxRestarts"], 0, 1000),
    "maxFileSize": (MAX_FILE_SIZE, 1024, 1024 * 1024 * 1024),
    "runMemoryLimit": (None, 64, 1024 * 1024),  # MiB, opt-in
    "workerTimeout": (DEFAULTS["workerTimeout"], 1.0, 86400.0),
    "runSplitMin": (DEFAULTS["runSplitMin"], 0.0, 3600.0),
    "syntaxDebounce": (DEFAULTS["syntaxDebounce"], 0.0, 60.0),
    # Parked run children holding live results (twin/parked.py).
    "parkMax": (None, 0, 64),
    "parkMemory": (None, 16, 1024 * 1024),  # MiB per parked child
    "parkTimeout": (None, 0.1, 86400.0),  # seconds idle
    "cacheSize": (DEFAULTS["cacheSize"], 1, 1024 * 1024),  # MiB (server/cache.py)
}
INTEGERS = {"maxRestarts", "maxFileSize", "runMemoryLimit", "parkMax", "parkMemory", "cacheSize"}

#: Options the twins read (sent with every snapshot and settings update).
TWIN_SETTINGS = (
    "exclude",
    "runTimeout",
    "preload",
    "maxFileSize",
    "runMemoryLimit",
    "parkMax",
    "parkMemory",
    "parkTimeout",
)


def max_pool() -> int:
    """At most one twin per core (and never more than 8): more only compete."""
    return max(1, min(8, os.cpu_count() or 1))


@dataclass
class Checked:
    """The options as the server uses them, and what was wrong with the raw ones."""

    values: dict[str, Any]
    problems: list[str]


def check(raw: Any, pool_default: int | None = None) -> Checked:
    opts: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    problems: list[str] = []
    if raw not in (None, [], "") and not isinstance(raw, dict):  # Lua's {} may arrive as []
        problems.append(f"initializationOptions must be an object, not {type(raw).__name__}")
    for name, (default, low, high) in NUMBERS.items():
        if name not in opts or opts[name] is None:
            if default is not None:
                opts[name] = default
            else:
                opts.pop(name, None)
            continue
        value = opts[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            problems.append(f"{name} must be a number, got {value!r}; using {default}")
            if default is None:
                del opts[name]
            else:
                opts[name] = default
            continue
        if not low <= value <= high:
            clamped = min(max(value, low), high)
            problems.append(f"{name} {value!r} is outside {low:g}..{high:g}; using {clamped:g}")
            value = clamped
        opts[name] = int(value) if name in INTEGERS else float(value)
    if opts["hangAfter"] < 2 * opts["heartbeat"]:
        hang = 2 * opts["heartbeat"]
        problems.append(
            f"hangAfter {opts['hangAfter']:g} is shorter than two heartbeats; using {hang:g}"
        )
        opts["hangAfter"] = hang
    pool = opts.get("pool", pool_default)
    if pool is not None:
        top = max_pool()
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
            problems.append(f"pool must be a whole number from 1 to {top}, got {pool!r}")
            pool = None
        elif pool > top:
            problems.append(f"pool {pool} is more than this machine's {top} cores; using {top}")
            pool = top
    opts["pool"] = pool
    live = opts.get("liveTests")
    if live is not None and not isinstance(live, bool):
        problems.append(f"liveTests must be true or false, got {live!r}; using false")
        opts["liveTests"] = False
    cache = opts.get("cache")
    if cache is not None and not isinstance(cache, bool):
        problems.append(f"cache must be true or false, got {cache!r}; using true")
        opts["cache"] = True
    exclude = opts.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(g, str) for g in exclude):
        problems.append("exclude must be a list of glob strings; ignored")
        opts.pop("exclude", None)
    raw_remotes = opts.get("remotes")
    opts["remotes"] = []
    if raw_remotes not in (None, [], ""):  # execnet is loaded only by a server that uses it
        from ..remote import check_setting

        opts["remotes"], remote_problems = check_setting(raw_remotes)
        problems.extend(remote_problems)
    return Checked(opts, problems)

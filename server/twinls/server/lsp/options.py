"""Server: initializationOptions, structured by cattrs into :class:`Options`, range-checked.

An out-of-range or mistyped option is replaced by the nearest sensible value
and said so (one ``window/showMessage``), never taken as it is: ``pool: 12``
on two cores would fork twelve twins, ``heartbeat: 0`` busy-loops the
supervisor thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ...shared.overlay import MAX_FILE_SIZE
from ...shared.schema import DEFAULTS
from ...shared.schema import converter as schema_converter


@dataclass(frozen=True)
class Bounds:
    """A number option's range (a field's ``metadata["bounds"]``)."""

    low: float
    high: float


def _number(default: float | None, low: float, high: float, whole: bool = False) -> Any:
    return field(default=default, metadata={"bounds": Bounds(low, high), "whole": whole})


@dataclass
class Options:
    """The initializationOptions the server checks, structured (by cattrs, :func:`check`).

    Defaults come from ``schema.DEFAULTS`` (the one home); ``None``: not set. Options
    only passed along (``features``, ``lensIcons``, ``python``, ...) stay in
    :attr:`Checked.values` as they came.
    """

    heartbeat: float = _number(DEFAULTS["heartbeat"], 0.1, 60.0)
    hangAfter: float = _number(DEFAULTS["hangAfter"], 1.0, 3600.0)
    runTimeout: float = _number(DEFAULTS["runTimeout"], 1.0, 86400.0)
    maxRestarts: int = _number(int(DEFAULTS["maxRestarts"]), 0, 1000, whole=True)
    maxFileSize: int = _number(MAX_FILE_SIZE, 1024, 1024 * 1024 * 1024, whole=True)
    runMemoryLimit: int | None = _number(None, 64, 1024 * 1024, whole=True)  # MiB, opt-in
    workerTimeout: float = _number(DEFAULTS["workerTimeout"], 1.0, 86400.0)
    runSplitMin: float = _number(DEFAULTS["runSplitMin"], 0.0, 3600.0)
    syntaxDebounce: float = _number(DEFAULTS["syntaxDebounce"], 0.0, 60.0)
    # Parked run children holding live results (twin/parked.py).
    parkMax: int | None = _number(None, 0, 64, whole=True)
    parkMemory: int | None = _number(None, 16, 1024 * 1024, whole=True)  # MiB per parked child
    parkTimeout: float | None = _number(None, 0.1, 86400.0)  # seconds idle
    # Warm collection: collection zygotes per twin (twin/warm_sessions.py).
    warmMax: int = _number(int(DEFAULTS["warmMax"]), 0, 64, whole=True)
    warmMemory: int = _number(int(DEFAULTS["warmMemory"]), 16, 1024 * 1024, whole=True)  # MiB
    # The server's persistent cache (server/cache.py, server/lsp/kept.py).
    cache: bool | None = None  # false: nothing read or written
    cacheSize: int = _number(int(DEFAULTS["cacheSize"]), 1, 1024 * 1024, whole=True)  # MiB
    pool: int | None = None  # at most max_pool()
    interactiveTwin: bool | None = None  # None: on (one more twin that never searches)
    # Seconds an interactive call in that twin may stop the busy search twins (pause.py).
    interactivePause: float = _number(DEFAULTS["interactivePause"], 0.0, 10.0)
    liveTests: bool | None = None
    liveMax: int | None = _number(None, 1, 64, whole=True)  # None: cores - 1 (live.py)
    exclude: list[str] | None = None  # globs the index and searches skip
    remotes: list[Any] = field(default_factory=list)  # server/remote.py checks them


#: name -> (default, lowest, highest) of every number option (None: not set).
NUMBERS: dict[str, tuple[float | None, float, float]] = {
    f.name: (f.default, f.metadata["bounds"].low, f.metadata["bounds"].high)  # type: ignore[misc]
    for f in fields(Options)
    if "bounds" in f.metadata
}
INTEGERS = {f.name for f in fields(Options) if f.metadata.get("whole")}

#: true/false options -> what a value that is neither stands for.
SWITCHES = {"liveTests": False, "cache": True, "interactiveTwin": True}

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
    "warmMax",
    "warmMemory",
)


def max_pool() -> int:
    """At most one twin per core (and never more than 8): more only compete."""
    return max(1, min(8, os.cpu_count() or 1))


@dataclass
class Checked:
    """The options as the server uses them, and what was wrong with the raw ones."""

    values: dict[str, Any]
    problems: list[str]
    options: Options | None = None


def check(raw: Any, pool_default: int | None = None) -> Checked:
    """Structure ``raw`` into :class:`Options`; a bad value is replaced and said so."""
    opts: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    problems: list[str] = []
    if raw not in (None, [], "") and not isinstance(raw, dict):  # Lua's {} may arrive as []
        problems.append(f"initializationOptions must be an object, not {type(raw).__name__}")
    known = {f.name for f in fields(Options)}
    given = {k: v for k, v in opts.items() if k in known and v is not None}
    if "pool" not in opts and pool_default is not None:  # (a client's null: as many as fit)
        given["pool"] = pool_default
    checked: Options = _converter(problems).structure(given, Options)
    if checked.hangAfter < 2 * checked.heartbeat:
        hang = 2 * checked.heartbeat
        problems.append(
            f"hangAfter {checked.hangAfter:g} is shorter than two heartbeats; using {hang:g}"
        )
        checked.hangAfter = hang
    by_folder = opts.get("pythonByFolder")  # interpreters per folder (server/interpreter.py)
    if by_folder is not None and not (
        isinstance(by_folder, dict) and all(isinstance(v, dict) for v in by_folder.values())
    ):
        problems.append('pythonByFolder must map folders to {"python": ..., "pythonSource": ...}')
        opts.pop("pythonByFolder", None)
    raw_remotes = opts.get("remotes")
    if raw_remotes not in (None, [], ""):  # execnet is loaded only by a server that uses it
        from ..remote import check_setting

        checked.remotes, remote_problems = check_setting(raw_remotes)
        problems.extend(remote_problems)
    else:
        checked.remotes = []
    for name, value in asdict(checked).items():
        if value is None and name != "pool":
            opts.pop(name, None)  # not set
        else:
            opts[name] = value
    return Checked(opts, problems, checked)


def _converter(problems: list[str]) -> Any:
    """cattrs, with one hook per checked field that replaces a bad value and says so."""
    from cattrs.gen import make_dict_structure_fn, override

    converter = schema_converter().copy()  # the lens arguments' converter, plus these hooks
    hooks = {f.name: override(struct_hook=_hook(f, problems)) for f in fields(Options)}
    converter.register_structure_hook(Options, make_dict_structure_fn(Options, converter, **hooks))
    return converter


def _hook(f: Any, problems: list[str]) -> Callable[[Any, Any], Any]:
    name, default = f.name, f.default
    if "bounds" in f.metadata:
        bounds: Bounds = f.metadata["bounds"]
        whole = name in INTEGERS

        def number(value: Any, _: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                problems.append(f"{name} must be a number, got {value!r}; using {default}")
                return default
            if not bounds.low <= value <= bounds.high:
                clamped = min(max(value, bounds.low), bounds.high)
                problems.append(
                    f"{name} {value!r} is outside {bounds.low:g}..{bounds.high:g}; "
                    f"using {clamped:g}"
                )
                value = clamped
            return int(value) if whole else float(value)

        return number
    if name == "pool":

        def pool(value: Any, _: Any) -> int | None:
            top = max_pool()
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"pool must be a whole number from 1 to {top}, got {value!r}")
                return None
            if value > top:
                problems.append(
                    f"pool {value} is more than this machine's {top} cores; using {top}"
                )
                return top
            return value

        return pool
    if name in SWITCHES:
        fallback = SWITCHES[name]

        def switch(value: Any, _: Any) -> bool:
            if not isinstance(value, bool):
                problems.append(
                    f"{name} must be true or false, got {value!r}; using {str(fallback).lower()}"
                )
                return fallback
            return value

        return switch
    if name == "exclude":

        def exclude(value: Any, _: Any) -> list[str] | None:
            if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
                problems.append("exclude must be a list of glob strings; ignored")
                return None
            return value

        return exclude
    return lambda value, _: value  # remotes: checked after, by server/remote.py

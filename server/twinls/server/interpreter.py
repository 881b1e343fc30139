"""Server: which Python a workspace folder's twins run in, and where that choice came from.

The order is the issue's (and the editors' convention, as ruff's and mypy's
extensions do): an explicit setting (``initializationOptions.python``, which the
VS Code extension fills from the Python extension's selection when the user set
nothing, or ``twinls --python``), then ``VIRTUAL_ENV``, ``CONDA_PREFIX``, a
``.venv`` or ``venv`` folder at the root, and last the server's own interpreter.
Nothing here starts a process: the version is what the twin reports in its hello.

Per workspace folder: ``initializationOptions.pythonByFolder`` (``{folder: {"python",
"pythonSource"}}``, a folder's path or ``file:`` URI; the VS Code extension sends each
folder's ``twinls.python``, else the Python extension's selection for that folder)
comes first for its folder, then the order above; :func:`choices_for`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

#: Where a choice came from, as ``twinls.status`` names it.
SOURCES = (
    "setting",
    "python extension",
    "--python",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    ".venv",
    "venv",
    "server",
)


#: Set by the VS Code extension's launcher: the server imports from a bundle folder on
#: sys.path, so a twin forked from it would see the bundle's pytest, not the project's.
SERVER_IS_BUNDLED = False


class InterpreterError(ValueError):
    """A configured interpreter that does not exist or cannot run."""


@dataclass(frozen=True)
class Interpreter:
    """A chosen Python: its executable and why it was chosen."""

    path: str
    source: str

    @property
    def is_server(self) -> bool:
        """The server's own interpreter and environment (twins can be forked from it)."""
        return not SERVER_IS_BUNDLED and same_environment(self.path, sys.executable)

    def as_dict(self) -> dict[str, str | bool]:
        return {"path": self.path, "source": self.source, "is_server": self.is_server}


def executable_in(prefix: str) -> str | None:
    """The Python of an environment folder (venv, conda), or None if it has none."""
    for rel in ("bin/python3", "bin/python", "python.exe", "Scripts/python.exe"):
        candidate = os.path.join(prefix, rel)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def resolve_setting(value: str, root: str) -> str:
    """A ``python`` setting: an executable or an environment folder, relative to the root."""
    path = os.path.expanduser(os.path.expandvars(value.replace("${workspaceFolder}", root)))
    if not os.path.isabs(path):
        path = os.path.join(root, path)
    path = os.path.abspath(path)
    if os.path.isdir(path):
        exe = executable_in(path)
        if exe is None:
            raise InterpreterError(f"the python setting {value!r} is a folder with no bin/python")
        return exe
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise InterpreterError(f"the python setting {value!r} is not an executable ({path})")
    return path


def choose(
    root: str,
    setting: str | None = None,
    setting_source: str = "setting",
    environ: Mapping[str, str] | None = None,
) -> Interpreter:
    """The interpreter for one workspace folder (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    if setting:
        return Interpreter(resolve_setting(setting, root), setting_source)
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = env.get(var)
        if prefix and (exe := executable_in(prefix)):
            return Interpreter(exe, var)
    for name in (".venv", "venv"):
        folder = os.path.join(root, name)
        if os.path.isfile(os.path.join(folder, "pyvenv.cfg")) and (exe := executable_in(folder)):
            return Interpreter(exe, name)
    return Interpreter(sys.executable, "server")


def same_environment(a: str, b: str) -> bool:
    """Two interpreter paths that run the same CPython with the same site-packages.

    A venv's ``bin/python`` is a symlink to its base, so the real files alone do
    not decide: the environment folder (the one holding ``pyvenv.cfg``, else the
    prefix two levels up) must match too.
    """
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    if os.path.realpath(a) != os.path.realpath(b):
        return False
    return _env_folder(a) == _env_folder(b)


def _env_folder(exe: str) -> str:
    folder = os.path.dirname(os.path.dirname(os.path.abspath(exe)))
    return os.path.realpath(folder)


def folder_settings(options: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``pythonByFolder`` as ``{folder path: (python, source)}`` (entries naming none dropped)."""
    raw = options.get("pythonByFolder")
    out: dict[str, tuple[str, str]] = {}
    if not isinstance(raw, Mapping):
        return out
    for key, entry in raw.items():
        if not isinstance(key, str) or not isinstance(entry, Mapping):
            continue
        python = entry.get("python")
        if isinstance(python, str) and python.strip():
            path = unquote(urlparse(key).path) if key.startswith("file:") else key
            source = entry.get("pythonSource")
            out[os.path.abspath(path)] = (python, source if isinstance(source, str) else "setting")
    return out


def choices_for(
    roots: Iterable[str],
    options: Mapping[str, Any],
    python_arg: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Interpreter | str]:
    """Each folder's interpreter, or the error its setting makes (the user sees it).

    A folder's own ``pythonByFolder`` entry, else ``python`` (+ ``pythonSource``),
    else ``--python``, else :func:`choose`'s discovery in that folder.
    """
    by_folder = folder_settings(options)
    out: dict[str, Interpreter | str] = {}
    for root in roots:
        root = os.path.abspath(root)
        setting, source = by_folder.get(root, (None, "setting"))
        if not setting and options.get("python"):
            setting, source = str(options["python"]), str(options.get("pythonSource") or "setting")
        if not setting and python_arg:
            setting, source = python_arg, "--python"
        try:
            out[root] = choose(root, setting, source, environ)
        except InterpreterError as exc:
            out[root] = str(exc)
    return out

"""Twin (imported before forking, in the server too): what a twin has loaded, so calls don't."""

from __future__ import annotations

import importlib
import sys
import threading

from . import pytest_compat

_done = threading.Event()
_lock = threading.Lock()

#: Heavy modules every twin uses; imported once in the server, shared by every fork.
WARM_MODULES = ["jedi", "parso", "pytest", *pytest_compat.WARM_MODULES, "doctest", "ast"]


def preload() -> None:
    with _lock:
        if _done.is_set():
            return
        for name in WARM_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                pass
        from .queries import registry

        registry.load_all()
        _jedi()
        _done.set()


def _jedi() -> None:
    """What every twin's first jedi state and first binding-lane question build from files
    that never change (parso's grammars, jedi's typeshed map), built once before forking:
    0.1-0.4 s that each twin's first search and hover paid anew (issue 10: the first result)."""
    try:
        from .queries import jedi_compat
    except ImportError:
        return
    jedi_compat.warm()


def import_quietly(names: list[str]) -> list[str]:
    """Import each module if it can be; a module that fails is skipped, never raised.

    For third-party modules a workspace uses (chosen by the runner): once
    imported here, every run child forked from this process has them for free.
    """
    done = []
    for name in names:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # an import may raise anything, SystemExit included
            continue
        done.append(name)
    return done

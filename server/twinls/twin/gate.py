"""Twin: one thread at a time in jedi, interactive calls first.

jedi and parso are not thread-safe (two threads resolving names, even in
separate ``Script``s, raise ``RecursionError``s and can overflow the C stack),
yet the twin answers interactive calls on its worker while the search lane
runs a search. So both hold this gate while they work: a bulk call holds it
for its whole run and lets a waiting interactive call in at every safe point
(:func:`pause`, called between names and files, where jedi's state is whole);
an interactive call waits for at most one such unit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class JediGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None  # thread ident inside
        self._bulk = False  # whether the owner is a bulk call
        self._waiting = 0  # interactive calls waiting to get in

    @contextlib.contextmanager
    def interactive(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._owner == me:  # already inside (a call made from a call)
            yield
            return
        with self._cond:
            self._waiting += 1
            try:
                while self._owner is not None:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._owner, self._bulk = me, False
        try:
            yield
        finally:
            self._release()

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        if self._owner == threading.get_ident():
            yield
            return
        self._enter_bulk()
        try:
            yield
        finally:
            self._release()

    def pause(self) -> None:
        """At a safe point of a bulk call: let the interactive calls waiting go first."""
        if not self._bulk or self._owner != threading.get_ident() or not self._waiting:
            return
        self._release()
        self._enter_bulk()

    def _enter_bulk(self) -> None:
        with self._cond:
            while self._owner is not None or self._waiting:
                self._cond.wait()
            self._owner, self._bulk = threading.get_ident(), True

    def _release(self) -> None:
        with self._cond:
            self._owner, self._bulk = None, False
            self._cond.notify_all()


#: The twin's one gate.
gate = JediGate()

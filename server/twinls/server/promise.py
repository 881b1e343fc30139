"""Server: the one Promise type, a value the twin will send, for threads and asyncio.

The channel's reader thread fills it in (partial batches, progress, the final
value or error); callers block on :meth:`Promise.result`, iterate
:meth:`Promise.partials`, ``await`` it, or chain :meth:`Promise.then`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any


class TwinError(Exception):
    """The twin answered with an error (the remote type and traceback are kept)."""

    def __init__(self, type_name: str, message: str, tb: str | None = None) -> None:
        super().__init__(f"{type_name}: {message}" if type_name else message)
        self.type_name = type_name
        self.message = message
        self.remote_traceback = tb


class TwinDied(TwinError):
    """The twin process went away before answering."""

    def __init__(self, message: str) -> None:
        super().__init__("TwinDied", message)


class TwinUnavailable(TwinError):
    """No twin is running to take the call (starting, restarting, or given up)."""

    def __init__(self, message: str) -> None:
        super().__init__("TwinUnavailable", message)


class Cancelled(concurrent.futures.CancelledError):
    """The caller cancelled the promise."""


class Promise:
    def __init__(
        self,
        call_id: int = 0,
        twin: Any = None,
        canceller: Callable[[], None] | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> None:
        self.call_id = call_id
        #: Applied to every batch and the value as they arrive (the API unpickles here).
        self._decode = decode
        self.twin = twin
        self._canceller = canceller
        self._future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._cond = threading.Condition()
        self._batches: list[list[Any]] = []
        self._partial_cbs: list[Callable[[list[Any]], None]] = []
        self._progress_cbs: list[Callable[[int, int, str | None], None]] = []

    # -- consumer side -------------------------------------------------------------

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> Any:
        """Block for the value; raises the twin's error, TimeoutError or Cancelled."""
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"no answer to call {self.call_id} in {timeout} s") from None

    def __await__(self) -> Generator[Any, None, Any]:
        """Await the value; cancelling the awaiting task cancels the remote work.

        (``asyncio.wrap_future`` would cancel only the local future, leaving the
        twin searching for nobody.)
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()

        def settle(src: concurrent.futures.Future[Any]) -> None:
            if waiter.done():
                return
            exc = src.exception()
            if exc is not None:
                waiter.set_exception(exc)
            else:
                waiter.set_result(src.result())

        def on_waiter_done(f: asyncio.Future[Any]) -> None:
            if f.cancelled():
                self.cancel()

        waiter.add_done_callback(on_waiter_done)
        self._future.add_done_callback(
            lambda src: loop.call_soon_threadsafe(settle, src) if not loop.is_closed() else None
        )
        return waiter.__await__()

    def then(self, callback: Callable[[Any], Any]) -> Promise:
        """A promise of ``callback(value)``; errors pass through untouched."""
        nxt = Promise(self.call_id, self.twin, self.cancel)

        def chain(fut: concurrent.futures.Future[Any]) -> None:
            if fut.cancelled():
                nxt._reject(Cancelled())
            elif fut.exception() is not None:
                nxt._reject(fut.exception())  # type: ignore[arg-type]
            else:
                try:
                    nxt._resolve(callback(fut.result()))
                except BaseException as exc:
                    nxt._reject(exc)

        self._future.add_done_callback(chain)
        return nxt

    def on_done(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the promise settles, whichever way (now if it has)."""
        self._future.add_done_callback(lambda _: callback())

    def on_partial(self, callback: Callable[[list[Any]], None]) -> None:
        """Call ``callback(batch)`` (on the channel's thread) for every batch, past ones too."""
        with self._cond:
            self._partial_cbs.append(callback)
            past = list(self._batches)
        for batch in past:
            callback(batch)

    def on_progress(self, callback: Callable[[int, int, str | None], None]) -> None:
        with self._cond:
            self._progress_cbs.append(callback)

    def partials(self, timeout: float | None = None) -> Iterator[list[Any]]:
        """Batches as they arrive, until the promise settles (its error is raised)."""
        i = 0
        while True:
            with self._cond:
                while i >= len(self._batches) and not self._future.done():
                    if not self._cond.wait(timeout):
                        raise TimeoutError(f"no batch for call {self.call_id} in {timeout} s")
                if i < len(self._batches):
                    batch = self._batches[i]
                    i += 1
                else:
                    break
            yield batch
        self._future.result()  # raise the error, if any, once the stream is drained

    def cancel(self) -> bool:
        """Stop the remote work and settle now with :class:`Cancelled`."""
        if self._future.done():
            return False
        if self._canceller is not None:
            try:
                self._canceller()
            except Exception:
                pass  # a dead twin has nothing left to cancel
        self._reject(Cancelled(f"call {self.call_id} was cancelled"))
        return True

    def cancelled(self) -> bool:
        return self._future.done() and isinstance(self._future.exception(), Cancelled)

    # -- producer side (the channel's reader thread) --------------------------------

    def _add_partial(self, items: list[Any]) -> None:
        if self._future.done():
            return
        if self._decode is not None:
            try:
                items = self._decode(items)
            except BaseException as exc:
                self._reject(exc)
                return
        with self._cond:
            self._batches.append(items)
            cbs = list(self._partial_cbs)
            self._cond.notify_all()
        for cb in cbs:
            cb(items)

    def _progress(self, done: int, total: int, message: str | None) -> None:
        for cb in list(self._progress_cbs):
            cb(done, total, message)

    def _resolve(self, value: Any) -> None:
        if self._decode is not None:
            try:
                value = self._decode(value)
            except BaseException as exc:
                self._reject(exc)
                return
        with self._cond:
            if not self._future.done():
                self._future.set_result(value)
            self._cond.notify_all()

    def _reject(self, exc: BaseException) -> None:
        with self._cond:
            if not self._future.done():
                self._future.set_exception(exc)
            self._cond.notify_all()

    @classmethod
    def rejected(cls, exc: BaseException) -> Promise:
        p = cls()
        p._reject(exc)
        return p

    @classmethod
    def resolved(cls, value: Any) -> Promise:
        p = cls()
        p._resolve(value)
        return p

    @classmethod
    def replayed(cls, batches: list[list[Any]], value: Any) -> Promise:
        """Settled already, with these partial batches (an answer kept from before)."""
        p = cls()
        for batch in batches:
            p._add_partial(batch)
        p._resolve(value)
        return p

"""Run child: the objects a parked executor keeps, and one level of each on request.

After an example (its value) or a failing test (its traceback, whose frames
keep their locals) the executor keeps what it produced in a :class:`Live`
table and, once the run has ended, parks: it answers ``inspect`` requests
(relayed by its supervisor) until the twin lets go. Nothing here writes to
disk, and nothing is ever serialized whole: reprs go through ``reprlib``
(containers are cut while they are walked) and are cut again, items come a
page at a time, and ``len`` is asked of the type (a lazy object whose length
is 10**10 answers with its first page).
"""

from __future__ import annotations

import collections
import collections.abc as abc
import itertools
import os
import reprlib
import socket
import types
from collections.abc import Callable, Iterable
from typing import Any

from ..shared.frames import ChannelClosed, FrameReader, FrameTooBig, FrameWriter
from ..shared.inspect_schema import MAX_PAGE, PAGE, Child, HandleParts, Inspected, Kind, View
from ..shared.paths import in_workspace
from .views import as_text, is_bundle, mime_bundle, project_views

REPR_LIMIT = 4096  # characters of an inspected object's own repr
CHILD_REPR_LIMIT = 200  # of a child's
ATTRIBUTE_LIMIT = 200
MAX_HANDLES = 200_000  # objects one parked child keeps (then children come without handles)

LEAVES = (type(None), bool, int, float, complex, str, bytes)
CONTAINERS = (list, tuple, dict, set, frozenset, collections.deque)


def _reprer(limit: int) -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxlevel = 6
    r.maxstring = r.maxother = r.maxlong = limit
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = r.maxdeque = 50
    r.maxarray = 50
    return r


_TOP, _CHILD = _reprer(REPR_LIMIT), _reprer(CHILD_REPR_LIMIT)


def safe_repr(obj: Any, limit: int = REPR_LIMIT) -> tuple[str, bool]:
    """(repr, whether it was cut); never raises.

    Built-in containers go through ``reprlib``, which cuts them while it walks
    them (a list of 10**7 items costs 50); anything else is its own ``repr``, cut.
    """
    try:
        if type(obj) in CONTAINERS:
            text = (_TOP if limit >= REPR_LIMIT else _CHILD).repr(obj)
            if "..." in text:
                return text[:limit], True
        else:
            text = repr(obj)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}: {exc}>"
    if len(text) > limit:
        return text[:limit] + "…", True
    return text, False


def type_name(obj: Any) -> str:
    if isinstance(obj, (Failure, FrameRef)):
        return "failure" if isinstance(obj, Failure) else "frame"
    t = type(obj)
    module = getattr(t, "__module__", "") or ""
    return t.__qualname__ if module == "builtins" else f"{module}.{t.__qualname__}"


def length(obj: Any) -> int | None:
    """``len(obj)`` asked of the type (no ``OverflowError`` past ``sys.maxsize``)."""
    fn = getattr(type(obj), "__len__", None)
    if fn is None:
        return None
    try:
        n = fn(obj)
    except Exception:
        return None
    return n if isinstance(n, int) and n >= 0 else None


# -- what a failure and its frames look like ------------------------------------------


class Failure:
    """A failed test's (or example's) exception with its frames, workspace frames first."""

    def __init__(self, exc: BaseException, tb: types.TracebackType | None, roots: list[str]):
        self.exception = exc
        frames: list[FrameRef] = []
        while tb is not None:
            frames.append(FrameRef(tb.tb_frame, tb.tb_lineno))
            tb = tb.tb_next
        frames.reverse()  # the innermost first
        ours = [f for f in frames if in_workspace(f.path, roots)]
        self.frames = ours + [f for f in frames if f not in ours]

    def __repr__(self) -> str:
        text = str(self.exception)
        return f"{type(self.exception).__name__}: {text}" if text else type(self.exception).__name__


class FrameRef:
    """One frame of a failure: its place, and its locals as they were."""

    def __init__(self, frame: types.FrameType, lineno: int | None) -> None:
        self.frame = frame
        self.path = frame.f_code.co_filename
        self.line = (lineno or frame.f_lineno or 1) - 1
        self.function = frame.f_code.co_name

    def locals(self) -> dict[str, Any]:
        """The frame's locals, without pytest's assertion-rewriting temporaries."""
        try:
            names = dict(self.frame.f_locals)
        except Exception:
            return {}
        return {k: v for k, v in names.items() if not k.startswith("@py_")}

    def __repr__(self) -> str:
        return f"{os.path.basename(self.path)}:{self.line + 1} in {self.function}"


def kind_of(obj: Any) -> Kind:
    if isinstance(obj, Failure):
        return "failure"
    if isinstance(obj, FrameRef):
        return "frame"
    if isinstance(obj, LEAVES):
        return "leaf"
    if isinstance(obj, (abc.Mapping, types.MappingProxyType)):
        return "mapping"
    if isinstance(obj, (abc.Set, set, frozenset)):
        return "set"
    if isinstance(obj, abc.Sequence) or (
        getattr(type(obj), "__getitem__", None) is not None and length(obj) is not None
    ):
        return "sequence"
    return "object"


# -- the table ----------------------------------------------------------------------


class Live:
    """Objects by number; ``handle`` strings name them across processes."""

    def __init__(self, twin_pid: int, park_pid: int) -> None:
        self.twin_pid = twin_pid
        self.park_pid = park_pid
        self.objects: list[Any] = []
        self.ids: dict[int, int] = {}  # id(obj) -> number (the list keeps obj alive)

    def __bool__(self) -> bool:
        return bool(self.objects)

    def keep(self, obj: Any) -> str | None:
        """The handle of ``obj`` (the same one each time it is asked for)."""
        n = self.ids.get(id(obj))
        if n is None:
            if len(self.objects) >= MAX_HANDLES:
                return None
            n = len(self.objects)
            self.objects.append(obj)
            self.ids[id(obj)] = n
        return str(HandleParts(self.twin_pid, self.park_pid, n))

    def get(self, handle: str) -> Any:
        parts = HandleParts.parse(handle)
        if (parts.twin, parts.park) != (self.twin_pid, self.park_pid):
            raise KeyError(handle)
        return self.objects[parts.obj]

    def child(self, name: str, obj: Any) -> Child:
        kind = kind_of(obj)
        text, cut = safe_repr(obj, CHILD_REPR_LIMIT)
        plain = kind == "leaf" and not cut
        return Child(
            name=name,
            handle=None if plain else self.keep(obj),
            type=type_name(obj),
            repr=text,
            kind=kind,
        )

    def inspect(self, handle: str, offset: int = 0, limit: int = PAGE) -> Inspected:
        try:
            obj = self.get(handle)
        except (KeyError, IndexError, ValueError):
            return Inspected(handle=handle, error=f"no object {handle!r} in this run", gone=True)
        offset = max(0, int(offset))
        limit = max(1, min(int(limit), MAX_PAGE))
        kind = kind_of(obj)
        text, cut = safe_repr(obj)
        answer = Inspected(
            handle=handle,
            type=type_name(obj),
            repr=text,
            cut=cut,
            kind=kind,
            length=length(obj),
            attributes=[],
            attributesMore=0,
            items=[],
            offset=offset,
            more=False,
            mime={},
            mimeCut=[],
            views=[],
            location=None,
            error=None,
        )
        try:
            self._fill(obj, kind, answer, offset, limit)
        except Exception as exc:  # a user's __getitem__, __iter__ or property
            answer["error"] = f"{type(exc).__name__}: {exc}"
        return answer

    def _fill(self, obj: Any, kind: Kind, answer: Inspected, offset: int, limit: int) -> None:
        if kind == "failure":
            answer["attributes"] = [self.child("exception", obj.exception)]
            self._page(answer, ((repr(f), f) for f in obj.frames), offset, limit)
            answer["length"] = len(obj.frames)
            return
        if kind == "frame":
            answer["location"] = {"path": obj.path, "line": obj.line}
            answer["length"] = None
            self._page(answer, sorted(obj.locals().items()), offset, limit)
            return
        if kind == "mapping":
            pairs = ((safe_repr(k, CHILD_REPR_LIMIT)[0], v) for k, v in obj.items())
            self._page(answer, pairs, offset, limit)
        elif kind == "set":
            self._page(answer, ((str(i), v) for i, v in enumerate(obj)), offset, limit)
        elif kind == "sequence":
            n = answer["length"] or 0
            stop = min(n, offset + limit)
            answer["items"] = [self.child(str(i), obj[i]) for i in range(offset, stop)]
            answer["more"] = stop < n
        if kind != "leaf":
            self._attributes(obj, answer)
            self._views(obj, answer)

    def _page(
        self, answer: Inspected, pairs: Iterable[tuple[str, Any]], offset: int, limit: int
    ) -> None:
        page = list(itertools.islice(pairs, offset, offset + limit + 1))
        answer["more"] = len(page) > limit
        answer["items"] = [self.child(name, v) for name, v in page[:limit]]

    def _attributes(self, obj: Any, answer: Inspected) -> None:
        """Instance attributes (``__dict__``, ``__slots__``); properties are not run."""
        names: dict[str, Any] = {}
        if isinstance(obj, BaseException):
            names["args"] = obj.args
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, (dict, types.MappingProxyType)) and kind_of(obj) != "mapping":
            names.update((str(k), v) for k, v in itertools.islice(attrs.items(), 10_000))
        for klass in type(obj).__mro__:
            for slot in getattr(klass, "__slots__", ()) or ():
                if isinstance(slot, str) and slot not in ("__dict__", "__weakref__"):
                    try:
                        names[slot] = object.__getattribute__(obj, slot)
                    except AttributeError:
                        pass
        items = sorted(names.items(), key=lambda kv: (kv[0].startswith("_"), kv[0]))
        answer["attributes"] = [self.child(k, v) for k, v in items[:ATTRIBUTE_LIMIT]]
        answer["attributesMore"] = max(0, len(items) - ATTRIBUTE_LIMIT)

    def _views(self, obj: Any, answer: Inspected) -> None:
        bundle, cut, errors = mime_bundle(obj)
        answer["mime"], answer["mimeCut"] = bundle, cut
        views: list[View] = [View(title="display protocol", error=e) for e in errors]
        for title, got in project_views(obj):
            if isinstance(got, BaseException):
                views.append(View(title=title, error=f"{type(got).__name__}: {got}"))
            elif is_bundle(got):
                mime = {m: t for m in got if (t := as_text(m, got[m])) is not None}
                views.append(View(title=title, mime=mime))
            elif isinstance(got, str):
                views.append(View(title=title, mime={"text/plain": got[: REPR_LIMIT * 16]}))
            else:
                views.append(View(title=title, child=self.child(title, got)))
        answer["views"] = views


# -- parking ------------------------------------------------------------------------

_table: Live | None = None


def table(twin_pid: int) -> Live:
    """This executor's table (one per process: made on first use)."""
    global _table
    if _table is None or _table.park_pid != os.getppid():
        _table = Live(twin_pid, os.getppid())
    return _table


def current() -> Live | None:
    return _table


def rss_kib() -> int:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def imported_texts(overlay: Any, roots: list[str]) -> dict[str, int]:
    """Workspace files this process imported -> CRC32 of the text it imported."""
    import sys
    import zlib

    found: dict[str, int] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not in_workspace(path, roots):
            continue
        text = overlay.read_text(path)
        if text is not None:
            found[path] = zlib.crc32(text.encode("utf-8", "surrogatepass"))
    return found


def serve(sock: socket.socket, live: Live) -> None:
    """Answer ``inspect`` requests until the supervisor goes (the park's end)."""
    reader, writer = FrameReader(sock), FrameWriter(sock)
    while True:
        try:
            msg = reader.read()
        except ChannelClosed:
            return
        if msg.get("k") != "inspect":
            continue
        answer = live.inspect(msg["handle"], msg.get("offset", 0), msg.get("limit", PAGE))
        try:
            writer.write({"k": "inspected", "answer": answer})
        except FrameTooBig as exc:
            small = Inspected(handle=msg["handle"], error=f"the answer was too big: {exc}")
            writer.write({"k": "inspected", "answer": small})
        except ChannelClosed:
            return


# -- pytest: keep a failing test's traceback ------------------------------------------


class FailureKeeper:
    """pytest plugin: a failed test's exception and frames, kept under a handle.

    ``stamp`` wraps the reporter's emit, adding ``handle`` to the result of a
    test that failed.
    """

    def __init__(self, live: Live, roots: list[str]) -> None:
        self.live = live
        self.roots = roots
        self.failures: dict[str, str] = {}  # node id -> the failure's handle

    def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
        excinfo = call.excinfo
        if excinfo is None or item.nodeid in self.failures:
            return
        import pytest

        if isinstance(excinfo.value, (pytest.skip.Exception, pytest.xfail.Exception)):
            return
        handle = self.live.keep(Failure(excinfo.value, excinfo.tb, self.roots))
        if handle is not None:
            self.failures[item.nodeid] = handle

    def stamp(self, emit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        def write(msg: dict[str, Any]) -> None:
            if msg.get("k") in ("result", "failing"):
                test = msg["test"]
                handle = self.failures.get(test.get("nodeid", ""))
                if handle is not None and test.get("outcome") in ("failed", "error"):
                    test["handle"] = handle
            emit(msg)

        return write

"""Shared: runtime checks of ``schema.py``'s types where a boundary decodes a message.

A TypedDict is only an annotation; the reader of a channel (the server's twin reader,
the twin's, the server reading a run's events) checks each message against the type
its ``k`` names, so a malformed message is a clear :class:`MessageError` naming the
message, the key and what was expected, which the reader logs and skips, instead of a
``KeyError`` deep in a handler that ends the reader thread. The channel's check is of
the top level only (the keys a kind requires and each value's type, not the items of
its lists): cheap enough for every keystroke's edit. ``deep=True`` (tests, the
clients' answers) checks nested TypedDicts, lists and dicts too.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

from . import schema

#: A check of one value: ``None`` when it fits, else what was wrong.
Check = Callable[[Any, bool], "str | None"]


class MessageError(ValueError):
    """A message that does not fit its schema type (the reader skips it)."""


def _kinds(union: Any) -> dict[str, type]:
    """``k`` -> its TypedDict, for the members of a union of messages."""
    table: dict[str, type] = {}
    for typed in get_args(union):
        for kind in get_args(get_type_hints(typed)["k"]):
            table[kind] = typed
    return table


#: What each reader accepts, by ``k``.
SERVER_MESSAGES = _kinds(schema.ServerMessage)  # the twin reads these
TWIN_MESSAGES = _kinds(schema.TwinMessage)  # the server reads these
RUN_EVENTS = _kinds(schema.RunEvent)  # the twin and the server read these from a run


def check_message(msg: Any, kinds: Mapping[str, type], where: str) -> dict[str, Any]:
    """``msg`` if it is a message of one of ``kinds`` that fits its type; else raise."""
    if not isinstance(msg, dict):
        raise MessageError(f"{where}: expected a message (a map), got {type(msg).__name__}")
    kind = msg.get("k")
    typed = kinds.get(kind) if isinstance(kind, str) else None
    if typed is None:
        raise MessageError(f"{where}: unknown message kind {kind!r}")
    check(msg, typed, f"{where} {kind!r} message")
    return msg


def check(value: Any, typed: type, where: str, deep: bool = False) -> None:
    """Raise :class:`MessageError` unless ``value`` fits the TypedDict ``typed``."""
    problem = _typeddict(typed)(value, deep)
    if problem is not None:
        raise MessageError(f"{where}: {problem}")


@functools.cache
def _typeddict(typed: type) -> Check:
    hints = get_type_hints(typed)
    required = frozenset(typed.__required_keys__)  # type: ignore[attr-defined]
    fields: dict[str, Check] = {}

    def fits(value: Any, deep: bool) -> str | None:
        if not isinstance(value, dict):
            return f"expected a map ({typed.__name__}), got {type(value).__name__}"
        missing = required - value.keys()
        if missing:
            return f"missing {', '.join(repr(k) for k in sorted(missing))}"
        if not fields:  # built on first use: a type may refer to itself (Test.subtests)
            fields.update({key: _checker(hint) for key, hint in hints.items()})
        for key, item in value.items():
            field = fields.get(key)
            problem = field(item, deep) if field is not None else None
            if problem is not None:
                return f"{key!r}: {problem}"
        return None

    return fits


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


@functools.cache
def _checker(tp: Any) -> Check:  # noqa: C901 (one case per kind of annotation)
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return lambda value, deep: None
    if origin is Literal:
        return lambda value, deep: None if value in args else f"expected one of {list(args)!r}"
    if origin in (Union, types.UnionType):
        options = [_checker(a) for a in args]

        def either(value: Any, deep: bool) -> str | None:
            problems = [c(value, deep) for c in options]
            return None if None in problems else f"expected {_name(tp)}, got {value!r:.60}"

        return either
    if is_typeddict(tp):
        return lambda value, deep: (
            _typeddict(tp)(value, deep) if deep or not isinstance(value, dict) else None
        )
    if isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields"):
        size = len(tp._fields)  # a NamedTuple row: msgpack carries it as an array
        return lambda value, deep: (
            None
            if isinstance(value, (list, tuple)) and len(value) == size
            else f"expected a {tp.__name__} row of {size}, got {value!r:.60}"
        )
    if tp is float:
        return _isinstance((int, float), "a number")
    if tp is int:
        return _isinstance(int, "a whole number")
    if tp in (str, bool, bytes):
        return _isinstance(tp, tp.__name__)
    if tp is type(None):
        return lambda value, deep: None if value is None else f"expected None, got {value!r:.60}"
    if origin is list or tp is list:
        item = _checker(args[0]) if args else None
        return _container((list, tuple), "a list", item, lambda v: v)
    if origin is dict or tp is dict:
        item = _checker(args[1]) if len(args) == 2 else None
        return _container(dict, "a map", item, lambda v: v.values())
    return lambda value, deep: None  # anything else is not checked at runtime


def _isinstance(kinds: Any, what: str) -> Check:
    def fits(value: Any, deep: bool) -> str | None:
        if isinstance(value, kinds) and (kinds is bool or not isinstance(value, bool)):
            return None
        return f"expected {what}, got {value!r:.60}"

    return fits


def _container(kinds: Any, what: str, item: Check | None, items: Callable[[Any], Any]) -> Check:
    def fits(value: Any, deep: bool) -> str | None:
        if not isinstance(value, kinds):
            return f"expected {what}, got {value!r:.60}"
        if deep and item is not None:
            for i, each in enumerate(items(value)):
                problem = item(each, deep)
                if problem is not None:
                    return f"item {i}: {problem}"
        return None

    return fits

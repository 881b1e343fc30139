"""Unit layer for the pure parts of the hardening: options, URIs, framing, codec, bounds."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import pytest

from twinls.server.lsp import options, uris
from twinls.server.lsp.framing import Framer, FramingError
from twinls.shared import results, schema
from twinls.shared.frames import FrameTooBig, Pickled, decode, encode, unpickle
from twinls.shared.results import bounded


@pytest.mark.parametrize(
    ("raw", "key", "expected", "problem"),
    [
        ({}, "heartbeat", 2.0, None),
        ({"heartbeat": 0}, "heartbeat", 0.1, "heartbeat 0 is outside"),
        ({"heartbeat": "fast"}, "heartbeat", 2.0, "heartbeat must be a number"),
        ({"runTimeout": True}, "runTimeout", 60.0, "runTimeout must be a number"),
        ({"runTimeout": 1e9}, "runTimeout", 86400.0, "runTimeout 1000000000.0 is outside"),
        ({"hangAfter": 1, "heartbeat": 2}, "hangAfter", 4.0, "shorter than two heartbeats"),
        ({"pool": 0}, "pool", None, "pool must be a whole number"),
        ({"pool": 10**6}, "pool", options.max_pool(), "more than this machine"),
        ({"maxFileSize": 10}, "maxFileSize", 1024, "maxFileSize 10 is outside"),
        ({"runMemoryLimit": None}, "runMemoryLimit", None, None),
        ([], "heartbeat", 2.0, None),  # Neovim's empty table
        ({"liveTests": "yes"}, "liveTests", False, "liveTests must be true or false"),
        ({"liveTests": True}, "liveTests", True, None),
        ({"maxRestarts": 3.7}, "maxRestarts", 3, None),
        ({"exclude": "x"}, "exclude", None, "exclude must be a list of glob strings; ignored"),
        ({"exclude": ["build/*"]}, "exclude", ["build/*"], None),
        ("x", "heartbeat", 2.0, "initializationOptions must be an object, not str"),
    ],
)
def test_options_are_range_checked(raw, key, expected, problem):
    checked = options.check(raw)
    assert checked.values.get(key) == expected
    if problem is None:
        assert checked.problems == []
    else:
        assert any(problem in p for p in checked.problems), checked.problems


def test_options_are_structured_into_the_dataclass():
    checked = options.check(
        {"heartbeat": 1, "maxRestarts": 3.7, "pool": 1, "exclude": ["b/*"], "lensIcons": "text"}
    )
    assert checked.options == options.Options(heartbeat=1.0, maxRestarts=3, pool=1, exclude=["b/*"])
    assert type(checked.options.heartbeat) is float and type(checked.options.maxRestarts) is int
    assert checked.values["lensIcons"] == "text"  # not checked: passed along as it came
    assert checked.problems == []


def test_the_options_defaults_are_the_schemas():
    defaults = {f.name: f.default for f in dataclasses.fields(options.Options)}
    assert {k: defaults[k] for k in schema.DEFAULTS} == schema.DEFAULTS


@pytest.mark.parametrize(
    "raw", [b"/tmp/caf\xe9.py", "/tmp/é x/ü.py".encode(), b"/tmp/a%20b#c?.py", b"/"]
)
def test_uris_round_trip_any_path_bytes(raw):
    path = os.fsdecode(raw)
    uri = uris.uri_of(path)
    assert uri.isascii() and uri.startswith("file:///")
    assert os.fsencode(uris.path_of(uri)) == raw


def test_inside_the_roots_resolves_symlinks(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "out").symlink_to(tmp_path)
    assert uris.inside(str(tmp_path / "ws" / "a.py"), [str(tmp_path / "ws")])
    assert not uris.inside(str(tmp_path / "ws" / "out" / "b.py"), [str(tmp_path / "ws")])
    assert not uris.inside(str(tmp_path / "wsx" / "a.py"), [str(tmp_path / "ws")])


def frames_of(data: bytes, max_body: int = 1 << 20) -> list:
    async def read():
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        framer = Framer(reader, max_body)
        out = []
        while True:
            try:
                body = await framer.next()
            except FramingError as exc:
                out.append(f"error: {exc}")
                continue
            if body is None:
                return out
            out.append(body)

    return asyncio.run(read())


def test_framer_reads_bodies_and_refuses_other_headers():
    assert frames_of(b"Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]") == [b"{}", b"[1]"]
    assert frames_of(b"content-length: 2\r\nContent-Type: x\r\n\r\n{}") == [b"{}"]
    http = frames_of(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert http[0].startswith("error: not an LSP header") and len(http) == 2
    assert frames_of(b"Content-Length: 99999999\r\n\r\n", max_body=10)[0].startswith(
        "error: Content-Length 99999999 outside"
    )
    assert frames_of(b"Content-Length: 10\r\n\r\nshort") == []  # the stream ended mid-body


def test_codec_carries_any_str_and_keeps_pickles_unloaded():
    msg = {"k": "x", "t": "\ud800 and \udce9", "v": {1, 2}}
    body = encode(msg)[4:]
    plain = decode(body)
    assert plain["t"] == msg["t"]
    assert isinstance(plain["v"], Pickled) and "not loaded" in repr(plain["v"])
    assert unpickle(plain["v"]) == {1, 2}
    assert decode(body, pickles=True)["v"] == {1, 2}
    assert decode(encode({"k": "relay", "v": plain["v"]})[4:], pickles=True)["v"] == {1, 2}
    with pytest.raises(FrameTooBig, match="exceeds the channel's 10-byte frame limit"):
        encode({"k": "big", "text": "x" * 100}, limit=10)


def test_bounded_text_keeps_start_and_end_and_says_so():
    text = "a" * 1000 + "b" * 1000
    cut = bounded(text, 100)
    assert cut.startswith("a" * 25) and cut.endswith("b" * 75)
    assert "1900 characters cut here; the whole text was 2000" in cut
    assert bounded("short", 100) == "short" and bounded(None, 1) is None
    entry = results.test_entry("t.py::test_x", "t.py", stdout="x" * 10**6, message="m" * 10**5)
    assert len(entry["stdout"]) < 70 * 1024 and len(entry["message"]) < 9 * 1024

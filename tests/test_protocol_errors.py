"""Broken framing, unparseable bodies, early requests, shutdown mid-request, bad edits.

Hand-framed over a real stdio pipe (``raw_lsp``): a client library would refuse
to send most of this.
"""

from __future__ import annotations

import subprocess
import sys

from raw_lsp import frame, initialize, message, read_message

EXIT = message(method="exit")


def STATUS(msg_id: int) -> bytes:  # noqa: N802 (reads as the message it builds)
    return message(
        id=msg_id,
        method="workspace/executeCommand",
        params={"command": "twinls.status", "arguments": []},
    )


def start():
    return subprocess.Popen(
        [sys.executable, "-m", "twinls", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def send(proc, *data: bytes) -> None:
    for d in data:
        proc.stdin.write(d)
    proc.stdin.flush()


def status(proc, msg_id: int) -> dict:
    send(proc, STATUS(msg_id))
    return read_response(proc.stdout, msg_id)["result"]


NOTICES: list[dict] = []


def read_response(stream, msg_id: int) -> dict:
    """raw_lsp's, keeping the notifications it skips (in NOTICES)."""
    while True:
        msg = read_message(stream)
        if "method" in msg:
            NOTICES.append(msg)
        elif msg.get("id") == msg_id:
            return msg


def errors_until(proc, msg_id: int) -> tuple[list[dict], dict]:
    """Error responses with no id seen before the response to ``msg_id``."""
    seen = []
    while True:
        msg = read_message(proc.stdout)
        if "method" in msg:
            continue
        if msg.get("id") == msg_id:
            return seen, msg
        seen.append(msg)


def test_early_requests_bad_bodies_and_an_overstated_length(tmp_path):
    proc = start()
    try:
        # Before initialize: a request is refused with ServerNotInitialized.
        send(proc, message(id=1, method="workspace/symbol", params={"query": "x"}))
        assert read_response(proc.stdout, 1)["error"]["code"] == -32002
        send(proc, initialize(str(tmp_path), msg_id=2), message(method="initialized", params={}))
        assert "capabilities" in read_response(proc.stdout, 2)["result"]
        # Not JSON, then JSON that is no JSON-RPC message: -32700, -32600, and on we go.
        send(proc, frame(b"{not json"), frame(b"[1, 2]"))
        assert status(proc, 3)["pool"]["live"] == 1
        # A Content-Length longer than its body swallows the next message's start:
        # the server answers -32700 and reads that message again from its header.
        short = b'{"jsonrpc": "2.0", "method": "initialized", "params": {}}'
        send(proc, b"Content-Length: %d\r\n\r\n" % (len(short) + 40) + short, STATUS(4))
        seen, answer = errors_until(proc, 4)
        codes = [m["error"]["code"] for m in seen]
        assert -32700 in codes
        assert answer["result"]["pool"]["live"] == 1
        send(proc, message(id=5, method="shutdown"), EXIT)
        assert proc.wait(30) == 0
    finally:
        proc.kill()


def test_parse_errors_are_answered(tmp_path):
    proc = start()
    try:
        send(proc, initialize(str(tmp_path)), message(method="initialized", params={}))
        read_response(proc.stdout, 1)
        send(proc, frame(b"{not json"), frame(b'"a string"'))
        seen = []
        while len(seen) < 2:
            msg = read_message(proc.stdout)
            if "method" not in msg:
                seen.append(msg)
        assert [(m["id"], m["error"]["code"]) for m in seen] == [(None, -32700), (None, -32600)]
        send(proc, message(id=2, method="shutdown"), EXIT)
        assert proc.wait(30) == 0
    finally:
        proc.kill()


SLOW_TEST = """\
import time


def test_sleeps():
    time.sleep(600)
"""


def test_shutdown_while_a_request_runs(tmp_path):
    (tmp_path / "test_slow.py").write_text(SLOW_TEST)
    proc = start()
    init = message(
        id=1,
        method="initialize",
        params={
            "processId": None,
            "rootUri": tmp_path.as_uri(),
            "capabilities": {"window": {"workDoneProgress": True}},
            "initializationOptions": {"pool": 1},
        },
    )
    try:
        send(proc, init, message(method="initialized", params={}))
        read_response(proc.stdout, 1)
        status(proc, 2)  # a twin is up
        uri = (tmp_path / "test_slow.py").as_uri()
        send(
            proc,
            message(
                id=3,
                method="workspace/executeCommand",
                params={"command": "twinls.runFile", "arguments": [{"uri": uri}]},
            ),
        )
        # Wait for the run to be under way: the server asks for its progress bar.
        while read_message(proc.stdout).get("method") != "window/workDoneProgress/create":
            pass
        send(proc, message(id=4, method="shutdown"))
        answer = read_response(proc.stdout, 4)
        assert "error" not in answer and answer["result"] is None
        send(proc, EXIT)
        assert proc.wait(30) == 0
    finally:
        proc.kill()


def test_a_negative_position_loses_track_until_the_save(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("old = 0\n")
    uri = path.as_uri()
    proc = start()
    try:
        send(proc, initialize(str(tmp_path)), message(method="initialized", params={}))
        read_response(proc.stdout, 1)
        send(
            proc,
            message(
                method="textDocument/didOpen",
                params={
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": 1,
                        "text": "a = 1\n",
                    }
                },
            ),
        )
        assert str(path) in status(proc, 2)["server"]["hashes"]
        bad = {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": -1, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                    "text": "b = 2\n",
                }
            ],
        }
        send(proc, message(method="textDocument/didChange", params=bad))
        st = status(proc, 3)
        # Not silently dropped: our copy is gone (the twins read the disk) and the
        # user is told.
        assert str(path) not in st["server"]["hashes"]
        assert str(path) not in st["twins"][0]["hashes"]
        assert st["server"]["untracked"] == [str(path)]
        # The editor saves: the disk is its text again, and we are back in sync.
        path.write_text("b = 2\na = 1\n")
        send(proc, message(method="textDocument/didSave", params={"textDocument": {"uri": uri}}))
        st = status(proc, 4)
        assert st["server"]["untracked"] == []
        assert st["server"]["hashes"][str(path)] == st["twins"][0]["hashes"][str(path)]
        shown = [m["params"]["message"] for m in NOTICES if m["method"] == "window/showMessage"]
        assert any("lost track of a.py" in m for m in shown), shown
        assert any("a.py is back in sync" in m for m in shown), shown
        send(proc, message(id=5, method="shutdown"), EXIT)
        assert proc.wait(30) == 0
    finally:
        proc.kill()

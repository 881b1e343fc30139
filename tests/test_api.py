"""The Python API: run_remotely with promises, and the channel's fault handling."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from twinls import Twin, TwinDied, TwinError, current
from twinls.server.promise import Cancelled, Promise
from twinls.shared.textbuf import text_sha256


def visit_count(name: str) -> tuple[int, int]:
    """Runs in the twin: streams two batches, returns what it saw."""
    ctx = current()
    ctx.partial([name, 1])
    ctx.partial([name, 2])
    text = ctx.overlay.read_text(os.path.join(ctx.state.roots[0], "m.py"))
    return text.count(name), os.getpid()


@pytest.fixture
def twin(tmp_path):
    (tmp_path / "m.py").write_text("def visit(): pass\n")
    with Twin.start(tmp_path, settings={}) as t:
        yield t


def test_run_remotely_streams_partials_then_the_value(twin, tmp_path):
    twin.edit(tmp_path / "m.py", "def visit(): visit()\n")  # unsaved: the disk keeps one
    p = twin.run_remotely(visit_count, "visit")
    assert list(p.partials(timeout=10)) == [["visit", 1], ["visit", 2]]
    count, pid = p.result(timeout=10)
    assert count == 2
    assert pid != os.getpid() and pid == twin.status()[0]["pid"]
    assert (tmp_path / "m.py").read_text() == "def visit(): pass\n"


def test_then_and_await(twin):
    p = twin.run_remotely(lambda a, b: a + b, 2, 3).then(lambda v: v * 10)
    assert p.result(10) == 50

    async def main():
        return await twin.run_remotely(lambda: {1, 2})  # a set travels pickled

    assert asyncio.run(main()) == {1, 2}


def test_remote_error_keeps_type_and_traceback(twin):
    def boom():
        raise KeyError("nope")

    with pytest.raises(TwinError) as info:
        twin.run_remotely(boom).result(10)
    assert info.value.type_name == "KeyError"
    assert "boom" in info.value.remote_traceback
    assert twin.run_remotely(lambda: "still serving").result(10) == "still serving"


def test_cancel_stops_the_remote_work(twin):
    p = twin.call("sleep", 30)
    next(p.partials(timeout=10))  # it is running
    assert p.cancel()
    with pytest.raises(Cancelled):
        p.result(1)
    assert twin.run_remotely(lambda: "free").result(10) == "free"


def test_killed_twin_fails_in_flight_promises_and_comes_back_with_every_edit(twin, tmp_path):
    twin.edit(tmp_path / "m.py", "one\n")
    pid = twin.status()[0]["pid"]
    p = twin.call("sleep", 60)
    next(p.partials(timeout=10))
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(TwinDied, match=f"pid {pid}"):
        p.result(10)
    twin.edit(tmp_path / "m.py", "two\n")  # while the twin is down
    deadline = time.monotonic() + 30
    while not twin.pool.live() and time.monotonic() < deadline:
        time.sleep(0.05)
    status = twin.status()[0]
    assert status["pid"] != pid
    assert status["hashes"][str(tmp_path / "m.py")] == text_sha256("two\n")


def test_diverged_twin_asks_for_the_full_text(twin, tmp_path):
    path = str(tmp_path / "m.py")
    twin.edit(path, "abc\n")
    t = twin.pool.live()[0]
    # An edit the server never made: a range past the end of the twin's copy.
    t.send(
        {
            "k": "edit",
            "seq": 10**6,
            "op": "change",
            "path": path,
            "version": 99,
            "edits": [[5, 0, 5, 0, "x"]],
            "crc": 0,
        }
    )
    twin.edit(path, "abcd\n")
    assert twin.status()[0]["hashes"][path] == text_sha256("abcd\n")
    assert twin.pool.resyncs == 1
    assert twin.call("read", path).result(10) == "abcd\n"


def test_malformed_frame_to_the_twin_restarts_it_from_a_snapshot(twin, tmp_path):
    path = str(tmp_path / "m.py")
    twin.edit(path, "kept\n")
    t = twin.pool.live()[0]
    t.send_raw(b"\x00\x00\x00\x04\xc1\xc1\xc1\xc1")  # 0xc1 is never valid msgpack
    deadline = time.monotonic() + 30
    while (not twin.pool.live() or twin.pool.live()[0] is t) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert twin.status()[0]["hashes"][path] == text_sha256("kept\n")


def test_malformed_frame_from_the_twin_is_refused(twin):
    def garble():
        current().state.channel.sendall(b"\x00\x00\x00\x02\xc1\xc1")
        time.sleep(5)

    with pytest.raises(TwinDied, match="malformed frame"):
        twin.run_remotely(garble).result(20)
    deadline = time.monotonic() + 30
    while not twin.pool.live() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert twin.run_remotely(lambda: 7).result(10) == 7


def test_cancelling_an_awaiting_task_cancels_the_remote_call(twin):
    async def main():
        p = twin.call("sleep", 30)
        task = asyncio.ensure_future(_await(p))
        await asyncio.to_thread(lambda: next(p.partials(timeout=10)))  # running in the twin
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return p

    p = asyncio.run(main())
    assert p.cancelled()
    # The twin stopped sleeping: it answers at once, not after 30 s of sleep.
    assert twin.run_remotely(lambda: "free").result(10) == "free"


async def _await(p):
    return await p


def not_plain() -> set[complex]:
    current().partial([1j])
    return {1 + 2j, 3j}


def test_values_that_are_not_plain_data_are_loaded_for_the_api_caller(twin):
    # They travel pickled, and only the caller who asked for them loads them
    # (the LSP server never does; see tests/test_run_cleanup.py).
    p = twin.run_remotely(not_plain)
    assert p.result(timeout=30) == {1 + 2j, 3j}
    assert list(p.partials(timeout=10)) == [[1j]]


def sleeps_past_its_cancel() -> None:
    current().partial(["started"])
    time.sleep(600)  # blocks the twin's worker; never looks at its cancel


def test_a_worker_that_ignores_its_cancel_is_restarted(tmp_path):
    from twinls.server.pool import TwinPool

    pool = TwinPool([str(tmp_path)], size=1, heartbeat=0.1, hang_after=30, cancel_grace=0.5)
    pool.start(wait=True)
    try:
        (twin,) = pool.live()
        stuck = pool.call(sleeps_past_its_cancel)
        assert next(iter(stuck.partials(timeout=30))) == ["started"]
        stuck.cancel()
        deadline = time.monotonic() + 60
        while not (pool.live() and pool.live()[0].pid != twin.pid):
            assert time.monotonic() < deadline, "the stuck twin was never replaced"
            time.sleep(0.05)
        assert "ignored a cancel" in twin.exit_reason
        assert pool.call("status").result(30)["pid"] == pool.live()[0].pid
    finally:
        pool.close()


def test_an_answer_over_the_frame_cap_fails_that_call_not_the_twin(tmp_path, monkeypatch):
    from twinls.shared import frames

    monkeypatch.setattr(frames, "MAX_FRAME", 1 << 20)  # the twin is forked with it
    with Twin.start(tmp_path) as t:
        pid = t.status()[0]["pid"]
        with pytest.raises(TwinError, match="exceeds the channel's 1048576-byte frame limit"):
            t.run_remotely(str.__mul__, "x", 2 << 20).result(timeout=30)
        assert t.status()[0]["pid"] == pid  # the same twin answers on


# -- malformed messages: a clear error, and the twin goes on ----------------------------


def send_malformed() -> str:
    """Runs in the twin: sends the server messages that fit no schema type, then answers."""
    ctx = current()
    ctx.send({"k": "partial", "items": [1]})  # no id
    ctx.send({"k": "done", "id": "seven", "value": None})
    ctx.send({"k": "shout"})  # (a frame that is no map at all is a framing error: a restart)
    return "still here"


def test_a_malformed_message_from_a_twin_is_logged_and_skipped(twin, caplog):
    pid = twin.status()[0]["pid"]
    with caplog.at_level("ERROR", logger="twinls.server.process"):
        assert twin.run_remotely(send_malformed).result(timeout=30) == "still here"
    said = [r.getMessage() for r in caplog.records if "malformed message" in r.getMessage()]
    assert said == [
        "twin 0 sent a malformed message, skipped: twin → server 'partial' message: missing 'id'",
        "twin 0 sent a malformed message, skipped: twin → server 'done' message: "
        "'id': expected a whole number, got 'seven'",
        "twin 0 sent a malformed message, skipped: twin → server: unknown message kind 'shout'",
    ]
    assert twin.status()[0]["pid"] == pid


def test_a_malformed_message_to_a_twin_is_refused_and_the_twin_goes_on(twin, caplog):
    (proc,) = twin.pool.live()
    pid = proc.pid
    # White-box: a call no stub would make (its args are no list), answered by id.
    promise = Promise(10_000, proc)
    proc._promises[10_000] = promise
    with caplog.at_level("ERROR", logger="twinls.server.process"):
        proc.send({"k": "call", "id": 10_000, "q": "status", "args": "no", "seq": 0})
        proc.send({"k": "edit", "op": "open"})  # no seq, no path
        with pytest.raises(TwinError) as caught:
            promise.result(timeout=30)
        assert caught.value.type_name == "MessageError"
        assert str(caught.value.message) == (
            "server → twin 'call' message: 'args': expected a list, got 'no'"
        )
        assert twin.call("status").result(timeout=30)["pid"] == pid
    told = [r.getMessage() for r in caplog.records if "malformed message" in r.getMessage()]
    assert told == [
        "twin 0: malformed message, skipped: server → twin 'call' message: "
        "'args': expected a list, got 'no'",
        "twin 0: malformed message, skipped: server → twin 'edit' message: missing 'path', 'seq'",
    ]

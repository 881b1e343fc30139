"""Server: a sharded call's queues, home first, then stealing (``server/shards.py``)."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest

from twinls.server.shards import FIRST_CHUNK, MAX_CHUNK, ShardedCall


def queues(takes=lambda twin, item: True, **slots: str) -> ShardedCall:
    pool = SimpleNamespace(takes=takes)
    call = ShardedCall(pool=pool, target="q", items=[], args=())  # type: ignore[arg-type]
    call.queues = {int(k[1:]): deque(v) for k, v in slots.items()}
    return call


def twin(slot: int) -> SimpleNamespace:
    return SimpleNamespace(slot=slot)


@pytest.mark.parametrize(
    "slots, takes, expected",
    [
        # the own queue's head, in chunks that double from FIRST_CHUNK
        ({"s0": "abcdefg"}, [0, 0, 0], ["ab", "cdef", "g"]),
        # an empty own queue steals one item from the tail of the longest other queue
        ({"s0": "", "s1": "abc", "s2": "de"}, [0, 0], ["c", "b"]),
        ({"s0": "", "s1": ""}, [0], [""]),
    ],
)
def test_take(slots, takes, expected):
    call = queues(**slots)
    assert ["".join(call._take(twin(slot))) for slot in takes] == expected


def test_chunks_stop_growing_at_max_chunk():
    call = queues(s0="x" * 1000)
    sizes = [len(call._take(twin(0))) for _ in range(8)]
    assert sizes[0] == FIRST_CHUNK
    assert max(sizes) == MAX_CHUNK


def test_a_remote_twin_steals_only_files_of_the_folders_it_maps():
    # slot 1 is on a host that has the folder of the upper-case "files" only
    call = queues(takes=lambda t, item: t.slot != 1 or item.isupper(), s0="aBcDe", s1="")
    assert ["".join(call._take(twin(1))) for _ in range(3)] == ["D", "B", ""]
    assert "".join(call.queues[0]) == "ace"  # left for the local twin


def test_files_no_live_twin_may_take_fail_the_call_as_unavailable():
    from twinls.server.promise import TwinUnavailable

    far = SimpleNamespace(slot=1, rtt=0.06, files_per_s=0.0)  # a host mapping folder b only
    pool = SimpleNamespace(
        live=lambda: [far],
        takes=lambda t, item: item.startswith("/b/"),
        unavailable=lambda: TwinUnavailable("no twin is running yet"),
    )
    call = ShardedCall(pool=pool, target="q", items=["/b/x.py", "/a/y.py"], args=())  # type: ignore[arg-type]
    with pytest.raises(TwinUnavailable):
        call.start().result(1)


def test_an_idle_twin_never_ends_a_call_with_files_only_another_twin_may_take():
    """Folders in two interpreters: twin 0 (folder a) is dealt first after twin 1's last
    chunk settled, with only folder b's file left. It must not end the call (it once did:
    a two-folder search lost b/other.py under load); twin 1 takes the file."""
    a, b = SimpleNamespace(slot=0, host=None), SimpleNamespace(slot=1, host=None)
    taken: list[tuple[int, list[str]]] = []
    pool = SimpleNamespace(
        live=lambda: [a, b],
        takes=lambda t, item: t.slot == (1 if item.startswith("/b/") else 0),
        call=lambda _q, chunk, *args, twin: taken.append((twin.slot, chunk)) or _Never(),
    )
    call = ShardedCall(pool=pool, target="q", items=[], args=())  # type: ignore[arg-type]
    call.queues = {0: deque(), 1: deque(["/b/other.py"])}
    call._deal(a)
    assert call._stopped is False
    assert taken == [(1, ["/b/other.py"])]


class _Never:
    """A promise that never settles (the test looks only at what was dealt)."""

    def cancel(self) -> None: ...

    def on_partial(self, _fn) -> None: ...

    class _future:  # noqa: N801
        @staticmethod
        def add_done_callback(_fn) -> None: ...


def _kept_call(kept, generation, items, live, name="name"):
    dealt: list[tuple[int, list[str]]] = []
    pool = SimpleNamespace(
        live=lambda: live,
        takes=lambda t, item: True,
        call=lambda _q, chunk, *args, twin: dealt.append((twin.slot, chunk)) or _Never(),
    )
    call = ShardedCall(pool, "search.refs_in", items, (name,), kept, generation)  # type: ignore[arg-type]
    call.start()
    return call, dealt


def test_files_go_to_the_twin_that_keeps_their_answer_and_are_not_stolen():
    """A twin keeps each file's answer until the next change: asked again, the file goes
    back to that twin, and an idle twin does not steal it (a cold resolution there)."""
    from twinls.server.shards import KeptAt, home

    t0, t1 = (SimpleNamespace(slot=s, pid=100 + s, rtt=0.0, files_per_s=0.0) for s in (0, 1))
    files = [f"/w/f{i}.py" for i in range(40)]
    assert {home(f, {0: 1.0, 1: 1.0}) for f in files} == {0, 1}  # by hash: both twins
    kept = KeptAt()
    kept.put(7, ("search.refs_in", "name"), files, 1, 101)  # twin 1 answered them all
    call, dealt = _kept_call(kept, 7, files, [t0, t1])
    assert {slot for slot, _ in dealt} == {1}  # twin 0 had nothing of its own, stole nothing
    assert not call._take(t0) and not call.queues[0]
    # by hash again: another name, a change since (generation 8), twin 1 restarted
    assert _kept_call(kept, 7, files, [t0, t1], name="other")[0].kept_home == {}
    assert _kept_call(kept, 8, files, [t0, t1])[0].kept_home == {}
    kept.put(7, ("search.refs_in", "name"), files, 1, 101)
    t1.pid = 999
    assert _kept_call(kept, 7, files, [t0, t1])[0].kept_home == {}

"""Units of the remote-twin code: path mapping (several folders), edits sent back to disk,
dealing by weight, a host sized again at each connect."""

from __future__ import annotations

from types import SimpleNamespace

from twinls.server.remote_relay import PathMap, to_host_entry
from twinls.server.shards import chunk_scale, home, weights
from twinls.server.sizing import Measured, Sizing, choose


def test_paths_move_out_by_prefix_and_come_back_everywhere():
    m = PathMap({"/home/me/ws": "/srv/ws"})
    msg = {"k": "edit", "path": "/home/me/ws/a.py", "text": "/home/me/ws/a.py"}
    assert m.out(msg) == {"k": "edit", "path": "/srv/ws/a.py", "text": "/home/me/ws/a.py"}
    assert m.out_str("/home/me/ws2/a.py") == "/home/me/ws2/a.py"  # another folder
    assert m.out_str("file:///home/me/ws/a.py") == "file:///srv/ws/a.py"
    back = m.into({"items": [["/srv/ws/a.py", 1]], "tb": 'File "/srv/ws/a.py", line 1'})
    assert back == {"items": [["/home/me/ws/a.py", 1]], "tb": 'File "/home/me/ws/a.py", line 1'}
    assert m.into({"/srv/ws/b.py": "h"}) == {"/home/me/ws/b.py": "h"}  # keys too (hashes)


def test_back_to_disk_entries_carry_the_local_disk_text(tmp_path):
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    entry = {"k": "edit", "seq": 3, "op": "close", "path": str(f)}
    sent = to_host_entry(entry, lambda p: False)
    assert sent == {"k": "edit", "seq": 3, "op": "open", "path": str(f), "version": 0,
                    "text": "x = 1\n"}  # fmt: skip
    assert to_host_entry(entry, lambda p: True) == entry  # the editor's text still rules
    change = {"k": "edit", "seq": 4, "op": "change", "path": str(f), "edits": []}
    assert to_host_entry(change, lambda p: False) is change


def twin(slot, rtt=0.0, speed=0.0):
    return SimpleNamespace(slot=slot, rtt=rtt, files_per_s=speed)


def test_a_far_twin_gets_a_smaller_share_and_bigger_chunks_until_measured():
    near, far = twin(0, rtt=0.0001), twin(1, rtt=0.06)
    shares = weights([near, far])
    assert shares[0] == 1.0 and shares[1] < 0.3
    assert chunk_scale(near.rtt) == 1 and chunk_scale(far.rtt) == 8
    files = [f"/ws/f{i}.py" for i in range(400)]
    homes = [home(f, shares) for f in files]
    assert 0 < homes.count(1) < homes.count(0)
    assert homes == [home(f, shares) for f in files]  # stable while the shares are


def test_measured_speed_decides_once_known():
    shares = weights([twin(0, speed=100.0), twin(1, rtt=0.06, speed=100.0), twin(2, speed=25.0)])
    assert shares == {0: 1.0, 1: 1.0, 2: 0.25}


def test_a_slower_twin_gets_a_lighter_share_of_a_split_run():
    from twinls.server.plan import shard, shard_weighted

    seconds = {f"t{i}": 1.0 for i in range(9)}
    fast, slow = shard_weighted(seconds, [1.0, 0.5])
    assert len(fast) == 6 and len(slow) == 3
    assert sorted(fast + slow) == sorted(seconds)
    assert [len(g) for g in shard(seconds, 3)] == [3, 3, 3]


def test_the_overlay_is_every_difference_from_head_staged_or_not(tmp_path):
    from remote_hosts import git, make_repo
    from twinls.server.remote import git_overlay, local_base

    make_repo(tmp_path, {"a.py": "a\n", "b.py": "b\n", "c.py": "c\n", ".gitignore": "*.log\n"})
    (tmp_path / "a.py").write_text("a2\n")  # modified
    (tmp_path / "b.py").write_text("b2\n")
    git(tmp_path, "add", "b.py")  # staged
    (tmp_path / "c.py").unlink()  # deleted
    (tmp_path / "new.py").write_text("n\n")  # untracked
    (tmp_path / "x.log").write_text("ignored\n")
    changed, deleted = git_overlay(str(tmp_path))
    assert changed == [str(tmp_path / n) for n in ("a.py", "b.py", "new.py")]
    assert deleted == [str(tmp_path / "c.py")]
    head, files = local_base(str(tmp_path))
    assert head == git(tmp_path, "rev-parse", "HEAD").strip() and files is None


def test_without_git_the_base_is_file_hashes(tmp_path):
    from twinls.server.remote import hashed_overlay, local_base
    from twinls.server.remote_agent import check_base

    (tmp_path / "a.py").write_text("a\n")
    (tmp_path / "b.py").write_text("b\n")
    head, base = local_base(str(tmp_path))
    assert head is None and set(base) == {"a.py", "b.py"}
    assert check_base(str(tmp_path), None, base)["ok"]
    (tmp_path / "a.py").write_text("changed\n")
    (tmp_path / "b.py").unlink()
    (tmp_path / "c.py").write_text("c\n")
    assert hashed_overlay(str(tmp_path), base) == (
        [str(tmp_path / "a.py"), str(tmp_path / "c.py")],
        [str(tmp_path / "b.py")],
    )
    answer = check_base(str(tmp_path), None, base)
    assert not answer["ok"] and "2 files differ" in answer["why"]
    assert check_base(str(tmp_path), "0" * 40, None) == {
        "k": "base",
        "ok": False,
        "why": f"{tmp_path} is not a git checkout here",
    }


def test_a_lost_host_is_retried_with_backoff_and_sized_by_what_it_has_free():
    from twinls.server.remote import TWIN_MEMORY, RemoteHost

    host = RemoteHost({"gateway": "popen", "root": "/srv/ws"}, "/home/me/ws")
    waits = [host.failed("gone") for _ in range(8)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert host.describe()["state"] == "down" and host.describe()["error"] == "gone"
    host.facts = {"cpus": 16, "load": 4.2, "mem_available": 3 * TWIN_MEMORY}
    assert host.size() == 3  # memory is shorter than the 12 free cores
    host.facts["mem_available"] = 100 * TWIN_MEMORY
    assert host.size() == 8  # at most MAX_TWINS
    host.cap = 2
    assert host.size() == 2


def test_several_folders_map_each_to_its_checkout_and_no_other():
    m = PathMap({"/home/me/app": "/srv/app", "/home/me/app/vendor": "/opt/vendor"})
    assert m.out_str("/home/me/app/a.py") == "/srv/app/a.py"
    assert m.out_str("/home/me/app/vendor/v.py") == "/opt/vendor/v.py"  # the nested one wins
    assert m.out_str("/home/me/lib/l.py") == "/home/me/lib/l.py"  # unmapped: unchanged
    assert m.maps("/home/me/app/vendor/v.py") and not m.maps("/home/me/lib/l.py")
    assert not m.maps("/home/me/app2/x.py")
    tb = 'File "/srv/app/a.py"; File "/opt/vendor/v.py"; /srv/app2/x.py; file:///srv/app/a.py'
    assert m.in_str(tb) == (
        'File "/home/me/app/a.py"; File "/home/me/app/vendor/v.py"; /srv/app2/x.py; '
        "file:///home/me/app/a.py"
    )


def test_a_remote_names_the_folder_it_mirrors_or_several():
    from twinls.server.remote import check_setting, folder_map

    good, problems = check_setting(
        [
            {"gateway": "popen", "root": "/srv/b", "folder": "/home/me/b"},
            {"gateway": "popen", "folders": {"/home/me/a": "/srv/a", "/home/me/b": "/srv/b"}},
            {"gateway": "popen", "root": "/srv/a"},
            {"gateway": "popen", "folders": {"a": "/srv/a"}},
            {"gateway": "popen", "root": "/srv/a", "folder": "relative"},
            {"gateway": "popen", "root": "/srv/a", "folders": {"/home/me/a": "/srv/a"}},
            {"gateway": "popen", "folder": "/home/me/a", "folders": {"/home/me/a": "/srv/a"}},
        ]
    )
    assert len(good) == 3 and len(problems) == 4, problems
    roots = ["/home/me/a", "/home/me/b"]
    assert folder_map(good[0], roots) == {"/home/me/b": "/srv/b"}
    assert folder_map(good[1], roots) == {"/home/me/a": "/srv/a", "/home/me/b": "/srv/b"}
    assert folder_map(good[2], roots) == {"/home/me/a": "/srv/a"}  # default: the first folder


# -- a host sized again at each connect (the pool's keeper thread, no real host) --------


class FakeHost:
    """A twin host as ``TwinPool._keep_host`` sees it: connects report the sizes given;
    ``gone()`` makes it go away (no gateway, no process: the pool's logic only)."""

    def __init__(self, sizes: list[int]) -> None:
        import threading

        self.sizes = sizes
        self.slots: list[int] = []
        self.spec, self.root = "popen", "/srv/ws"
        self.state, self.next_try, self.failures, self.lost = "new", 0.0, 0, 0
        self.sizing = choose(Measured(1, 0.0, 0), 1)
        self.connected = threading.Semaphore(0)
        self.again = threading.Event()

    @property
    def up(self) -> bool:
        return self.state == "up" and not self.again.is_set()

    def connect(self) -> int:
        if self.again.is_set():
            self.again.clear()
        n = self.sizes.pop(0)
        self.sizing = Sizing(n, "measured", float(n), n)
        self.state = "up"
        self.connected.release()
        return n

    def failed(self, message: str) -> float:
        self.state = "down"
        return 0.0

    def close(self) -> None:
        pass

    def gone(self) -> None:
        self.again.set()


def wait_until(predicate, what: str) -> None:
    import threading

    for _ in range(3000):  # a bounded wait on the keeper thread's state, not a timing
        if predicate():
            return
        threading.Event().wait(0.01)
    raise AssertionError(what)


def test_a_host_is_sized_again_when_it_reconnects():
    import threading

    from twinls.server.pool import TwinPool

    pool = TwinPool(["/nonexistent/ws"], size=1)
    h = FakeHost([3, 1, 2])
    keeper = threading.Thread(target=pool._keep_host, args=(h,), daemon=True)
    keeper.start()
    try:
        assert h.connected.acquire(timeout=30)
        wait_until(lambda: len(pool._slots_of(h)) == 3, "three slots after the first connect")
        assert h.slots == [1, 2, 3] and {1, 2, 3} <= pool._pending
        h.gone()  # it goes away; it comes back with less free
        assert h.connected.acquire(timeout=30)
        wait_until(lambda: pool._slots_of(h) == [1], "one slot after the second connect")
        assert pool.retired == {2, 3} and h.lost == 1
        h.gone()
        assert h.connected.acquire(timeout=30)
        wait_until(lambda: pool._slots_of(h) == [1, 2], "a retired slot back after the third")
    finally:
        pool._stopping.set()
        keeper.join(10)

"""Twins on other hosts: local twins only vs local + a remote host, and edit latency over ssh.

    .venv/bin/python tests/bench/bench_remote.py [--files 300] [--repeats 5]

The remote host is this machine (a ``popen`` gateway to pyenv's CPython 3.12 on a
clone of the workspace), so the figures are the overhead of the remote path
(execnet relay, path mapping, a second interpreter), not a speed-up. Over LSP
(real servers on stdio pipes, both up at once, their requests interleaved so
each sees the same load): a references search over ``--files`` files with two
local twins vs two local twins plus the host's; a split run of a test file (after
a first run, so durations are known). Then, through the Python API
over ssh to an sshd started here (tests/remote_hosts.py), edit-to-remote-twin
latency: an edit applied, then a call on the remote twin that reads the edited
text back (a call is answered after every edit before it); and what sizing costs:
one measurement of this machine, and one of the host over ssh (a round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lsprotocol import types  # noqa: E402

from lsp_harness import lsp_session  # noqa: E402
from remote_hosts import PY312, PY313, checkout, make_repo, sshd  # noqa: E402

HUB = "def target():\n    return 1\n"
USER = (
    "from hub import target\n\n\n"
    "class C{i}:\n    def m(self):\n        return target() + target()\n\n\n"
    "def f{i}(x):\n    return [target() for _ in range(x)]\n"
)
TESTS = "import time\n\n" + "".join(
    f"\ndef test_{i}():\n    time.sleep(0.1)\n    assert {i} >= 0\n\n" for i in range(12)
)


def workspace(tmp: Path, files: int) -> tuple[Path, Path]:
    tree = {"hub.py": HUB, "test_slow.py": TESTS}
    tree.update({f"pkg/u{i}.py": USER.format(i=i) for i in range(files)})
    tree["pkg/__init__.py"] = ""
    root = tmp / "ws"
    make_repo(root, tree)
    return root, checkout(root, tmp / "host" / "ws")


async def ready(client, options: dict) -> None:
    """Until every local twin (and, with remotes, a remote one) is live."""
    while True:
        status = await client.status()
        local = [t for t in status["twins"] if not t.get("remote")]
        if len(local) >= options["pool"] and (
            not options.get("remotes") or any(t.get("remote") for t in status["twins"])
        ):
            return
        await asyncio.sleep(0.2)


async def side_by_side(root: Path, configs: dict[str, dict], repeats: int) -> dict[str, dict]:
    """Both servers up at once, their requests interleaved: the same load for each."""
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name, options in configs.items():
            clients[name] = await stack.enter_async_context(lsp_session(root, options))
            await ready(clients[name], options)
        params = {
            name: types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=c.uri("hub.py")),
                position=types.Position(0, 5),
                context=types.ReferenceContext(include_declaration=True),
            )
            for name, c in clients.items()
        }
        figures: dict[str, dict] = {n: {"refs": [], "runs": []} for n in clients}
        for name, c in clients.items():  # warm: parse trees, index; durations for the split
            await c.text_document_references_async(params[name])
            await c.command("twinls.runFile", c.uri("test_slow.py"))
        for _ in range(repeats):
            for name, c in clients.items():
                t = time.perf_counter()
                found = await c.text_document_references_async(params[name]) or []
                figures[name]["refs"].append(time.perf_counter() - t)
                figures[name]["locations"] = len(found)
        for _ in range(max(2, repeats // 2)):
            for name, c in clients.items():
                t = time.perf_counter()
                result = await c.command("twinls.runFile", c.uri("test_slow.py"))
                figures[name]["runs"].append(time.perf_counter() - t)
                figures[name]["run_twins"] = len(result["twins"])
                assert result["summary"].get("passed") == 12, result["summary"]
        for name, c in clients.items():
            status = await c.status()
            figures[name]["chunks"] = {t["slot"]: t["chunks"] for t in status["twins"]}
        return figures


def ssh_latency(root: Path, host: Path, tmp: Path, n: int) -> dict[str, float]:
    from twinls import Twin

    with sshd(tmp / "sshd") as (dest, config):
        remote = {"gateway": f"ssh={dest}//python={PY313}", "root": str(host), "ssh_config": config}
        tw = Twin.start(root, size=1, remotes=[remote])
        try:
            pool = tw.pool
            deadline = time.monotonic() + 300
            while not [t for t in pool.live() if t.host is not None]:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no remote twin: {pool.remotes_info()}")
                time.sleep(0.2)
            far = next(t for t in pool.live() if t.host is not None)
            near = next(t for t in pool.live() if t.host is None)
            path = str(root / "pkg" / "u0.py")
            out: dict[str, float] = {}
            for name, twin in (("local", near), ("ssh", far)):
                lat = []
                for i in range(n):
                    t = time.perf_counter()
                    pool.apply({"op": "open", "path": path, "version": i, "text": f"x = {i}\n"})
                    assert pool.call("read", path, twin=twin).result(30) == f"x = {i}\n"
                    lat.append(time.perf_counter() - t)
                lat.sort()
                out[f"{name}_median_ms"] = 1000 * statistics.median(lat)
                out[f"{name}_p90_ms"] = 1000 * lat[int(0.9 * (len(lat) - 1))]
            out["ping_rtt_ms"] = 1000 * far.rtt
            # Sizing (server/sizing.py): a measurement here, and a host's over ssh.
            from twinls.server.sizing import measure

            t = time.perf_counter()
            for _ in range(20):
                measure()
            out["measure_local_ms"] = 1000 * (time.perf_counter() - t) / 20
            t = time.perf_counter()
            for _ in range(10):
                sizing = far.host.remeasure()
            out["measure_ssh_ms"] = 1000 * (time.perf_counter() - t) / 10
            out["ssh_sizing"] = sizing.reason  # type: ignore[assignment]
            return out
        finally:
            tw.pool.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--edits", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        root, host = workspace(tmp, args.files)
        remotes = [{"gateway": f"popen//python={PY312}", "root": str(host), "twins": 1}]
        configs = {
            "local x2": {"pool": 2, "runSplitMin": 0},
            "local x2 + popen x1": {"pool": 2, "runSplitMin": 0, "remotes": remotes},
        }
        figures = asyncio.run(side_by_side(root, configs, args.repeats))
        print(f"files {args.files + 2}, repeats {args.repeats} (interleaved)")
        for name, fig in figures.items():
            refs, runs = sorted(fig["refs"]), sorted(fig["runs"])
            print(
                f"{name:22} references median {statistics.median(refs):.2f} s "
                f"({refs[0]:.2f}-{refs[-1]:.2f}), {fig['locations']} locations; split run "
                f"median {statistics.median(runs):.2f} s ({runs[0]:.2f}-{runs[-1]:.2f}) on "
                f"{fig['run_twins']} twins; chunks {fig['chunks']}"
            )
        lat = ssh_latency(root, host, tmp, args.edits)
        print(
            f"edit -> twin (apply + read back, {args.edits} edits): local median "
            f"{lat['local_median_ms']:.1f} ms (p90 {lat['local_p90_ms']:.1f}); over ssh median "
            f"{lat['ssh_median_ms']:.1f} ms (p90 {lat['ssh_p90_ms']:.1f}); ssh ping rtt "
            f"{lat['ping_rtt_ms']:.1f} ms"
        )
        print(
            f"sizing: a measurement here {lat['measure_local_ms']:.2f} ms, a host's over ssh "
            f"{lat['measure_ssh_ms']:.1f} ms; the ssh host: {lat['ssh_sizing']}"
        )


if __name__ == "__main__":
    main()

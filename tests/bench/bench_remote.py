"""Twins on other hosts: local twins only vs local + a remote host, and edit latency over ssh.

    .venv/bin/python tests/bench/bench_remote.py [--files 300] [--repeats 5]

The remote host is this machine (a ``popen`` gateway to pyenv's CPython 3.12 on a
clone of the workspace), so the figures are the overhead of the remote path
(execnet relay, path mapping, a second interpreter), not a speed-up. Over LSP
(a real server on a stdio pipe): a references search over ``--files`` files
with two local twins, then with two local twins plus the host's; a split run of
a test file (the second run, with durations known). Then, through the Python API
over ssh to an sshd started here (tests/remote_hosts.py), edit-to-remote-twin
latency: an edit applied, then a call on the remote twin that reads the edited
text back (a call is answered after every edit before it).
"""

from __future__ import annotations

import argparse
import asyncio
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


async def lsp_figures(root: Path, options: dict, repeats: int) -> dict[str, float]:
    async with lsp_session(root, options) as client:
        if options.get("remotes"):
            while True:
                status = await client.status()
                if any(t.get("remote") for t in status["twins"]):
                    break
                await asyncio.sleep(0.2)
        else:
            while (await client.status())["pool"]["live"] < options["pool"]:
                await asyncio.sleep(0.2)
        params = types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=client.uri("hub.py")),
            position=types.Position(0, 5),
            context=types.ReferenceContext(include_declaration=True),
        )
        times, count = [], 0
        await client.text_document_references_async(params)  # warm: parse trees, index
        for _ in range(repeats):
            t = time.perf_counter()
            count = len(await client.text_document_references_async(params) or [])
            times.append(time.perf_counter() - t)
        uri = client.uri("test_slow.py")
        await client.command("twinls.runFile", uri)  # durations for the split
        runs, twins = [], []
        for _ in range(max(2, repeats // 2)):
            t = time.perf_counter()
            result = await client.command("twinls.runFile", uri)
            runs.append(time.perf_counter() - t)
            twins = result["twins"]
            assert result["summary"].get("passed") == 12, result["summary"]
        status = await client.status()
        chunks = {t["slot"]: t["chunks"] for t in status["twins"]}
        return {
            "refs_median": statistics.median(times),
            "refs_min": min(times),
            "locations": count,
            "run_median": statistics.median(runs),
            "run_twins": len(twins),
            "chunks": chunks,
        }


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
        local = asyncio.run(lsp_figures(root, {"pool": 2, "runSplitMin": 0}, args.repeats))
        remotes = [{"gateway": f"popen//python={PY312}", "root": str(host), "twins": 1}]
        both = asyncio.run(
            lsp_figures(root, {"pool": 2, "runSplitMin": 0, "remotes": remotes}, args.repeats)
        )
        print(f"files {args.files + 2}, repeats {args.repeats}")
        for name, fig in (("local x2", local), ("local x2 + popen x1", both)):
            print(
                f"{name:22} references median {fig['refs_median']:.2f} s (min "
                f"{fig['refs_min']:.2f}), {fig['locations']} locations; split run median "
                f"{fig['run_median']:.2f} s on {fig['run_twins']} twins; chunks {fig['chunks']}"
            )
        lat = ssh_latency(root, host, tmp, args.edits)
        print(
            f"edit -> twin (apply + read back, {args.edits} edits): local median "
            f"{lat['local_median_ms']:.1f} ms (p90 {lat['local_p90_ms']:.1f}); over ssh median "
            f"{lat['ssh_median_ms']:.1f} ms (p90 {lat['ssh_p90_ms']:.1f}); ssh ping rtt "
            f"{lat['ping_rtt_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()

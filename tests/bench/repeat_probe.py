"""Run on purpose: the same references request four times on one server; do the answers agree?

Usage: .venv/bin/python tests/bench/repeat_probe.py [ROOT] [-- twinls args, e.g. --pool 1]
Asks for the references of ``class Promise`` in this repository (or --file,
--pattern, --name elsewhere), waiting --pause seconds between repeats, and prints
each answer's size and what differs from the first. Plain LSP over stdio, stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def frame(msg: dict) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read(out) -> dict:
    length = 0
    while (line := out.readline().strip()) != b"":
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(out.read(length))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default=str(HERE))
    ap.add_argument("--file", default="server/twinls/server/promise.py")
    ap.add_argument("--pattern", default=r"^class Promise\b")
    ap.add_argument("--name", default="Promise")
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--pause", type=float, default=3.0)
    ap.add_argument("twinls_args", nargs="*")
    args = ap.parse_args()
    root = Path(args.root).resolve()
    target = root / args.file
    lines = target.read_text().split("\n")
    line = next(i for i, s in enumerate(lines) if re.search(args.pattern, s))
    exe = str(Path(sys.executable).with_name("twinls"))
    proc = subprocess.Popen(
        [exe, *args.twinls_args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    ids = iter(range(1, 10**6))

    def request(method: str, params: dict) -> object:
        n = next(ids)
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": n, "method": method, "params": params}))
        proc.stdin.flush()
        while True:
            msg = read(proc.stdout)
            if msg.get("id") == n and "method" not in msg:
                return msg.get("result")
            if "method" in msg and "id" in msg:  # a request of the server's: say yes
                proc.stdin.write(frame({"jsonrpc": "2.0", "id": msg["id"], "result": None}))
                proc.stdin.flush()

    def notify(method: str, params: dict) -> None:
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": method, "params": params}))
        proc.stdin.flush()

    request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}})
    notify("initialized", {})
    uri = target.as_uri()
    doc = {"uri": uri, "languageId": "python", "version": 1, "text": target.read_text()}
    notify("textDocument/didOpen", {"textDocument": doc})
    answers = []
    for _ in range(args.repeat):
        t0 = time.monotonic()
        res = request("textDocument/references", {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": lines[line].index(args.name)},
            "context": {"includeDeclaration": True}})  # fmt: skip
        spots = {(r["uri"], r["range"]["start"]["line"], r["range"]["start"]["character"])
                 for r in res or []}  # fmt: skip
        answers.append(spots)
        print(f"{len(spots)} locations in {time.monotonic() - t0:.2f} s", flush=True)
        time.sleep(args.pause)
    for i, spots in enumerate(answers[1:], 1):
        if spots != answers[0]:
            print(f"repeat {i} differs: {sorted(spots ^ answers[0])[:6]}")
    proc.kill()
    sys.exit(0 if all(a == answers[0] for a in answers) else 1)


if __name__ == "__main__":
    main()

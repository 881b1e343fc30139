"""Server: test discovery, every test of the workspace, before any run.

``twinls.discoverTests`` asks a twin for the test modules under the roots and
their tests (``run.discover``: the lenses' ``ast`` index over the overlay, so
unsaved tests are listed), and adds the parametrized cases runs have already
reported (their ids exist only once pytest has collected them).
"""

from __future__ import annotations

import os
from typing import Any

from ...shared.paths import root_of
from ...shared.schema import DiscoveredFile, DiscoveredTest, Discovery
from .. import stubs
from . import app
from .runs import Runs
from .server import TwinLanguageServer

DISCOVER = "twinls.discoverTests"


@app.command(DISCOVER)
async def discover(ls: TwinLanguageServer, *args: Any) -> Discovery:
    pool = await ls.twin_pool()
    found = await ls.ask(stubs.run_discover())
    runs = ls.part(Runs)
    files: list[DiscoveredFile] = []
    for entry in found:
        path = entry["path"]
        rel = os.path.relpath(path, root_of(path, pool.roots)).replace(os.sep, "/")
        seen = runs.latest.tests.get(path, {})
        tests: list[DiscoveredTest] = []
        for unit in entry["tests"]:
            nodeid = f"{rel}::{unit['qualname']}"
            tests.append(
                {
                    "nodeid": nodeid,
                    "name": unit["name"],
                    "qualname": unit["qualname"],
                    "kind": unit["kind"],
                    "line": unit["line"],
                }
            )
            for case in sorted(n for n in seen if n.startswith(nodeid + "[")):
                tests.append(
                    {
                        "nodeid": case,
                        "name": case.rpartition("::")[2],
                        "qualname": case.partition("::")[2],
                        "kind": "case",
                        "line": unit["line"],
                    }
                )
        files.append({"uri": ls.uri_of(path), "tests": tests})
    return {"files": files}

"""Twin: a test's hold on a bulk call, standing for one long unit of a search.

A search twin's jedi can stay seconds on one name (a parameter inferred from its
call sites) while it holds the gate (``twin/gate.py``); what a hover does then is
what the interactive twin is for. A test cannot make jedi slow on purpose, so
``TWINLS_TEST_HOLD="<query>=<unix socket>"`` makes this twin's first call of
``<query>`` hold the gate from the search lane until the test lets go: the twin
connects to the test's socket, says its pid, and waits for the test to close it.
Nothing reads the variable but tests; nothing is written to disk.
"""

from __future__ import annotations

import os
import socket

ENV = "TWINLS_TEST_HOLD"

_held = False  # once per twin process: a restarted twin holds again


def hold(query: object) -> None:
    """Wait here if a test asked to hold ``query`` and this twin has not yet."""
    global _held
    spec = os.environ.get(ENV)
    if _held or not spec or "=" not in spec:
        return
    name, path = spec.split("=", 1)
    if query != name:
        return
    _held = True
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            sock.sendall(f"{os.getpid()}\n".encode())
            while sock.recv(64):
                pass
    except OSError:
        pass  # the test is gone: nothing to wait for

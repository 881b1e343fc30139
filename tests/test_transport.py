"""Stdio and TCP transports, and malformed messages from a client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from raw_lsp import initialize, message, read_response

EXIT = message(method="exit")


def test_malformed_messages_get_errors_and_the_server_keeps_serving(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "twinls", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.stdin.write(b"Content-Length: 9\r\n\r\n{not json")
        proc.stdin.write(initialize(str(tmp_path)))
        proc.stdin.flush()
        assert "capabilities" in read_response(proc.stdout, 1)["result"]
        proc.stdin.write(message(method="initialized", params={}))
        # Wrong params for a known method, then an unknown method: both answered with errors.
        proc.stdin.write(message(id=2, method="textDocument/hover", params={"bogus": 1}))
        proc.stdin.write(message(id=3, method="twinls/noSuchMethod", params={}))
        proc.stdin.write(
            message(
                id=4,
                method="workspace/executeCommand",
                params={"command": "twinls.status", "arguments": []},
            )
        )
        proc.stdin.flush()
        assert "error" in read_response(proc.stdout, 2)
        assert read_response(proc.stdout, 3)["error"]["code"] == -32601
        status = read_response(proc.stdout, 4)["result"]
        assert status["pool"]["live"] == 1
        proc.stdin.write(message(id=5, method="shutdown") + EXIT)
        proc.stdin.flush()
        assert proc.wait(30) == 0
    finally:
        proc.kill()


def test_tcp_serves_on_loopback(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token_file = tmp_path / "token"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twinls",
            "serve",
            "--tcp",
            f"127.0.0.1:{port}",
            "--token-file",
            str(token_file),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except ConnectionRefusedError:
                if proc.poll() is not None:
                    raise AssertionError("server exited") from None
                import time

                time.sleep(0.05)
        token = token_file.read_text().strip()  # written before the port opens
        init = json.loads(initialize(str(tmp_path)).split(b"\r\n\r\n", 1)[1])
        init["params"]["initializationOptions"]["token"] = token
        init = message(**init)
        with conn, conn.makefile("rwb") as stream:
            stream.write(init)
            stream.write(message(method="initialized", params={}))
            stream.write(
                message(
                    id=2,
                    method="workspace/executeCommand",
                    params={"command": "twinls.status", "arguments": []},
                )
            )
            stream.flush()
            assert "capabilities" in read_response(stream, 1)["result"]
            assert read_response(stream, 2)["result"]["server"]["roots"] == [str(tmp_path)]
            stream.write(message(id=3, method="shutdown") + EXIT)
            stream.flush()
    finally:
        proc.kill()
        proc.wait(10)

"""TCP and Unix-socket transports: only the editor that holds the token gets a session.

The attacker is another local user (``setpriv --reuid nobody``, when the tests run
as root; else the same user without the token) who can reach the port but not the
token file. Everything it tries must get no byte back, run nothing, and leave
the editor's session exactly as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from raw_lsp import message, read_response

MARKER_TEST = """\
import os


def test_writes_marker():
    with open(os.environ["TWINLS_MARKER"], "a") as f:
        f.write("ran\\n")
"""

#: Runs as the attacker: tries each way in and prints what it got back, as JSON.
ATTACKER = r"""
import json, socket, sys
port, token_file, test_uri = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def frame(obj):
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body

RUN = {"jsonrpc": "2.0", "id": 1, "method": "workspace/executeCommand",
       "params": {"command": "twinls.runFile", "arguments": [{"uri": test_uri}]}}
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": None, "rootUri": None, "capabilities": {},
                   "initializationOptions": {"token": "guessed"}}}
body = json.dumps(RUN).encode()
HTTP = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body)
attempts = {
    "run without initialize": frame(RUN),
    "initialize with a wrong token": frame(INIT) + frame(RUN),
    "initialize without a token": frame({**INIT, "params": {**INIT["params"],
                                         "initializationOptions": {}}}) + frame(RUN),
    "browser-shaped POST": HTTP,
    "port scan": b"",
}
out = {}
try:
    open(token_file).read()
    out["token file"] = "readable"
except OSError as exc:
    out["token file"] = type(exc).__name__
for name, data in attempts.items():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    got = b""
    try:
        if data:
            s.sendall(data)
        else:
            s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        got += b"<still open after 30 s>"
    out[name] = got.decode("latin-1")
    s.close()
print(json.dumps(out))
"""


def attacker_command() -> list[str]:
    """How to run the attacker as another user, if this machine lets us."""
    setpriv = shutil.which("setpriv")
    if os.getuid() == 0 and setpriv:
        return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3"]
    return [sys.executable]


class Server:
    """``twinls serve ...`` with its stderr read line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "twinls", "serve", *args],
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self.listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            if "listening on" in line:
                self.listening.set()
        self.listening.set()

    def port(self) -> int:
        assert self.listening.wait(60), "the server never said where it listens"
        line = next((x for x in self.lines if "listening on" in x), None)
        assert line is not None, "".join(self.lines)
        return int(line.split("listening on ", 1)[1].split()[0].rpartition(":")[2])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def initialize(root: Path, token: str | None, msg_id: int = 1) -> bytes:
    opts = {"pool": 1, **({"token": token} if token is not None else {})}
    return message(
        id=msg_id,
        method="initialize",
        params={
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "capabilities": {},
            "initializationOptions": opts,
        },
    )


def status(stream, msg_id: int) -> dict:
    stream.write(
        message(
            id=msg_id,
            method="workspace/executeCommand",
            params={"command": "twinls.status", "arguments": []},
        )
    )
    stream.flush()
    return read_response(stream, msg_id)["result"]


def editor_session(port: int, root: Path, token: str | None):
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    stream = conn.makefile("rwb")
    stream.write(initialize(root, token))
    stream.write(message(method="initialized", params={}))
    stream.flush()
    return conn, stream


def closed_without_reply(conn: socket.socket) -> bool:
    try:
        return conn.recv(65536) == b""
    except ConnectionResetError:
        return True


def test_tcp_needs_the_token_and_an_attacker_gets_nothing(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "test_marker.py").write_text(MARKER_TEST)
    marker = tmp_path / "marker.txt"
    token_file = tmp_path / "token"
    server = Server(
        "--tcp", "127.0.0.1:0", "--token-file", str(token_file), env={"TWINLS_MARKER": str(marker)}
    )
    try:
        port = server.port()
        mode = stat.S_IMODE(os.stat(token_file).st_mode)
        assert mode == 0o600, oct(mode)
        token = token_file.read_text().strip()
        assert len(token) >= 32
        test_uri = (root / "test_marker.py").as_uri()

        # Before the editor connects: a stranger's run goes nowhere and takes no session.
        early = subprocess.run(
            [*attacker_command(), "-I", "-c", ATTACKER, str(port), str(token_file), test_uri],
            capture_output=True,
            timeout=120,
        )
        assert early.returncode == 0, early.stderr.decode()

        conn, stream = editor_session(port, root, token)
        assert "capabilities" in read_response(stream, 1)["result"]
        before = status(stream, 2)
        assert before["pool"]["live"] == 1

        # While the editor works: every attempt is closed with no reply.
        attack = subprocess.run(
            [*attacker_command(), "-I", "-c", ATTACKER, str(port), str(token_file), test_uri],
            capture_output=True,
            timeout=120,
        )
        assert attack.returncode == 0, attack.stderr.decode()
        for result in (json.loads(early.stdout), json.loads(attack.stdout)):
            if attacker_command()[0] != sys.executable:
                assert result.pop("token file") == "PermissionError"
            else:
                result.pop("token file")
            assert result == {
                "run without initialize": "",
                "initialize with a wrong token": "",
                "initialize without a token": "",
                "browser-shaped POST": "",
                "port scan": "",
            }

        # Even the right token cannot open a second session.
        second = socket.create_connection(("127.0.0.1", port), timeout=60)
        second.sendall(initialize(root, token))
        assert closed_without_reply(second)
        second.close()

        # The editor's session is untouched: same twin, same state, nothing ran.
        after = status(stream, 3)
        assert after["twins"][0]["pid"] == before["twins"][0]["pid"]
        assert after["server"]["pid"] == before["server"]["pid"]
        # (The interactive twin starts after the first: it may have come up meanwhile.)
        assert {**after["pool"], "lanes": 0} == {**before["pool"], "lanes": 0}
        assert not before["lanes"] or after["lanes"][0]["pid"] == before["lanes"][0]["pid"]
        assert not marker.exists()
        assert "refused a connection" in "".join(server.lines)

        # A repeated initialize on the session is an error, not a second pool.
        stream.write(initialize(root, None, msg_id=4))
        stream.flush()
        assert read_response(stream, 4)["error"]["code"] == -32600
        assert status(stream, 5)["twins"][0]["pid"] == before["twins"][0]["pid"]

        stream.write(message(id=6, method="shutdown") + message(method="exit"))
        stream.flush()
        assert server.proc.wait(30) == 0
        assert not token_file.exists()  # the token leaves with the server
        conn.close()
    finally:
        server.stop()


def test_tcp_token_from_the_environment(tmp_path):
    server = Server("--tcp", "127.0.0.1:0", env={"TWINLS_TOKEN": "s3cret-" * 6})
    try:
        port = server.port()
        wrong = socket.create_connection(("127.0.0.1", port), timeout=60)
        wrong.sendall(initialize(tmp_path, "s3cret-"))
        assert closed_without_reply(wrong)
        conn, stream = editor_session(port, tmp_path, "s3cret-" * 6)
        assert "capabilities" in read_response(stream, 1)["result"]
        st = status(stream, 2)
        assert st["server"]["roots"] == [str(tmp_path)]
        stream.close()
        conn.close()
        assert server.proc.wait(30) == 0  # the session's connection ended: so does the server
    finally:
        server.stop()


def test_non_loopback_needs_a_flag_and_gets_a_warning(tmp_path):
    refused = subprocess.run(
        [sys.executable, "-m", "twinls", "serve", "--tcp", "0.0.0.0:0"],
        capture_output=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert b"refusing to listen on 0.0.0.0" in refused.stderr
    server = Server("--tcp", "0.0.0.0:0", "--allow-remote", "--token-file", str(tmp_path / "t"))
    try:
        server.port()
        assert "WARNING: 0.0.0.0 is reachable beyond this machine" in "".join(server.lines)
    finally:
        server.stop()


@pytest.mark.skipif(os.getuid() != 0 or not shutil.which("setpriv"), reason="needs root")
def test_unix_socket_is_ours_alone(tmp_path):
    path = tmp_path / "twinls.sock"
    tmp_path.chmod(0o755)  # let the other user reach the socket: only its mode stops them
    server = Server("--socket", str(path))
    try:
        server.listening.wait(60)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        other = subprocess.run(
            [
                *attacker_command(),
                "-I",
                "-c",
                "import socket,sys\n"
                "s=socket.socket(socket.AF_UNIX)\n"
                "try:\n s.connect(sys.argv[1]); print('connected')\n"
                "except OSError as e: print(type(e).__name__)",
                str(path),
            ],
            capture_output=True,
            timeout=60,
        )
        assert other.stdout.strip() == b"PermissionError"
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(str(path))
        stream = conn.makefile("rwb")
        stream.write(initialize(tmp_path, None))
        stream.write(message(method="initialized", params={}))
        stream.flush()
        assert "capabilities" in read_response(stream, 1)["result"]
        assert status(stream, 2)["pool"]["live"] == 1
        stream.write(message(id=3, method="shutdown") + message(method="exit"))
        stream.flush()
        assert server.proc.wait(30) == 0
        assert not path.exists()
        conn.close()
    finally:
        server.stop()

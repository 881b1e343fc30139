"""Test helpers for twin hosts: a git workspace and its checkout elsewhere, and a real sshd.

The sshd is Debian's (scripts/setup-ssh.sh installs openssh-server), run as a
non-daemon child on a free port of 127.0.0.1 with its own config, host key and
client key in a temp folder; the client side is an ssh config file passed as
execnet's ``ssh_config`` (``ssh -F``), so ``~/.ssh`` is never read or written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PY312 = "/root/.pyenv/versions/3.12.1/bin/python"
PY313 = "/root/.pyenv/versions/3.13.0/bin/python"
SSHD = "/usr/sbin/sshd"


def python_or_skip(path: str) -> str:
    if not os.access(path, os.X_OK):
        pytest.skip(f"no {path} (this machine's pyenv CPythons)")
    return path


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"},
    ).stdout  # fmt: skip


def make_repo(root: Path, files: dict[str, str]) -> None:
    """A git repo at ``root`` with ``files`` committed."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")


def checkout(repo: Path, where: Path) -> Path:
    """The host's checkout: a clone at the same commit (nothing of the local edits)."""
    subprocess.run(["git", "clone", "-q", str(repo), str(where)], check=True)
    return where


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def sshd(tmp: Path) -> Iterator[tuple[str, str]]:
    """A throwaway sshd on 127.0.0.1: yields (``user@host -p PORT``, client ssh config path)."""
    if not os.access(SSHD, os.X_OK) or shutil.which("ssh") is None:
        pytest.skip("no sshd/ssh: run scripts/setup-ssh.sh")
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "user_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / name)], check=True
        )
    shutil.copy(tmp / "user_key.pub", tmp / "authorized_keys")
    os.chmod(tmp / "authorized_keys", 0o600)
    port = free_port()
    (tmp / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp / 'host_key'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\nPidFile {tmp / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nLogLevel ERROR\n"
    )
    user = os.environ.get("USER") or "root"
    (tmp / "ssh_config").write_text(
        f"Host 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {tmp / 'user_key'}\n"
        f"  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
        f"  UserKnownHostsFile {tmp / 'known_hosts'}\n  BatchMode yes\n  LogLevel ERROR\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation folder
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")])
    try:
        for _ in range(200):  # until it listens (an event: the port accepts)
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited with {proc.returncode}")
            time.sleep(0.05)
        yield f"{user}@127.0.0.1 -p {port}", str(tmp / "ssh_config")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

"""Real processes for fault tests: a Redis server we may restart, `nurture worker`s we may kill."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


class RedisServer:
    """redis-server on a free loopback port, with an append-only file so a restart keeps queues.

    Production Redis for Dramatiq persists its data; a restart without it loses
    queued messages, which the scheduler finds again only after its claim lease.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Shut down as an operator would: SIGTERM, Redis writes its file and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def restart(self, down_for: float) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


class Worker:
    """`nurture worker` (its Dramatiq processes and ticker) started with these settings."""

    def __init__(self, env: dict[str, str], log: Path, *, threads: int) -> None:
        self.env = env
        self.log = log
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nurture.cli",
                    "worker",
                    "--processes",
                    "1",
                    "--threads",
                    str(self.threads),
                ],
                env={**os.environ, **self.env},
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the whole tree at once, as a crashed machine would stop it."""
        assert self.process is not None
        tree = [self.process.pid, *descendants(self.process.pid)]
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        for pid in tree:
            _reap_gone(pid)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        tree = [self.process.pid, *descendants(self.process.pid)]
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=40)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process = None


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (the Dramatiq child runs in its own session)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; fields follow the last ')'.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _reap_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until a killed process (not our child, so not waitable) has left /proc."""
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat")
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return  # a zombie waiting for its (also killed) parent: it runs no more
        except OSError:
            return
        time.sleep(0.05)

"""A real HTTP server (Granian in a subprocess) and headless Debian Chromium for page tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server:
    """A Granian server forked by the zygote: not our child, so it is watched through /proc."""

    def __init__(
        self, zygote: subprocess.Popen[str], argv: list[str], env: dict[str, str], log: Path
    ) -> None:
        assert zygote.stdin is not None
        assert zygote.stdout is not None
        zygote.stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log)}) + "\n")
        zygote.stdin.flush()
        answer = zygote.stdout.readline()
        if not answer:
            raise RuntimeError(f"the server zygote exited with code {zygote.wait()}")
        self.pid: int = json.loads(answer)["pid"]
        self.zygote_pid = zygote.pid

    def running(self) -> bool:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):  # gone, or being reaped as we read
            return False
        # After the command, "(name)": state, parent. A zombie has ended; a process whose
        # parent is not the zygote is not ours (its id was reused after ours was reaped).
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        return state != "Z" and int(parent) == self.zygote_pid

    def stop(self, timeout: float) -> None:
        self._signal(signal.SIGTERM)
        if not self._gone_within(timeout):
            self._signal(signal.SIGKILL)
            self._gone_within(timeout)

    def _signal(self, signum: int) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):  # it ended after we looked
                os.kill(self.pid, signum)

    def _gone_within(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


@pytest.fixture
def live_server(db_url: str, tmp_path: Path, server_zygote: subprocess.Popen[str]) -> Iterator[str]:
    """The app served over HTTP on a free loopback port; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": db_url,
        "NURTURE_DATA_DIR": str(tmp_path / "data"),
        "NURTURE_SECRET_KEY": "browser-test-secret-" + "x" * 40,
        "NURTURE_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = tmp_path / "server.log"
    log.write_bytes(b"")
    argv = [
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "nurture.web.app:create_app",
    ]
    server = _Server(server_zygote, argv, env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server)
        yield base
    finally:
        server.stop(timeout=10)
    # A page that looked fine may still have cost a 500 somewhere behind it (an htmx
    # fragment, an image, a fetch): the server's own log is where that shows.
    written = log.read_text(errors="replace")
    if "Traceback (most recent call last)" in written:
        pytest.fail(f"the server logged a traceback while serving this test:\n{written[-4000:]}")


def _wait_healthy(base: str, server: _Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if not server.running():
            raise RuntimeError("the server exited before answering /healthz (see server.log)")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz within {STARTUP_SECONDS} seconds")

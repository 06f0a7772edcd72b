"""A real HTTP server (Granian in a subprocess) and headless Debian Chromium for page tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    """The app served over HTTP on a free loopback port; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": db_url,
        "NURTURE_DATA_DIR": str(tmp_path / "data"),
        "NURTURE_SECRET_KEY": "browser-test-secret-" + "x" * 40,
        "NURTURE_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "nurture.web.app:create_app",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    # A page that looked fine may still have cost a 500 somewhere behind it (an htmx
    # fragment, an image, a fetch): the server's own log is where that shows.
    written = (tmp_path / "server.log").read_text(errors="replace")
    if "Traceback (most recent call last)" in written:
        pytest.fail(f"the server logged a traceback while serving this test:\n{written[-4000:]}")


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz within {STARTUP_SECONDS} seconds")

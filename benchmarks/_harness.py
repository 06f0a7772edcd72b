"""What every benchmark needs: its own servers on loopback, a fresh database, a free port."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Services:
    pg_admin_url: str
    redis_url: str


@contextmanager
def services() -> Iterator[Services]:
    """PostgreSQL and Redis started for this run in a temporary folder, stopped afterwards."""
    folder = Path(f"/tmp/nurture-bench-{os.getpid()}")
    script = str(REPO / "scripts" / "services.sh")
    out = subprocess.run([script, "start", str(folder)], check=True, capture_output=True, text=True)
    values = dict(
        line.removeprefix("export ").split("=", 1)
        for line in out.stdout.splitlines()
        if "=" in line
    )
    try:
        yield Services(values["NURTURE_TEST_PG_URL"], values["NURTURE_TEST_REDIS_URL"])
    finally:
        subprocess.run([script, "stop", str(folder)], check=False, capture_output=True)


def fresh_database(admin_url: str, prefix: str) -> str:
    """Create an empty database on the server and return its URL."""
    name = f"{prefix}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """`nurture serve` in a subprocess; yields its base URL once /healthz answers."""
    port = free_port()
    argv = ["-m", "nurture.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with _serving([*argv, "--workers", str(workers)], env, port, "/healthz", 200) as base:
        yield base


@contextmanager
def minimal_server() -> Iterator[str]:
    """benchmarks/minimal_app.py (one Granian process); yields its base URL once it answers."""
    port = free_port()
    argv = [str(REPO / "benchmarks" / "minimal_app.py"), "--port", str(port)]
    with _serving(argv, {"PYTHONPATH": str(REPO)}, port, "/t/bench/ready", 302) as base:
        yield base


def _answers(port: int, path: str, status: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == status
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def _serving(
    argv: list[str], env: dict[str, str], port: int, probe: str, status: int
) -> Iterator[str]:
    full_env = {**os.environ, **env}
    log = tempfile.NamedTemporaryFile(prefix="nurture-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, *argv],
        env=full_env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe: nobody reads a pipe while the server runs, and a
        # full one would stall the server on its next log line.
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(port, probe, status):
            if process.poll() is not None or time.monotonic() > deadline:
                error = Path(log.name).read_text(errors="replace")
                raise RuntimeError(f"server did not start:\n{error[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        Path(log.name).unlink(missing_ok=True)

"""`nurture serve` and `nurture worker` as real processes, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from nurture.config import Settings
from tests.test_workers import processed_at, store_events
from tests.test_workers_redis import redis_url_with_namespace
from workers import actors, broker

NURTURE = str(Path(sys.executable).with_name("nurture"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    env.update(NURTURE_DATA_DIR=str(tmp_path), NURTURE_TICK_SECONDS="1", **values)
    return env


@contextmanager
def started(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `nurture <args>`; the block must stop it, or it is killed at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen([NURTURE, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; output:\n{log.read_text()}")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_runs_web_workers_and_scheduler_then_stops_on_sigterm(
    db_url: str, tmp_path: Path
) -> None:
    lost = store_events(db_url, received_ago=timedelta(minutes=10))
    port = free_port()
    log = tmp_path / "serve.log"
    env = environment(tmp_path, NURTURE_DATABASE_URL=db_url)

    with started(["serve", "--port", str(port)], env, log) as process:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(f"{base}/healthz"), seconds=30, what="/healthz", log=log)
        assert httpx.get(f"{base}/readyz", timeout=5).json()["status"] == "ready"
        # Nobody enqueued these events: the embedded scheduler tick finds them.
        wait_for(
            lambda: all(processed_at(db_url, lost).values()),
            seconds=30,
            what="the tick to process lost events",
            log=log,
        )
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)

    output = log.read_text()
    assert code == 0, output
    assert f"Nurture at http://127.0.0.1:{port}/" in output
    assert not answers(f"{base}/healthz")


def test_serve_refuses_several_web_processes_without_redis(tmp_path: Path) -> None:
    result = subprocess.run(
        [NURTURE, "serve", "--workers", "2"],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "--workers above 1 needs NURTURE_REDIS_URL" in result.stderr


def test_worker_needs_redis(tmp_path: Path) -> None:
    result = subprocess.run(
        [NURTURE, "worker"],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "`nurture worker` needs NURTURE_REDIS_URL" in result.stderr


@pytest.mark.redis
def test_worker_processes_messages_from_redis_then_stops_on_sigterm(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    redis_url = redis_url_with_namespace()
    sender = broker.install(broker.build_broker(replace(settings, redis_url=redis_url)))
    assert isinstance(sender, RedisBroker)
    ids = store_events(db_url, count=2)
    log = tmp_path / "worker.log"
    env = environment(tmp_path, NURTURE_DATABASE_URL=db_url, NURTURE_REDIS_URL=redis_url)
    try:
        with started(["worker", "--processes", "1", "--threads", "2"], env, log) as process:
            actors.process_events.send(ids)
            wait_for(
                lambda: all(processed_at(db_url, ids).values()),
                seconds=60,
                what="the worker to process the message",
                log=log,
            )
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
        assert code == 0, log.read_text()
    finally:
        for key in sender.client.scan_iter(f"{sender.namespace}:*"):
            sender.client.delete(key)
        sender.close()
        broker.install(StubBroker())


@pytest.mark.redis
def test_serve_with_redis_runs_several_web_processes_and_no_workers(
    db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = environment(
        tmp_path, NURTURE_DATABASE_URL=db_url, NURTURE_REDIS_URL=redis_url_with_namespace()
    )

    with started(["serve", "--port", str(port), "--workers", "2"], env, log) as process:
        wait_for(
            lambda: answers(f"http://127.0.0.1:{port}/readyz"), seconds=30, what="/readyz", log=log
        )
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)

    output = log.read_text()
    assert code == 0, output
    assert "2 web process(es) enqueueing to Redis" in output
    assert "worker-2" in output  # Granian's second web process
    assert "dramatiq.worker" not in output  # no Dramatiq workers in the web processes

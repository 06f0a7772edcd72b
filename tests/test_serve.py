"""`nurture serve` and `nurture worker` as real processes, stopped with signals.

The stop tests signal at chosen moments of start-up and check three things: the
process ends within NURTURE_SHUTDOWN_SECONDS, with 0 when the stop was clean,
and none of the processes it started (looked up in /proc before the signal)
is left running.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from nurture.config import Settings
from tests.proc_tree import Proc, descendants, still_alive
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
    with launched(args, env, log) as run:
        yield run.process


@dataclass
class Launched:
    """A `nurture` process under test and every descendant seen so far."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    seen: set[Proc] = field(default_factory=set)

    def tree(self) -> set[Proc]:
        """Its living descendants now (also remembered, to clean up after a failure)."""
        now = descendants(self.process.pid)
        self.seen |= now
        return now

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
        # Polled often: the start-up moments the tests aim at last a fraction of a second.
        wait_for(condition, seconds=seconds, what=what, log=self.log, every=0.02)

    def wait_for_log(self, pattern: str, count: int = 1) -> list[str]:
        """Wait until `pattern` (a regular expression) matched `count` times; the matches."""
        found: list[str] = []

        def enough() -> bool:
            found[:] = re.findall(pattern, self.output())
            return len(found) >= count

        self.wait_for(enough, f"{count} x {pattern!r} in the output")
        return found


@contextmanager
def launched(
    args: list[str], env: dict[str, str], log: Path, port: int = 0, *, own_group: bool = False
) -> Iterator[Launched]:
    """Run `nurture <args>` (`own_group`: in a process group of its own, like a shell's job).

    Whatever is still running at the end is killed.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            [NURTURE, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
        run = Launched(process, log, port)
        try:
            yield run
        finally:
            if process.poll() is None:
                run.tree()
                process.kill()
                process.wait()
            for proc in still_alive(run.seen):
                with suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)


def wait_for(
    condition: Callable[[], bool], *, seconds: float, what: str, log: Path, every: float = 0.2
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
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


# NURTURE_SHUTDOWN_SECONDS in the clean-stop tests: the default. A clean stop
# usually takes a few seconds, but one asked during start-up first waits for the
# start-up to end (Dramatiq's main process holds signals until its worker
# processes have booted), and on a loaded 2-core machine booting took 7 s: with
# 10 s, start-up plus stop ran over and the stop was (rightly) killed.
BOUND = 30
# What a loaded machine may add to the bound before the process is reaped.
SLACK = 5
WEB_PROCESSES = 3
WORKER_PROCESSES = 2
GRANIAN_KILLED = "refused to gracefully stop"
DRAMATIQ_READY = "Worker process is ready for action"
# What to do right after the signal (resume a paused process), or nothing.
AfterSignal = Callable[[], None]


@pytest.fixture
def pg_url(database_urls: dict[str, str]) -> str:
    """Several web or worker processes need PostgreSQL: SQLite wants one writer process."""
    return database_urls["postgresql"]


def production_env(tmp_path: Path, pg_url: str, bound: int) -> dict[str, str]:
    return environment(
        tmp_path,
        NURTURE_DATABASE_URL=pg_url,
        NURTURE_REDIS_URL=redis_url_with_namespace(),
        NURTURE_SHUTDOWN_SECONDS=str(bound),
    )


def serve(
    tmp_path: Path, pg_url: str, bound: int = BOUND, *, own_group: bool = False
) -> AbstractContextManager[Launched]:
    port = free_port()
    args = ["serve", "--port", str(port), "--workers", str(WEB_PROCESSES)]
    env = production_env(tmp_path, pg_url, bound)
    return launched(args, env, tmp_path / "serve.log", port, own_group=own_group)


def work(
    tmp_path: Path, pg_url: str, bound: int = BOUND, *, own_group: bool = False
) -> AbstractContextManager[Launched]:
    args = ["worker", "--processes", str(WORKER_PROCESSES), "--threads", "1"]
    env = production_env(tmp_path, pg_url, bound)
    return launched(args, env, tmp_path / "worker.log", own_group=own_group)


def stop(
    run: Launched, signum: int, after_signal: AfterSignal, bound: int, *, group: bool = False
) -> set[Proc]:
    """Send `signum` (to the process group too) and wait (at most the bound) for the end.

    Returns the descendants left running.
    """
    before = run.tree()
    assert before, f"no child process started\n{run.output()}"
    if group:
        os.killpg(run.process.pid, signum)
    else:
        run.process.send_signal(signum)
    after_signal()
    run.process.wait(timeout=bound + SLACK)
    return still_alive(before)


def readyz(run: Launched) -> bool:
    return answers(f"http://127.0.0.1:{run.port}/readyz")


def started_web_processes(run: Launched) -> int:
    return len(re.findall(r"Started worker-\d", run.output()))


# Moments of `nurture serve` start-up: each waits for its moment, then says what
# to do right after the signal.
def before_any_web_process_answers(run: Launched) -> AfterSignal:
    run.wait_for(lambda: bool(run.tree()), "the first web process")
    assert started_web_processes(run) == 0, run.output()
    return lambda: None


def while_the_last_web_process_starts(run: Launched) -> AfterSignal:
    # The flake this guards against: a web process still starting when the stop
    # comes. Pausing it until the signal is sent makes that moment certain.
    last = int(run.wait_for_log(rf"Spawning worker-{WEB_PROCESSES} with PID: (\d+)")[0])
    os.kill(last, signal.SIGSTOP)
    run.wait_for(lambda: readyz(run), "the first web processes to answer")
    assert started_web_processes(run) < WEB_PROCESSES, run.output()
    return lambda: os.kill(last, signal.SIGCONT)


def after_all_web_processes_answer(run: Launched) -> AfterSignal:
    run.wait_for(lambda: started_web_processes(run) == WEB_PROCESSES, "every web process")
    run.wait_for(lambda: readyz(run), "/readyz")
    return lambda: None


@pytest.mark.redis
@pytest.mark.parametrize(
    ("moment", "signum"),
    [
        (before_any_web_process_answers, signal.SIGTERM),
        (while_the_last_web_process_starts, signal.SIGTERM),
        (after_all_web_processes_answer, signal.SIGTERM),
        (while_the_last_web_process_starts, signal.SIGINT),
    ],
    ids=[
        "SIGTERM-before-any-answers",
        "SIGTERM-while-last-starts",
        "SIGTERM-all-answer",
        "SIGINT-while-last-starts",
    ],
)
def test_serve_with_several_web_processes_stops_cleanly_at_any_moment(
    moment: Callable[[Launched], AfterSignal], signum: int, pg_url: str, tmp_path: Path
) -> None:
    with serve(tmp_path, pg_url) as run:
        left = stop(run, signum, moment(run), BOUND)

    assert run.process.returncode == 0, run.output()
    assert not left, f"still running: {left}\n{run.output()}"


# Moments of `nurture worker` start-up.
def dramatiq_workers(run: Launched) -> list[Proc]:
    """Dramatiq's worker processes (children of its main process), oldest first."""
    procs = run.tree()
    return sorted((p for p in procs if p.ppid != run.process.pid), key=lambda p: (p.started, p.pid))


def before_dramatiq_starts(run: Launched) -> AfterSignal:
    run.wait_for(lambda: bool(run.tree()), "the dramatiq process")
    assert DRAMATIQ_READY not in run.output()
    return lambda: None


def while_the_last_worker_process_starts(run: Launched) -> AfterSignal:
    run.wait_for(lambda: len(dramatiq_workers(run)) == WORKER_PROCESSES, "worker processes")
    last = dramatiq_workers(run)[-1]
    os.kill(last.pid, signal.SIGSTOP)
    # Dramatiq's main process says so only once every worker process booted.
    assert "is booting up" not in run.output(), run.output()
    return lambda: os.kill(last.pid, signal.SIGCONT)


def after_all_worker_processes_are_ready(run: Launched) -> AfterSignal:
    run.wait_for_log(DRAMATIQ_READY, count=WORKER_PROCESSES)
    return lambda: None


@pytest.mark.redis
@pytest.mark.parametrize(
    ("moment", "signum"),
    [
        (before_dramatiq_starts, signal.SIGTERM),
        (while_the_last_worker_process_starts, signal.SIGTERM),
        (after_all_worker_processes_are_ready, signal.SIGTERM),
        (while_the_last_worker_process_starts, signal.SIGINT),
    ],
    ids=[
        "SIGTERM-before-dramatiq",
        "SIGTERM-while-last-starts",
        "SIGTERM-all-ready",
        "SIGINT-while-last-starts",
    ],
)
def test_worker_stops_cleanly_at_any_moment(
    moment: Callable[[Launched], AfterSignal], signum: int, pg_url: str, tmp_path: Path
) -> None:
    with work(tmp_path, pg_url) as run:
        left = stop(run, signum, moment(run), BOUND)

    assert run.process.returncode == 0, run.output()
    assert not left, f"still running: {left}\n{run.output()}"


@pytest.mark.redis
def test_serve_stopped_before_granian_starts_exits_cleanly(pg_url: str, tmp_path: Path) -> None:
    with serve(tmp_path, pg_url) as run:
        run.wait_for_log("Nurture at")
        run.process.send_signal(signal.SIGTERM)
        code = run.process.wait(timeout=BOUND + SLACK)
        left = run.tree()

    assert code == 0, run.output()
    assert not left


@pytest.mark.redis
def test_ctrl_c_in_a_terminal_stops_serve_cleanly(pg_url: str, tmp_path: Path) -> None:
    # A terminal sends SIGINT to the whole foreground process group at once.
    with serve(tmp_path, pg_url, own_group=True) as run:
        after_all_web_processes_answer(run)
        left = stop(run, signal.SIGINT, lambda: None, BOUND, group=True)

    assert run.process.returncode == 0, run.output()
    assert not left, f"still running: {left}\n{run.output()}"


@pytest.mark.redis
def test_ctrl_c_in_a_terminal_stops_worker_cleanly(pg_url: str, tmp_path: Path) -> None:
    with work(tmp_path, pg_url, own_group=True) as run:
        after_all_worker_processes_are_ready(run)
        left = stop(run, signal.SIGINT, lambda: None, BOUND, group=True)

    assert run.process.returncode == 0, run.output()
    assert not left, f"still running: {left}\n{run.output()}"


@pytest.mark.redis
def test_serve_kills_a_web_process_that_does_not_stop_within_the_bound(
    pg_url: str, tmp_path: Path
) -> None:
    with serve(tmp_path, pg_url, bound=2) as run:
        after_all_web_processes_answer(run)
        stuck = int(run.wait_for_log(r"Spawning worker-2 with PID: (\d+)")[0])
        os.kill(stuck, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM
        left = stop(run, signal.SIGTERM, lambda: None, bound=2)

    assert run.process.returncode == 1, run.output()  # unclean: something was killed
    assert GRANIAN_KILLED in run.output()
    assert not left, f"still running: {left}\n{run.output()}"


@pytest.mark.redis
def test_worker_kills_dramatiq_when_it_does_not_stop_within_the_bound(
    pg_url: str, tmp_path: Path
) -> None:
    with work(tmp_path, pg_url, bound=2) as run:
        after_all_worker_processes_are_ready(run)
        os.kill(dramatiq_workers(run)[0].pid, signal.SIGSTOP)
        left = stop(run, signal.SIGTERM, lambda: None, bound=2)

    assert run.process.returncode == 1, run.output()
    assert not left, f"still running: {left}\n{run.output()}"


def gone_after_sigkill(run: Launched) -> set[Proc]:
    """SIGKILL the process under test; its descendants still running a few seconds later."""
    before = run.tree()
    assert before, f"no child process started\n{run.output()}"
    run.process.kill()
    run.process.wait()
    deadline = time.monotonic() + SLACK
    while still_alive(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return still_alive(before)


@pytest.mark.redis
@pytest.mark.parametrize("moment", [before_any_web_process_answers, after_all_web_processes_answer])
def test_web_processes_die_with_a_killed_serve(
    moment: Callable[[Launched], AfterSignal], pg_url: str, tmp_path: Path
) -> None:
    with serve(tmp_path, pg_url) as run:
        moment(run)
        left = gone_after_sigkill(run)

    assert not left, f"orphans: {left}\n{run.output()}"


@pytest.mark.redis
@pytest.mark.parametrize("moment", [before_dramatiq_starts, after_all_worker_processes_are_ready])
def test_dramatiq_processes_die_with_a_killed_worker(
    moment: Callable[[Launched], AfterSignal], pg_url: str, tmp_path: Path
) -> None:
    with work(tmp_path, pg_url) as run:
        moment(run)
        left = gone_after_sigkill(run)

    assert not left, f"orphans: {left}\n{run.output()}"

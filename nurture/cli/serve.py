"""`nurture serve` (the web app, plus workers when embedded) and `nurture worker`.

Both stop within NURTURE_SHUTDOWN_SECONDS of SIGTERM or SIGINT, whenever it
comes, and exit 0 when everything stopped by itself in that time. Granian
bounds the web processes (`workers_kill_timeout`), `nurture/cli/supervisor.py`
bounds the `dramatiq` command, and Dramatiq's own shutdown timeout gives the
messages in progress their share. Every child process dies with its parent
(workers/lifeline.py).
"""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import click
from granian import Granian
from granian.constants import Interfaces

from nurture.cli.root import load_settings, main
from nurture.cli.supervisor import KILLED, STOP_SIGNALS, Supervisor
from workers import broker, context
from workers.runtime import message_grace_ms
from workers.ticker import Ticker

APP_FACTORY = "nurture.cli.web_process:create_app"
# Dramatiq calls this in every worker process to install the Redis broker.
WORKER_SETUP = "workers.runtime:install_for_worker"


def _leave(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    "processes",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Web processes; more than one needs NURTURE_REDIS_URL.",
)
def serve(host: str, port: int, processes: int) -> None:
    """Serve the web app; without NURTURE_REDIS_URL also run the workers and scheduler."""
    # Until Granian installs its own handlers nothing runs yet: a stop means leave now.
    for signum in STOP_SIGNALS:
        signal.signal(signum, _leave)
    settings = load_settings()
    if settings.embedded_broker and processes > 1:
        # The in-process queue and its worker threads belong to one process,
        # and SQLite wants a single writer process.
        raise click.UsageError(
            "--workers above 1 needs NURTURE_REDIS_URL: the embedded runtime "
            "(in-process queue, worker threads, scheduler) runs in one web process"
        )
    if settings.embedded_broker:
        mode = "embedded runtime: in-process queue, worker threads and scheduler"
    else:
        mode = f"{processes} web process(es) enqueueing to Redis; run `nurture worker` too"
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"Nurture at http://{shown_host}:{port}/ ({mode})")
    # Imported here, not for every command: it loads the whole web app (which the
    # forked web processes then find loaded).
    from nurture.cli import web_process

    server = Granian(
        APP_FACTORY,
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=processes,
        # Past this, Granian SIGKILLs a web process that has not stopped.
        workers_kill_timeout=settings.shutdown_seconds,
    )
    server.on_startup(web_process.prepare_main_process)
    server.serve()
    if not web_process.all_finished():  # one was killed before its shutdown ended
        sys.exit(KILLED)


@main.command()
@click.option(
    "--processes", default=2, show_default=True, type=click.IntRange(min=1), help="Processes."
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker threads per process.",
)
def worker(processes: int, threads: int) -> None:
    """Run Dramatiq workers against Redis, plus the scheduler tick."""
    supervisor = Supervisor().install()
    settings = load_settings()
    if settings.embedded_broker:
        raise click.ClickException(
            "`nurture worker` needs NURTURE_REDIS_URL (a redis:// URL); "
            "without it `nurture serve` runs the workers inside the web process"
        )
    supervisor.bound = settings.shutdown_seconds
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    context.configure(settings)
    installed = broker.install(broker.build_broker(settings))
    command = [
        sys.executable,
        "-m",
        "dramatiq",
        WORKER_SETUP,
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--worker-shutdown-timeout",
        str(message_grace_ms(settings.shutdown_seconds)),
    ]
    if supervisor.stopping:  # told to stop before anything started
        installed.close()
        return
    # Started before the ticker thread: the child is armed between fork and exec.
    supervisor.start(command)
    ticker = Ticker(installed, settings.tick_seconds).start()
    try:
        code = supervisor.wait()
    finally:
        ticker.stop()
        installed.close()
    sys.exit(code)

"""`nurture serve` (the web app, plus workers when embedded) and `nurture worker`."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from types import FrameType

import click
from granian import Granian
from granian.constants import Interfaces

from nurture.cli.root import load_settings, main
from workers import broker, context
from workers.ticker import Ticker

APP_FACTORY = "nurture.web.app:create_app"
# Dramatiq calls this in every worker process to install the Redis broker.
WORKER_SETUP = "workers.runtime:install_for_worker"


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
    Granian(
        APP_FACTORY,
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=processes,
    ).serve()


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
    settings = load_settings()
    if settings.embedded_broker:
        raise click.ClickException(
            "`nurture worker` needs NURTURE_REDIS_URL (a redis:// URL); "
            "without it `nurture serve` runs the workers inside the web process"
        )
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
    ]
    # Its own session: a terminal's Ctrl-C reaches only us, and we forward it
    # once, instead of Dramatiq seeing it twice and killing work in progress.
    child = subprocess.Popen(command, start_new_session=True)  # noqa: S603

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    ticker = Ticker(installed, settings.tick_seconds).start()
    try:
        code = child.wait()
    finally:
        ticker.stop()
        installed.close()
    sys.exit(code)

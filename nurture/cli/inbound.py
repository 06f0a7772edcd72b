"""`nurture inbound`: an SMTP receiver for replies to reply+<token>@NURTURE_REPLY_DOMAIN.

Point the reply domain's MX record (or a relay's forwarding rule) at it. Each
message is handed to `campaigns.sequences.replies.record_reply` in its own
transaction; recipients that are not genuine reply addresses at the reply domain
are refused with 550 before any data is sent. SIGTERM or Ctrl-C stops accepting
connections and lets the messages being recorded finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import click
from aiosmtpd.smtp import SMTP

from campaigns.email.replies import ReplyResult
from campaigns.email.reply_address import message_of_address
from campaigns.sequences.replies import record_reply
from nurture.cli.root import load_settings, main
from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import utcnow
from workers import broker
from workers.actors import hand_over

log = logging.getLogger("nurture.inbound")
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
MAX_RECIPIENTS = 50
# How long shutdown waits for messages being recorded before it gives up on them
# (their senders got no answer yet, so they will deliver them again).
DRAIN_SECONDS = 30.0


class ReplyHandler:
    """aiosmtpd handler: checks each recipient, records each message as a reply."""

    def __init__(self, settings: Settings, *, enqueue: bool) -> None:
        self.settings = settings
        self.domain = settings.reply_domain or ""
        self.enqueue = enqueue
        self.busy = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if message_of_address(self.settings.secret_key, address, self.domain) is None:
            return f"550 5.1.1 <{address}>: not a reply address at {self.domain}"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.busy += 1
        try:
            result = await asyncio.to_thread(
                self.record, bytes(raw), list(envelope.rcpt_tos), envelope.mail_from
            )
        except Exception:
            log.exception("could not record a reply; the sender will try again")
            return "451 4.3.0 Could not record the message now, try again later"
        finally:
            self.busy -= 1
        log.info("reply %s: %s %s", result.outcome.value, result.message_id, result.detail)
        return f"250 2.0.0 OK {result.outcome.value}"

    def record(self, raw: bytes, recipients: list[str], sender: str | None) -> ReplyResult:
        with session_scope(self.settings.database_url) as db:
            result = record_reply(
                db,
                raw,
                now=utcnow(),
                secret=self.settings.secret_key,
                reply_domain=self.domain,
                envelope_recipients=recipients,
                envelope_sender=sender,
            )
            if result.event_id is not None and self.enqueue:
                hand_over(db, [result.event_id])
        return result


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2525, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--max-size",
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    type=click.IntRange(min=1024),
    help="Largest message accepted, in bytes (SMTP SIZE).",
)
def inbound(host: str, port: int, max_size: int) -> None:
    """Receive replies over SMTP and stop the sequences of the contacts who replied."""
    settings = load_settings()
    if not settings.reply_domain:
        raise click.ClickException(
            "set NURTURE_REPLY_DOMAIN (say replies.example.com): replies are accepted "
            "only for reply+<token>@ that domain"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # With Redis the reply's event is processed (segments, triggers) at once; in the
    # embedded runtime the web process's tick finds it, and the sequences stop either way.
    enqueue = not settings.embedded_broker
    if enqueue:
        broker.install(broker.build_broker(settings))
    handler = ReplyHandler(settings, enqueue=enqueue)
    asyncio.run(_serve(handler, host, port, max_size))


async def _serve(handler: ReplyHandler, host: str, port: int, max_size: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def factory() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=max_size,
            enable_SMTPUTF8=True,
            hostname=handler.domain,
            ident="Nurture inbound",
            loop=loop,
        )

    server = await loop.create_server(factory, host=host, port=port)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Receiving replies for {handler.domain} on {shown}:{port}", nl=True)
    await stop.wait()
    server.close()
    waited = 0.0
    while handler.busy and waited < DRAIN_SECONDS:
        await asyncio.sleep(0.05)
        waited += 0.05
    click.echo("stopped")

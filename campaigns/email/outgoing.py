"""One outgoing message: rendered, built with its Message-ID, signed and handed to the
transport, from the pipeline's shared render-and-send threads."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from campaigns.delivery.transport import Delivery, Envelope, Outcome, Transport
from campaigns.email import records
from campaigns.email.mailconfig import MailConfig
from campaigns.email.recipients import Recipient
from campaigns.email.reply_address import reply_address
from templates.dkim import sign
from templates.message import Address, Attachment, build_message
from templates.problems import TemplateRenderError
from templates.render import CompiledTemplate

_pools_lock = threading.Lock()
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}


def mail_threads(count: int) -> ThreadPoolExecutor:
    """The process's pool of `count` render-and-send threads, shared by every send.

    Shared, not one per call: a worker runs several batches at once, and a pool per
    batch put dozens of threads on a few SMTP connections and one GIL. Keyed by
    process too, as a forked child does not inherit the parent's threads.
    """
    key = (os.getpid(), count)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="mail")
            _pools[key] = pool
        return pool


def send_one(
    claimed: records.Claimed,
    recipient: Recipient,
    compiled: CompiledTemplate,
    transport: Transport,
    config: MailConfig,
    extra: Mapping[str, Any],
    unsubscribe_for: int | None,
    *,
    uses_unsubscribe: bool,
    replies: bool = False,
    attachments: Sequence[Attachment] = (),
    keep: Callable[[records.Claimed, bytes, str], None] | None = None,
    from_name: str | None = None,
) -> records.Finished:
    """Render, build and send one claimed message; `from_name` (an experiment's variant)
    is the From display name instead of the configured one, on the same address."""

    context = {**extra, **recipient.context} if extra else recipient.context
    try:
        rendered = compiled.render(
            context,
            message_id=claimed.id,
            base_url=config.base_url,
            secret=config.signer,
            contact_id=unsubscribe_for if uses_unsubscribe else None,
        )
    except (TemplateRenderError, TypeError) as exc:
        # Sending again renders the same template with the same context: it would fail
        # the same way, so the failure is final and says why.
        reason = f"the template could not be filled: {exc}"
        return records.Finished(claimed, Delivery(Outcome.PERMANENT, None, reason), error=reason)
    message_id = message_id_for(config, claimed)
    sender = config.sender if from_name is None else Address(config.sender.email, from_name)
    raw = build_message(
        rendered,
        sender=sender,
        recipient=Address(recipient.email, recipient.name),
        message_id=message_id,
        reply_to=reply_to(config, claimed.id, sender.name) if replies else None,
        headers={"X-Nurture-Message": str(claimed.id)},
        attachments=attachments,
    )
    if config.dkim is not None:
        raw = sign(raw, config.dkim.selector, config.dkim.domain, config.dkim.private_key_pem)
    if keep is not None:
        keep(claimed, raw, message_id)
    delivery = transport.send(
        Envelope(
            sender=config.sender.email,
            recipients=(recipient.email,),
            raw=raw,
            message_id=claimed.id,
            subject=rendered.subject,
        )
    )
    return records.Finished(
        claimed,
        delivery,
        subject=rendered.subject,
        message_id_header=message_id,
        links=rendered.links,
        raw=raw if delivery.outcome is Outcome.TEMPORARY else None,
    )


def message_id_for(config: MailConfig, claimed: records.Claimed) -> str:
    """The Message-ID header of a message: the same every time that row is built.

    Not random: a send interrupted mid-transaction is sent again (see
    `retry.recover_interrupted`), and if the relay had taken the first copy, the
    receiver and mail clients see the same Message-ID and treat both as one message.
    The keyed digest keeps ids from different installations with one domain apart.
    """
    digest = hmac.new(
        config.secret.encode(),
        f"message-id:{claimed.id}:{claimed.idempotency_key}".encode(),
        hashlib.sha256,
    ).hexdigest()[:24]
    return f"<{claimed.id}.{digest}@{config.message_id_domain or 'localhost'}>"


def reply_to(config: MailConfig, message_id: int, name: str | None = None) -> Address | None:
    """The Reply-To of a message, under the name it is sent from (the configured one by
    default): a reply should go to the sender the reader saw."""
    if not config.reply_domain:
        return None
    address = reply_address(config.secret, config.reply_domain, message_id)
    return Address(address, config.sender.name if name is None else name)

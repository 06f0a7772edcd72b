"""The send pipeline: from a template and contacts to messages on the wire.

For each chunk of recipients (one, or hundreds in a bulk send):

1. record a `queued` row per recipient with its idempotency key, commit;
2. claim the rows (queued -> sending in one UPDATE; see `records`), commit;
3. check suppressions and topic opt-outs right before sending; suppressed
   messages are finished as `suppressed` and never reach the transport;
4. render (the compiled template is cached per variant), build the MIME bytes
   with a Message-ID derived from the message row (a resend after an interrupted
   send carries the same one), List-Unsubscribe headers and optional DKIM, and
   hand them to the transport from a few threads at once (`outgoing`: one message,
   and the process's shared pool of those threads);
5. write back sent / deferred / bounced / failed in bulk, suppress hard
   bounces, add `email.*` events (idempotency key `email.<what>:<message id>`).

The session is committed by these functions: a message must be recorded
durably before it is sent, and that is a commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.delivery.transport import Outcome, Transport
from campaigns.email import brand, records
from campaigns.email.compiled import compiled_variant
from campaigns.email.mailconfig import MailConfig
from campaigns.email.outgoing import mail_threads, send_one
from campaigns.email.overrides import Overrides, check
from campaigns.email.recipients import Recipient, contact_recipient, load_recipients
from campaigns.email.samples import fill_missing
from campaigns.email.store import get_template, get_version, get_version_by_id, pick_variant
from nurture.contacts import get_contact
from nurture.errors import InvalidInput
from nurture.models import (
    EmailMessage,
    EmailTemplateVariant,
    EmailTemplateVersion,
    MessageStatus,
    TemplateKind,
)
from nurture.sqlsets import among
from templates import requirements
from templates.message import Address, Attachment

CHUNK = 500
KIND_TEST = "test"
MAX_KEY = 200


@dataclass(slots=True)
class BulkResult:
    """Counts by final status of this call, and the keys it found done already."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped_keys: list[str] = field(default_factory=list)
    missing_contacts: list[int] = field(default_factory=list)

    def add(self, status: str, n: int = 1) -> None:
        self.counts[status] = self.counts.get(status, 0) + n


@dataclass(frozen=True, slots=True)
class _Job:
    key: str
    recipient: Recipient


def send_to_contact(
    session: Session,
    template_id: int,
    contact_id: int,
    *,
    idempotency_key: str,
    transport: Transport,
    config: MailConfig,
    extra: Mapping[str, Any] | None = None,
    attachments: Sequence[Attachment] = (),
    overrides: Overrides | None = None,
) -> EmailMessage:
    """Send the template's current version to one contact; answers the message row.

    Idempotent by key: when a message with this key exists and is not `queued`,
    nothing is sent and that message is answered. NotFound for an unknown template
    or contact, InvalidInput for a bad key or extra context. `attachments` go with the
    message (say an .ics invitation); its built bytes are kept from just before the
    transport until it is sent, so a send interrupted there is retried with them. One
    recorded but never claimed (its sender died in between) is built again from the
    template alone: a caller that wants it resent gives them again with the same key.

    `overrides` (an experiment's variant) are kept on the row: a message recorded under
    this key before is built with the overrides it was recorded with, whatever is given
    now. InvalidInput (`overrides.<field>`) for overridden texts that do not compile,
    NotFound for a pinned version the template does not have.
    """
    _check_key(idempotency_key)
    existing = _by_key(session, idempotency_key)
    if existing is not None and existing.status != MessageStatus.QUEUED.value:
        return existing
    contact = get_contact(session, contact_id)
    if contact.email is None:
        raise InvalidInput.single("contact_id", "the contact has no e-mail address")
    recipient = contact_recipient(contact, config)
    # A message recorded but never claimed (its sender died) keeps the version and the
    # overrides it named: the first choice of variant is the one that goes.
    if existing is not None:
        overrides = Overrides.from_json(existing.overrides)
    check(overrides)
    version = (
        get_version_by_id(session, existing.template_version_id)
        if existing is not None and existing.template_version_id is not None
        else get_version(session, template_id, _pinned(overrides))
    )
    _deliver(
        session,
        version,
        [_Job(idempotency_key, recipient)],
        transport,
        config,
        extra,
        None,
        attachments=attachments,
        overrides=overrides,
    )
    message = _by_key(session, idempotency_key)
    if message is None:
        raise RuntimeError("message is None, but the message row written above is gone")
    return message


def send_bulk(
    session: Session,
    template_id: int,
    contact_ids: Iterable[int],
    *,
    key_prefix: str,
    transport: Transport,
    config: MailConfig,
    extra: Mapping[str, Any] | None = None,
    chunk_size: int = CHUNK,
    threads: int | None = None,
) -> BulkResult:
    """Send the template to many contacts, `chunk_size` at a time, streaming (memory does
    not grow with the count). Each message's key is `{key_prefix}:{contact_id}`, so running
    the same bulk send again sends only what did not go the first time."""
    _check_key(f"{key_prefix}:{2**63}")
    version = get_version(session, template_id)
    result = BulkResult()

    def jobs() -> Iterator[list[_Job]]:
        for chunk in _chunks(contact_ids, chunk_size):
            recipients = load_recipients(session, chunk, config)
            result.missing_contacts += [c for c in chunk if c not in recipients]
            yield [
                _Job(f"{key_prefix}:{cid}", recipients[cid]) for cid in chunk if cid in recipients
            ]

    _send_chunks(session, version, jobs(), transport, config, extra, result, threads)
    return result


def send_keyed(
    session: Session,
    template_id: int,
    sends: Sequence[tuple[str, int]],
    *,
    transport: Transport,
    config: MailConfig,
    threads: int | None = None,
    overrides: Overrides | None = None,
) -> dict[str, tuple[int, str]]:
    """`send_to_contact` for many (idempotency key, contact id) pairs at once, set-based.

    The same rules per key: a message that exists and is not `queued` is not sent
    again, and one recorded but never claimed keeps the template version and the
    overrides it named. `overrides` (one variant) apply to every new message here.
    Answers key -> (message id, status) for every key that has a message afterwards;
    a contact that does not exist or has no address has none.
    """
    for key, _ in sends:
        _check_key(key)
    check(overrides)
    keys = [key for key, _ in sends]
    earlier = {
        key: (status, version_id, Overrides.from_json(stored))
        for key, status, version_id, stored in session.execute(
            select(
                EmailMessage.idempotency_key,
                EmailMessage.status,
                EmailMessage.template_version_id,
                EmailMessage.overrides,
            ).where(among(session, EmailMessage.idempotency_key, keys))
        )
    }
    recipients = load_recipients(session, [cid for _, cid in sends], config)
    by_version: dict[tuple[int | None, Overrides | None], list[_Job]] = {}
    for key, contact_id in sends:
        status, version_id, kept = earlier.get(key, (None, None, overrides))
        if status not in (None, MessageStatus.QUEUED.value) or contact_id not in recipients:
            continue
        by_version.setdefault((version_id, kept), []).append(_Job(key, recipients[contact_id]))
    for (version_id, chosen), jobs in by_version.items():
        version = (
            get_version(session, template_id, _pinned(chosen))
            if version_id is None
            else get_version_by_id(session, version_id)
        )
        chunks = (jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK))
        _send_chunks(
            session, version, chunks, transport, config, None, None, threads, overrides=chosen
        )
    return {
        key: (int(message_id), str(status))
        for key, message_id, status in session.execute(
            select(EmailMessage.idempotency_key, EmailMessage.id, EmailMessage.status).where(
                among(session, EmailMessage.idempotency_key, keys)
            )
        )
    }


@dataclass(frozen=True, slots=True)
class TrialSend:
    """A test send's message and, in plain words, what was filled with samples."""

    message: EmailMessage
    filled: list[str]


def send_test(
    session: Session,
    template_id: int,
    contact_id: int,
    *,
    to: Address,
    idempotency_key: str,
    transport: Transport,
    config: MailConfig,
    extra: Mapping[str, Any] | None = None,
    overrides: Overrides | None = None,
) -> TrialSend:
    """Send the template as `contact_id` would get it, to `to` (a marketer's own address);
    with `overrides`, as an experiment's variant would send it.

    What the template needs beyond what every send gives and `extra` holds (a project,
    survey links, a webinar...) is filled with samples, so the marketer sees the real
    layout; `filled` says which, in plain words. No suppression check and no events on
    the contact; its unsubscribe link is a harmless one (it names no contact), so
    clicking it in a test changes nothing.
    """
    _check_key(idempotency_key)
    existing = _by_key(session, idempotency_key)
    if existing is not None and existing.status != MessageStatus.QUEUED.value:
        return TrialSend(existing, [])
    contact = get_contact(session, contact_id)
    if contact.email is None:
        raise InvalidInput.single("contact_id", "the contact has no e-mail address")
    shown = contact_recipient(contact, config)
    recipient = Recipient(to.email, to.name, contact.locale, shown.context, contact_id=None)
    check(overrides)
    version = get_version(session, template_id, _pinned(overrides))
    variant = pick_variant(version, contact.locale)
    wanted = requirements.variant_needs(
        variant.subject, variant.preheader, variant.body, variant.text_body
    )
    if overrides is not None:
        wanted |= requirements.needs(
            [(text, False) for text in overrides.texts if text is not None]
        )
    filled = fill_missing(wanted, extra, variant.locale)
    _deliver(
        session,
        version,
        [_Job(idempotency_key, recipient)],
        transport,
        config,
        filled.extra,
        None,
        kind=KIND_TEST,
        preview_contact=contact_id,
        overrides=overrides,
    )
    message = _by_key(session, idempotency_key)
    if message is None:
        raise RuntimeError("message is None, but the message row written above is gone")
    return TrialSend(message, filled.labels)


def send_internal(
    session: Session,
    template_id: int,
    *,
    to: Address,
    context: Mapping[str, Any],
    idempotency_key: str,
    transport: Transport,
    config: MailConfig,
) -> EmailMessage:
    """Send an internal template (say, a lead handoff) to one of our users; `context`
    holds its variables (lead, handoff, rep...). No unsubscribe link, no suppression."""
    _check_key(idempotency_key)
    existing = _by_key(session, idempotency_key)
    if existing is not None and existing.status != MessageStatus.QUEUED.value:
        return existing
    version = get_version(session, template_id)
    if version.kind != TemplateKind.INTERNAL.value:
        raise InvalidInput.single("template_id", "is not an internal template")
    values = {"brand": brand.current(session, config.brand), **context}
    recipient = Recipient(to.email, to.name, None, dict(values), contact_id=None)
    _deliver(session, version, [_Job(idempotency_key, recipient)], transport, config, None, None)
    message = _by_key(session, idempotency_key)
    if message is None:
        raise RuntimeError("message is None, but the message row written above is gone")
    return message


def _send_chunks(
    session: Session,
    version: EmailTemplateVersion,
    chunks: Iterable[Sequence[_Job]],
    transport: Transport,
    config: MailConfig,
    extra: Mapping[str, Any] | None,
    result: BulkResult | None,
    threads: int | None,
    *,
    overrides: Overrides | None = None,
) -> None:
    size: int = getattr(transport, "size", 1)
    pool = mail_threads(max(1, threads or size))
    # Two chunks in flight: while the threads render and send one, this thread
    # records and claims the next and writes back the one before.
    inflight: _Batch | None = None
    for jobs in chunks:
        batch = _prepare(
            session, version, jobs, transport, config, extra, result, overrides=overrides
        )
        if batch is not None:
            batch.start(pool)
        if inflight is not None:
            _complete(session, inflight, result)
        inflight = batch
    if inflight is not None:
        _complete(session, inflight, result)


_Task = tuple[records.Claimed, Recipient, EmailTemplateVariant]


@dataclass
class _Batch:
    """Claimed messages of one chunk, ready to render and send from a thread pool."""

    tasks: list[_Task]
    version: EmailTemplateVersion
    transport: Transport
    config: MailConfig
    extra: dict[str, Any]
    kind: str
    props: dict[str, Any]
    futures: list[Future[records.Finished]] = field(default_factory=list)
    attachments: Sequence[Attachment] = ()
    # Called with each built message before the transport sees it (see _keep_bytes).
    keep: Callable[[records.Claimed, bytes, str], None] | None = None
    overrides: Overrides | None = None

    def run(
        self, task: tuple[records.Claimed, Recipient, EmailTemplateVariant]
    ) -> records.Finished:
        item, recipient, variant = task
        compiled = compiled_variant(
            variant, tracking=self.version.tracking, overrides=self.overrides
        )
        marketing = self.kind == TemplateKind.MARKETING.value
        unsubscribe_for = recipient.contact_id if marketing else None
        if self.kind == KIND_TEST:
            unsubscribe_for = 0  # a link that names no contact
        return send_one(
            item,
            recipient,
            compiled,
            self.transport,
            self.config,
            self.extra,
            unsubscribe_for,
            uses_unsubscribe=marketing or self.kind == KIND_TEST,
            attachments=self.attachments,
            # A reply stops the contact's sequences: test sends name no contact of theirs.
            replies=recipient.contact_id is not None and self.kind != KIND_TEST,
            keep=self.keep,
            from_name=self.overrides.from_name if self.overrides is not None else None,
        )

    def start(self, pool: ThreadPoolExecutor) -> None:
        self.futures = [pool.submit(self.run, task) for task in self.tasks]

    def results(self) -> list[records.Finished]:
        if self.futures:
            return [f.result() for f in self.futures]
        return [self.run(task) for task in self.tasks]


def _deliver(
    session: Session,
    version: EmailTemplateVersion,
    jobs: Sequence[_Job],
    transport: Transport,
    config: MailConfig,
    extra: Mapping[str, Any] | None,
    result: BulkResult | None,
    *,
    kind: str | None = None,
    preview_contact: int | None = None,
    attachments: Sequence[Attachment] = (),
    overrides: Overrides | None = None,
) -> None:
    batch = _prepare(
        session,
        version,
        jobs,
        transport,
        config,
        extra,
        result,
        kind=kind,
        preview_contact=preview_contact,
        attachments=attachments,
        overrides=overrides,
    )
    if batch is not None:
        if attachments:
            batch.keep = _keep_bytes(session)
        _complete(session, batch, result)


def _keep_bytes(session: Session) -> Callable[[records.Claimed, bytes, str], None]:
    """Store a message's bytes and Message-ID, committed, before the transport has it.

    Only for messages with attachments (a webinar confirmation's .ics): they are not
    stored anywhere else, so a send interrupted by a dying worker could only be built
    again without them. With the bytes kept, `retry.recover_interrupted` makes the
    message a due retry of those very bytes. Runs in the caller's thread: `_deliver`
    completes its batch there.
    """

    def keep(claimed: records.Claimed, raw: bytes, message_id: str) -> None:
        session.execute(
            update(EmailMessage)
            .where(EmailMessage.id == claimed.id)
            .values(pending_raw=raw, message_id_header=message_id)
        )
        session.commit()

    return keep


def _prepare(
    session: Session,
    version: EmailTemplateVersion,
    jobs: Sequence[_Job],
    transport: Transport,
    config: MailConfig,
    extra: Mapping[str, Any] | None,
    result: BulkResult | None,
    *,
    kind: str | None = None,
    preview_contact: int | None = None,
    attachments: Sequence[Attachment] = (),
    overrides: Overrides | None = None,
) -> _Batch | None:
    """Record, claim and check suppression for a chunk; answers what is left to send."""
    if not jobs:
        return None
    template = get_template(session, version.template_id)
    kind = kind or version.kind
    extra_values = dict(extra or {})
    variants = {j.key: pick_variant(version, j.recipient.locale) for j in jobs}
    records.record_queued(
        session,
        {
            "kind": kind,
            "template_id": template.id,
            "template_version_id": version.id,
            "topic": version.topic,
            "from_email": config.sender.email,
            "extra": extra_values,
            "overrides": overrides.as_json() if overrides is not None else None,
        },
        [
            {
                "idempotency_key": j.key,
                "locale": variants[j.key].locale,
                "contact_id": j.recipient.contact_id if kind != KIND_TEST else preview_contact,
                "to_email": j.recipient.email,
            }
            for j in jobs
        ],
    )
    session.commit()
    claimed = records.claim(session, [j.key for j in jobs])
    session.commit()
    if result is not None:
        won = {c.idempotency_key for c in claimed}
        result.skipped_keys += [j.key for j in jobs if j.key not in won]
    if kind == KIND_TEST:
        # A test send is about the marketer's address, and records no contact events.
        claimed = [
            records.Claimed(c.id, c.idempotency_key, None, c.to_email, c.attempts) for c in claimed
        ]
    props: dict[str, Any] = {"template_id": template.id, "template_version": version.number}
    if version.topic:
        props["topic"] = version.topic
    if kind == TemplateKind.MARKETING.value:
        # Right before sending: an unsubscribe that landed a moment ago still counts.
        reasons = records.suppressed_among(session, claimed, version.topic)
        records.mark_suppressed(session, claimed, reasons, props)
        session.commit()
        claimed = [c for c in claimed if c.id not in reasons]
        if result is not None and reasons:
            result.add(MessageStatus.SUPPRESSED.value, len(reasons))
    by_key = {j.key: j for j in jobs}
    tasks = [(c, by_key[c.idempotency_key].recipient, variants[c.idempotency_key]) for c in claimed]
    return _Batch(
        tasks,
        version,
        transport,
        config,
        extra_values,
        kind,
        props,
        attachments=attachments,
        overrides=overrides,
    )


def _complete(session: Session, batch: _Batch, result: BulkResult | None) -> None:
    """Wait for a batch's sends and write back how each ended."""
    finished = batch.results()
    records.finish(session, finished, batch.props, events=batch.kind != KIND_TEST)
    session.commit()
    if result is not None:
        for item in finished:
            result.add(_final_status(item))


def _final_status(item: records.Finished) -> str:
    if item.error is not None:
        return MessageStatus.FAILED.value
    if item.delivery.outcome is Outcome.SENT:
        return MessageStatus.SENT.value
    if item.delivery.outcome is Outcome.PERMANENT:
        return MessageStatus.BOUNCED.value
    if item.claimed.attempts >= records.MAX_ATTEMPTS:
        return MessageStatus.FAILED.value
    return MessageStatus.DEFERRED.value


def _pinned(overrides: Overrides | None) -> int | None:
    """The template version a variant pins (None: the template's current one)."""
    return overrides.version if overrides is not None else None


def _by_key(session: Session, key: str) -> EmailMessage | None:
    return session.scalar(
        select(EmailMessage)
        .where(EmailMessage.idempotency_key == key)
        .execution_options(populate_existing=True)
    )


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY or "\x00" in key:
        raise InvalidInput.single(
            "idempotency_key", f"must be a non-empty string of up to {MAX_KEY} characters"
        )


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, size)):
        yield list(dict.fromkeys(chunk))


__all__ = [
    "BulkResult",
    "send_bulk",
    "send_internal",
    "send_keyed",
    "send_test",
    "send_to_contact",
]

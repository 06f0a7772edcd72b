"""Message rows: recorded before a send, claimed by one sender, finished with events.

The rule that makes retries safe: a message is first written `queued` (its
idempotency key unique) and committed; a sender may hand it to a transport only
after moving it from `queued` to `sending` itself, in one UPDATE that names the
old status. Two workers that race for the same key: one claims, the other finds
nothing to claim and does nothing. A crash after the claim leaves it `sending`:
while its lease lasts nobody sends it (a re-run with the key finds it claimed);
after that `retry.recover_interrupted` puts it back to be sent again. Whether the
relay took the first copy cannot be known, so a resend carries the same
Message-ID (`outgoing.message_id_for`): never lost, and never two messages to
the receiver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from campaigns.delivery.transport import Delivery, Outcome
from nurture.contacts import suppress
from nurture.contacts.addresses import email_hash, normalise_email
from nurture.events import EventInput, ingest
from nurture.models import (
    EmailMessage,
    MessageStatus,
    Suppression,
    SuppressionReason,
    TopicOptOut,
    utcnow,
)
from nurture.sqlsets import among

# Deferred messages are retried after 1, 2, 4 ... minutes; after this many attempts, failed.
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=2)
_TABLE: Table = EmailMessage.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message this sender owns now (status `sending`)."""

    id: int
    idempotency_key: str
    contact_id: int | None
    to_email: str
    attempts: int


@dataclass(slots=True)
class Finished:
    """How one claimed message ended, to be written back in bulk."""

    claimed: Claimed
    delivery: Delivery
    subject: str | None = None
    message_id_header: str | None = None
    links: Sequence[str] = ()
    raw: bytes | None = None  # kept only while a retry is pending
    error: str | None = None  # a render failure: no delivery attempted


def record_queued(
    session: Session, common: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `queued` rows, skipping keys that exist already (a retry); the caller commits.

    `common` holds the columns every row shares (kind, template_id, template_version_id,
    topic, from_email, extra, and optionally overrides); each row has idempotency_key,
    locale, contact_id, to_email.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One statement with one JSON parameter, whatever the chunk size (see nurture.event_writes).
        session.execute(
            _PG_INSERT,
            {
                "rows": msgspec.json.encode([dict(r) for r in rows]).decode(),
                "kind": common["kind"],
                "template_id": common["template_id"],
                "version_id": common["template_version_id"],
                "topic": common["topic"],
                "from_email": common["from_email"],
                "extra": msgspec.json.encode(common["extra"]).decode(),
                "overrides": _json_or_null(common.get("overrides")),
            },
        )
        return
    now = utcnow()
    if common.get("overrides") is None:
        # Left out rather than None: the JSON type would store None as a JSON null.
        common = {k: v for k, v in common.items() if k != "overrides"}
    stmt = sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.execute(
        stmt,
        [
            {
                **common,
                **row,
                "status": MessageStatus.QUEUED.value,
                "links": [],
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ],
    )


_PG_INSERT = text(
    "INSERT INTO email_messages (idempotency_key, status, kind, template_id, template_version_id,"
    " locale, topic, contact_id, to_email, from_email, links, attempts, extra, overrides,"
    " created_at, updated_at)"
    " SELECT r.idempotency_key, 'queued', :kind, :template_id, :version_id, r.locale, :topic,"
    " r.contact_id, r.to_email, :from_email, CAST('[]' AS json), 0, CAST(:extra AS jsonb),"
    " CAST(:overrides AS jsonb), now(), now()"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
    " AS r(idempotency_key text, locale text, contact_id bigint, to_email text)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)
_PG_FINISH = text(
    "UPDATE email_messages AS m SET status = r.status,"
    " subject = COALESCE(r.subject, m.subject),"
    " message_id_header = COALESCE(r.message_id_header, m.message_id_header),"
    " links = COALESCE(CAST(r.links AS json), m.links),"
    " last_error = r.last_error, next_attempt_at = r.next_attempt_at,"
    " sent_at = COALESCE(r.sent_at, m.sent_at),"
    " pending_raw = CASE WHEN r.keep_raw THEN m.pending_raw END, updated_at = now()"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(id bigint, status text, subject text,"
    " message_id_header text, links jsonb, last_error text, next_attempt_at timestamptz,"
    " sent_at timestamptz, keep_raw boolean)"
    " WHERE m.id = r.id"
)


def _json_or_null(value: object) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def claim(session: Session, keys: Sequence[str]) -> list[Claimed]:
    """Move the `queued` messages with these keys to `sending`; answers what this call won."""
    if not keys:
        return []
    now = utcnow()
    result = session.execute(
        update(_TABLE)
        .where(
            among(session, EmailMessage.idempotency_key, keys),
            _TABLE.c.status == MessageStatus.QUEUED.value,
        )
        .values(
            status=MessageStatus.SENDING.value,
            claimed_at=now,
            attempts=_TABLE.c.attempts + 1,
            updated_at=now,
        )
        .returning(
            _TABLE.c.id,
            _TABLE.c.idempotency_key,
            _TABLE.c.contact_id,
            _TABLE.c.to_email,
            _TABLE.c.attempts,
        )
    )
    return [Claimed(*row) for row in result]


def suppressed_among(
    session: Session, claimed: Sequence[Claimed], topic: str | None
) -> dict[int, str]:
    """Message id -> why it must not go (a suppressed address, or the contact opted out
    of the topic), for messages that are marketing mail."""
    if not claimed:
        return {}
    hashes = {c.id: email_hash(normalise_email(c.to_email)) for c in claimed}
    rows = session.execute(
        select(Suppression.email_hash, Suppression.reason).where(
            among(session, Suppression.email_hash, set(hashes.values()))
        )
    )
    listed = {digest: reason for digest, reason in rows}
    opted_out: set[int] = set()
    contact_ids = {c.contact_id for c in claimed if c.contact_id is not None}
    if topic is not None and contact_ids:
        opted_out = set(
            session.scalars(
                select(TopicOptOut.contact_id).where(
                    among(session, TopicOptOut.contact_id, contact_ids, integers=True),
                    TopicOptOut.topic == topic,
                )
            )
        )
    reasons: dict[int, str] = {}
    for item in claimed:
        reason = listed.get(hashes[item.id])
        if reason is not None:
            reasons[item.id] = f"address suppressed: {reason}"
        elif item.contact_id in opted_out:
            reasons[item.id] = f"contact opted out of {topic}"
    return reasons


def mark_suppressed(
    session: Session, claimed: Sequence[Claimed], reasons: Mapping[int, str], props: dict[str, Any]
) -> None:
    """Finish suppressed messages: status `suppressed`, an `email.suppressed` event each."""
    if not reasons:
        return
    now = utcnow()
    session.execute(
        update(EmailMessage),
        [
            {
                "id": mid,
                "status": MessageStatus.SUPPRESSED.value,
                "last_error": why,
                "updated_at": now,
            }
            for mid, why in reasons.items()
        ],
    )
    _events(
        session,
        [
            ("email.suppressed", c, {**props, "message_id": c.id, "reason": reasons[c.id]}, None)
            for c in claimed
            if c.id in reasons
        ],
        now,
    )


def finish(
    session: Session, done: Sequence[Finished], props: Mapping[str, Any], *, events: bool = True
) -> None:
    """Write back how claimed messages ended (one bulk UPDATE), suppress hard-bounced
    addresses and add the events; the caller commits."""
    if not done:
        return
    now = utcnow()
    updates: list[dict[str, Any]] = []
    happened: list[tuple[str, Claimed, dict[str, Any], str | None]] = []
    for item in done:
        claimed, delivery = item.claimed, item.delivery
        values: dict[str, Any] = {"id": claimed.id, "updated_at": now}
        if item.subject is not None:
            values["subject"] = item.subject[:1000]
            values["message_id_header"] = item.message_id_header
            values["links"] = list(item.links)
        base = {**props, "message_id": claimed.id}
        if item.error is not None:
            values.update(status=MessageStatus.FAILED.value, last_error=item.error[:1000])
            values["pending_raw"] = None
            happened.append(("email.failed", claimed, {**base, "error": item.error[:500]}, None))
        elif delivery.outcome is Outcome.SENT:
            values.update(status=MessageStatus.SENT.value, sent_at=now, last_error=None)
            values["pending_raw"] = None
            happened.append(("email.sent", claimed, base, None))
        elif delivery.outcome is Outcome.PERMANENT:
            values.update(status=MessageStatus.BOUNCED.value, last_error=_reply(delivery))
            values["pending_raw"] = None
            suppress(
                session,
                claimed.to_email,
                reason=SuppressionReason.HARD_BOUNCE,
                detail=_reply(delivery)[:500],
            )
            bounce = {**base, "bounce_type": "hard", "smtp_code": delivery.code}
            happened.append(("email.bounced", claimed, bounce, None))
        elif claimed.attempts >= MAX_ATTEMPTS:
            values.update(status=MessageStatus.FAILED.value, last_error=_reply(delivery))
            values["pending_raw"] = None
            failed = {**base, "error": f"gave up after {claimed.attempts} attempts"}
            happened.append(("email.failed", claimed, failed, None))
        else:
            values.update(
                status=MessageStatus.DEFERRED.value,
                last_error=_reply(delivery),
                next_attempt_at=now + backoff(claimed.attempts),
            )
            if item.raw is not None:
                values["pending_raw"] = item.raw
            deferred = {**base, "smtp_code": delivery.code, "attempt": claimed.attempts}
            happened.append(("email.deferred", claimed, deferred, str(claimed.attempts)))
        updates.append(values)
    _write_back(session, updates)
    if events:
        _events(session, happened, now)


def _write_back(session: Session, updates: list[dict[str, Any]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        rows = []
        raws = []
        for values in updates:
            raw = values.pop("pending_raw", None)
            if raw is not None:
                raws.append({"id": values["id"], "pending_raw": raw})
            rows.append(
                {
                    "id": values["id"],
                    "status": values["status"],
                    "subject": values.get("subject"),
                    "message_id_header": values.get("message_id_header"),
                    "links": values.get("links"),
                    "last_error": values.get("last_error"),
                    "next_attempt_at": values.get("next_attempt_at"),
                    "sent_at": values.get("sent_at"),
                    "keep_raw": raw is not None or values["status"] == "deferred",
                }
            )
        session.execute(_PG_FINISH, {"rows": msgspec.json.encode(rows).decode()})
        if raws:
            session.execute(update(EmailMessage), raws)
        return
    # Rows differ in which columns they set: group them so each executemany is uniform.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in updates:
        by_shape.setdefault(tuple(sorted(values)), []).append(values)
    for group in by_shape.values():
        session.execute(update(EmailMessage), group)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: 1, 2, 4 ... minutes, capped."""
    delay: timedelta = BACKOFF_BASE * (2 ** max(0, min(attempts, 20) - 1))
    return min(BACKOFF_CAP, delay)


def _reply(delivery: Delivery) -> str:
    code = f"{delivery.code} " if delivery.code is not None else ""
    return (code + delivery.detail)[:1000]


def _events(
    session: Session,
    happened: Sequence[tuple[str, Claimed, dict[str, Any], str | None]],
    when: datetime,
) -> None:
    items = [
        (
            index,
            EventInput(
                type=kind,
                occurred_at=when,
                properties=props,
                idempotency_key=f"{kind}:{claimed.id}" + (f":{suffix}" if suffix else ""),
                contact_id=claimed.contact_id,
            ),
        )
        for index, (kind, claimed, props, suffix) in enumerate(happened)
        if claimed.contact_id is not None
    ]
    if items:
        ingest(session, items, source="email")

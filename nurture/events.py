"""Event ingest: validate items, resolve contacts, store each idempotency key once.

Items arrive as decoded JSON (from the API, imports, tracking). Each item is
checked on its own, so a batch stores its valid items even when others are
rejected, and every item gets an outcome: stored, duplicate or rejected.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from nurture import event_writes as writes
from nurture.contacts.addresses import normalise_email
from nurture.errors import Problem
from nurture.models import Contact, Event, utcnow
from nurture.validation import holds_nul, is_event_type, is_id

MAX_BATCH = 1000
MAX_TYPE_LENGTH = 100
MAX_KEY_LENGTH = 200
# Addresses repeat across batches (the same leads act again and again).
_normalised_email = lru_cache(maxsize=100_000)(normalise_email)
_ITEM_FIELDS = frozenset(
    {"type", "occurred_at", "properties", "idempotency_key", "contact_id", "email"}
)
# Events dated further ahead than this are a client's clock or unit bug.
_FUTURE_SLACK = timedelta(days=1)


class Outcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class EventInput(NamedTuple):
    """A checked event, not yet stored. Exactly one of contact_id / email is set.

    A NamedTuple rather than a frozen dataclass: batches build thousands of
    these per request, and a tuple is several times cheaper to create.
    """

    type: str
    occurred_at: datetime
    properties: dict[str, Any]
    idempotency_key: str | None = None
    contact_id: int | None = None
    email: str | None = None


@dataclass(slots=True)
class ItemResult:
    index: int
    status: Outcome
    event_id: int | None = None
    contact_id: int | None = None
    problem: Problem | None = None


@dataclass(slots=True)
class IngestResult:
    items: list[ItemResult]
    created_contact_ids: list[int] = field(default_factory=list)

    @property
    def stored_event_ids(self) -> list[int]:
        return [r.event_id for r in self.items if r.status is Outcome.STORED and r.event_id]

    def count(self, status: Outcome) -> int:
        return sum(1 for r in self.items if r.status is status)


def parse_item(
    raw: object, index: int, *, now: datetime | None = None, may_hold_nul: bool = True
) -> EventInput:
    """Check one decoded JSON item; raises ItemRejected naming the field.

    `may_hold_nul=False` skips the walk through `properties` looking for NUL
    characters; pass it only when the caller knows none can be there (a JSON
    body without the escape \\u0000 cannot hold one).
    """
    if not isinstance(raw, Mapping):
        raise ItemRejected(Problem("", f"must be an object, got {_json_type(raw)}", index))
    if not _ITEM_FIELDS.issuperset(raw):
        unknown = sorted(str(k) for k in raw if k not in _ITEM_FIELDS)
        raise ItemRejected(Problem(unknown[0], "is not a known field", index))

    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise ItemRejected(Problem("type", "is required and must be a string", index))
    if not is_event_type(kind):
        raise ItemRejected(
            Problem(
                "type", "must be up to 100 of a-z, 0-9, '.', '_' or '-' (like email.opened)", index
            )
        )

    occurred_at = _parse_time(raw.get("occurred_at"), index, now or utcnow())

    properties = raw.get("properties", {})
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise ItemRejected(
            Problem("properties", f"must be an object, got {_json_type(properties)}", index)
        )
    if may_hold_nul and holds_nul(properties):
        raise ItemRejected(
            Problem("properties", "must not contain NUL (\\u0000) characters", index)
        )

    key = raw.get("idempotency_key")
    if key is not None and (
        not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key
    ):
        raise ItemRejected(
            Problem(
                "idempotency_key",
                f"must be a non-empty string of up to {MAX_KEY_LENGTH} characters, without NUL",
                index,
            )
        )

    contact_id = raw.get("contact_id")
    email = raw.get("email")
    if contact_id is not None and email is not None:
        raise ItemRejected(Problem("contact_id", "give contact_id or email, not both", index))
    if contact_id is not None:
        if not is_id(contact_id):
            raise ItemRejected(Problem("contact_id", "must be a positive integer", index))
        return EventInput(kind, occurred_at, properties, key, contact_id=contact_id)
    if email is None:
        raise ItemRejected(Problem("email", "name the contact by contact_id or email", index))
    if not isinstance(email, str):
        raise ItemRejected(Problem("email", f"must be a string, got {_json_type(email)}", index))
    try:
        address = _normalised_email(email)
    except ValueError as exc:
        raise ItemRejected(Problem("email", str(exc), index)) from None
    return EventInput(kind, occurred_at, properties, key, email=address)


class ItemRejected(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.describe())


def ingest_raw(
    session: Session, raw_items: Sequence[object], *, source: str, may_hold_nul: bool = True
) -> IngestResult:
    """Parse and store a batch of decoded JSON items; the caller commits."""
    now = utcnow()
    parsed: list[tuple[int, EventInput]] = []
    rejected: list[ItemResult] = []
    for index, raw in enumerate(raw_items):
        try:
            parsed.append((index, parse_item(raw, index, now=now, may_hold_nul=may_hold_nul)))
        except ItemRejected as exc:
            rejected.append(ItemResult(index, Outcome.REJECTED, problem=exc.problem))
    result = ingest(session, parsed, source=source)
    result.items.extend(rejected)
    result.items.sort(key=lambda r: r.index)
    return result


def ingest(
    session: Session, items: Sequence[tuple[int, EventInput]], *, source: str
) -> IngestResult:
    """Store checked events, each idempotency key at most once; the caller commits.

    Unknown e-mail addresses create contacts; unknown or erased contact ids are
    rejected. Set-based: a handful of statements per batch, whatever its size.
    """
    ids_by_email, created = _contacts_by_email(session, {e.email for _, e in items if e.email})
    live_ids = writes.live_contact_ids(
        session, list({e.contact_id for _, e in items if e.contact_id is not None})
    )

    results: list[ItemResult] = []
    rows: list[writes.EventRow] = []
    owners: list[ItemResult] = []
    seen_keys: set[str] = set()
    for index, item in items:
        if item.contact_id is not None:
            contact_id = item.contact_id
            if contact_id not in live_ids:
                problem = Problem("contact_id", f"no contact with id {contact_id}", index)
                results.append(ItemResult(index, Outcome.REJECTED, problem=problem))
                continue
        else:
            contact_id = ids_by_email[item.email or ""]
        outcome = ItemResult(index, Outcome.STORED, contact_id=contact_id)
        results.append(outcome)
        key = item.idempotency_key
        if key is not None:
            if key in seen_keys:
                outcome.status = Outcome.DUPLICATE
                continue
            seen_keys.add(key)
        rows.append(writes.EventRow(contact_id, item.type, item.occurred_at, item.properties, key))
        owners.append(outcome)

    for owner, event_id in zip(
        owners, writes.insert_events(session, rows, source=source), strict=True
    ):
        if event_id is None:
            owner.status = Outcome.DUPLICATE
        else:
            owner.event_id = event_id
    return IngestResult(results, created)


def store_known(session: Session, items: Sequence[EventInput], *, source: str) -> list[int]:
    """Store checked events that name their contact by id; the ids of those stored.

    The recorder's lean form of `ingest`, with no outcome per item: a repeated
    idempotency key is stored once, and events of contacts that are gone (erased
    or deleted since) are dropped. The caller commits.
    """
    live = writes.live_contact_ids(
        session, list({e.contact_id for e in items if e.contact_id is not None})
    )
    seen: set[str] = set()
    rows: list[writes.EventRow] = []
    for e in items:
        contact_id = e.contact_id
        if contact_id is None or contact_id not in live:
            continue
        key = e.idempotency_key
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        rows.append(writes.EventRow(contact_id, e.type, e.occurred_at, e.properties, key))
    return [i for i in writes.insert_events(session, rows, source=source) if i is not None]


def mark_processed(session: Session, event_ids: Iterable[int]) -> list[int]:
    """Mark events processed and move each contact's last activity forward.

    Returns the ids this call marked: a redelivered message finds none left
    to do and changes nothing.
    """
    ids = list(event_ids)
    if not ids:
        return []
    pending = session.execute(
        select(Event.id, Event.contact_id, Event.occurred_at).where(
            Event.id.in_(ids), Event.processed_at.is_(None)
        )
    ).all()
    if not pending:
        return []
    latest: dict[int, datetime] = {}
    for _, contact_id, occurred_at in pending:
        if contact_id not in latest or occurred_at > latest[contact_id]:
            latest[contact_id] = occurred_at
    marked = [event_id for event_id, _, _ in pending]
    session.execute(
        update(Event)
        .where(Event.id.in_(marked), Event.processed_at.is_(None))
        .values(processed_at=utcnow())
    )
    for contact_id, when in latest.items():
        session.execute(
            update(Contact)
            .where(
                Contact.id == contact_id,
                (Contact.last_activity_at.is_(None)) | (Contact.last_activity_at < when),
            )
            .values(last_activity_at=when)
        )
    return marked


def unprocessed_event_ids(
    session: Session, *, older_than: timedelta, limit: int = 5000
) -> list[int]:
    """Events no worker finished within `older_than`: their queue message was lost."""
    cutoff = utcnow() - older_than
    return list(
        session.scalars(
            select(Event.id)
            .where(and_(Event.processed_at.is_(None), Event.received_at < cutoff))
            .order_by(Event.id)
            .limit(limit)
        )
    )


def _contacts_by_email(session: Session, emails: set[str]) -> tuple[dict[str, int], list[int]]:
    if not emails:
        return {}, []
    found, new = writes.find_or_create_contacts(session, sorted(emails))
    found.update(new)
    # Another request may have created some of them between look-up and insert.
    still_missing = [e for e in emails if e not in found]
    if still_missing:
        found.update(writes.find_contacts_by_email(session, still_missing))
    return found, list(new.values())


def _parse_time(value: object, index: int, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, str):
        raise ItemRejected(Problem("occurred_at", "must be an ISO 8601 date-time string", index))
    try:
        # Python 3.11's parser reads the ISO 8601 forms clients send, "Z" included.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ItemRejected(
            Problem("occurred_at", f"{value!r} is not an ISO 8601 date-time", index)
        ) from None
    if parsed.tzinfo is None:
        raise ItemRejected(
            Problem("occurred_at", "must include a time zone (e.g. Z or +01:00)", index)
        )
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        raise ItemRejected(Problem("occurred_at", f"{value!r} is out of range", index)) from None
    if parsed > now + _FUTURE_SLACK:
        raise ItemRejected(Problem("occurred_at", "is more than a day in the future", index))
    return parsed


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"

"""What the API answers: response shapes (documented in /schema) and builders from models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from nurture.events import IngestResult, Outcome
from nurture.models import Company, Contact, Event


class CompanyOut(msgspec.Struct):
    id: int
    name: str
    domain: str | None
    industry: str | None
    size_band: str | None
    country: str | None


class ContactOut(msgspec.Struct):
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    title: str | None
    phone: str | None
    time_zone: str | None
    locale: str | None
    lifecycle_stage: str
    owner_id: int | None
    company: CompanyOut | None
    attributes: dict[str, Any]
    last_activity_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ContactPage(msgspec.Struct):
    """One page of contacts; pass `next_cursor` back as `cursor` for the next (null: no more)."""

    items: list[ContactOut]
    next_cursor: str | None


class EventOut(msgspec.Struct):
    id: int
    type: str
    occurred_at: datetime
    received_at: datetime
    properties: dict[str, Any]
    source: str
    idempotency_key: str | None
    processed_at: datetime | None


class TimelinePage(msgspec.Struct):
    """One page of a contact's events, most recent first."""

    items: list[EventOut]
    next_cursor: str | None


class ProblemOut(msgspec.Struct, omit_defaults=True):
    field: str
    message: str
    index: int | None = None


class EventOutcome(msgspec.Struct, omit_defaults=True):
    """What happened to one item of the request, by its position (`index`)."""

    index: int
    status: str
    event_id: int | None = None
    contact_id: int | None = None
    problem: ProblemOut | None = None


class IngestCounts(msgspec.Struct):
    stored: int
    duplicate: int
    rejected: int


class IngestAnswer(msgspec.Struct):
    """Per-item outcomes: `stored`, `duplicate` (idempotency key seen before) or `rejected`."""

    counts: IngestCounts
    items: list[EventOutcome]
    created_contact_ids: list[int]


def company_out(company: Company) -> CompanyOut:
    return CompanyOut(
        id=company.id,
        name=company.name,
        domain=company.domain,
        industry=company.industry,
        size_band=company.size_band,
        country=company.country,
    )


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        email=contact.email,
        first_name=contact.first_name,
        last_name=contact.last_name,
        title=contact.title,
        phone=contact.phone,
        time_zone=contact.time_zone,
        locale=contact.locale,
        lifecycle_stage=contact.lifecycle_stage,
        owner_id=contact.owner_id,
        company=None if contact.company is None else company_out(contact.company),
        attributes=dict(contact.attributes or {}),
        last_activity_at=contact.last_activity_at,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def event_out(event: Event) -> EventOut:
    return EventOut(
        id=event.id,
        type=event.type,
        occurred_at=event.occurred_at,
        received_at=event.received_at,
        properties=event.properties,
        source=event.source,
        idempotency_key=event.idempotency_key,
        processed_at=event.processed_at,
    )


def ingest_answer(result: IngestResult) -> IngestAnswer:
    items: list[EventOutcome] = []
    counts = {Outcome.STORED: 0, Outcome.DUPLICATE: 0, Outcome.REJECTED: 0}
    for item in result.items:
        counts[item.status] += 1
        problem = item.problem
        items.append(
            EventOutcome(
                index=item.index,
                status=item.status.value,
                event_id=item.event_id,
                contact_id=item.contact_id,
                problem=None
                if problem is None
                else ProblemOut(problem.field, problem.message, problem.index),
            )
        )
    return IngestAnswer(
        counts=IngestCounts(
            stored=counts[Outcome.STORED],
            duplicate=counts[Outcome.DUPLICATE],
            rejected=counts[Outcome.REJECTED],
        ),
        items=items,
        created_contact_ids=list(result.created_contact_ids),
    )


class ErrorDetail(msgspec.Struct):
    status: int
    message: str
    problems: list[ProblemOut] = []


class ErrorOut(msgspec.Struct):
    """Every error answer: `problems` name the field (and `index` of a batch item) at fault."""

    error: ErrorDetail

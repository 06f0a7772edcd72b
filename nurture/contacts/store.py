"""Contacts and companies: upsert, update, look-up, listing and timelines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from nurture import audit
from nurture.contacts.input import COMPANY_FIELDS, MAX_ATTRIBUTES, check_contact_input
from nurture.errors import InvalidInput, NotFound
from nurture.models import Company, Contact, Event
from nurture.validation import BAD_CURSOR, decode_cursor, encode_cursor, is_id

T = TypeVar("T")

MAX_PAGE_SIZE = 200


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a listing; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ContactFilter:
    search: str | None = None
    lifecycle_stage: str | None = None
    industry: str | None = None
    company_id: int | None = None
    owner_id: int | None = None
    country: str | None = None
    created_after: datetime | None = None
    include_erased: bool = False


def upsert_contact(
    session: Session, data: Mapping[str, object], *, actor: str
) -> tuple[Contact, bool]:
    """Create the contact or update the one with this e-mail; returns (contact, created)."""
    values, company = check_contact_input(session, data, partial=False)
    if company is not None:
        values["company_id"] = upsert_company(session, company).id
    contact = session.scalar(select(Contact).where(Contact.email == values["email"]))
    created = contact is None
    if contact is None:
        contact = Contact(email=values["email"], attributes={})
        session.add(contact)
    changes = _apply(contact, values)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="contact.created" if created else "contact.updated",
        entity_type="contact",
        entity_id=contact.id,
        changes=changes,
    )
    return contact, created


def update_contact(
    session: Session, contact_id: int, data: Mapping[str, object], *, actor: str
) -> Contact:
    contact = get_contact(session, contact_id)
    values, company = check_contact_input(session, data, partial=True)
    if company is not None:
        values["company_id"] = upsert_company(session, company).id
    if "email" in values and values["email"] != contact.email:
        taken = session.scalar(
            select(Contact.id).where(Contact.email == values["email"], Contact.id != contact_id)
        )
        if taken is not None:
            raise InvalidInput.single("email", f"{values['email']} belongs to contact {taken}")
    changes = _apply(contact, values)
    session.flush()
    if changes:
        audit.record(
            session,
            actor=actor,
            action="contact.updated",
            entity_type="contact",
            entity_id=contact.id,
            changes=changes,
        )
    return contact


def get_contact(session: Session, contact_id: int) -> Contact:
    """A live (not erased) contact with its company and owner loaded."""
    contact = session.scalar(
        select(Contact)
        .options(joinedload(Contact.company), joinedload(Contact.owner))
        .where(Contact.id == contact_id, Contact.erased_at.is_(None))
    )
    if contact is None:
        raise NotFound("contact", contact_id)
    return contact


def list_contacts(
    session: Session, filters: ContactFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[Contact]:
    """Contacts newest first, `limit` at a time; pass `next_cursor` back for more."""
    limit = _check_limit(limit)
    stmt = _filtered(filters).options(joinedload(Contact.company)).order_by(Contact.id.desc())
    if cursor is not None:
        last_id = decode_cursor(cursor, "id")
        if not is_id(last_id):
            raise InvalidInput.single("cursor", BAD_CURSOR)
        stmt = stmt.where(Contact.id < last_id)
    rows = list(session.scalars(stmt.limit(limit + 1)).unique())
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def count_contacts(session: Session, filters: ContactFilter) -> int:
    stmt = _filtered(filters).with_only_columns(func.count(Contact.id)).order_by(None)
    return session.scalar(stmt) or 0


def timeline(
    session: Session, contact_id: int, *, cursor: str | None = None, limit: int = 50
) -> Page[Event]:
    """A contact's events, most recent first."""
    get_contact(session, contact_id)
    limit = _check_limit(limit)
    stmt = select(Event).where(Event.contact_id == contact_id)
    if cursor is not None:
        position = decode_cursor(cursor, "t")
        try:
            written = datetime.fromisoformat(position[0])
            last_id = position[1]
            if written.tzinfo is None or not is_id(last_id):
                raise ValueError("not a position this listing wrote")
            when = written.astimezone(UTC)
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            raise InvalidInput.single("cursor", BAD_CURSOR) from None
        stmt = stmt.where(
            or_(Event.occurred_at < when, (Event.occurred_at == when) & (Event.id < last_id))
        )
    stmt = stmt.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"t": [last.occurred_at.isoformat(), last.id]})
    return Page(rows[:limit], next_cursor)


def upsert_company(session: Session, data: Mapping[str, Any]) -> Company:
    """The company with this domain (or, without one, this name), created or updated."""
    domain = data.get("domain")
    if domain:
        company = session.scalar(select(Company).where(Company.domain == domain))
    else:
        company = session.scalar(
            select(Company).where(func.lower(Company.name) == str(data["name"]).lower()).limit(1)
        )
    if company is None:
        company = Company(name=data["name"])
        session.add(company)
    for name in COMPANY_FIELDS:
        if data.get(name) is not None:
            setattr(company, name, data[name])
    session.flush()
    return company


def preview_contacts(session: Session, *, limit: int) -> list[Contact]:
    """The newest contacts with an address (not erased): who an e-mail can be previewed as."""
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.erased_at.is_(None), Contact.email.is_not(None))
            .order_by(Contact.id.desc())
            .limit(limit)
        )
    )


def industries(session: Session) -> list[str]:
    """Industries in use, for filter menus."""
    return [
        i
        for i in session.scalars(select(Company.industry).distinct().order_by(Company.industry))
        if i
    ]


def _filtered(filters: ContactFilter) -> Select[Contact]:
    stmt = select(Contact)
    if not filters.include_erased:
        stmt = stmt.where(Contact.erased_at.is_(None))
    if filters.search:
        term = f"%{filters.search.strip().lower()}%"
        full_name = func.lower(
            func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")
        )
        stmt = stmt.where(or_(Contact.email.like(term), full_name.like(term)))
    if filters.lifecycle_stage:
        stmt = stmt.where(Contact.lifecycle_stage == filters.lifecycle_stage)
    if filters.owner_id is not None:
        stmt = stmt.where(Contact.owner_id == filters.owner_id)
    if filters.company_id is not None:
        stmt = stmt.where(Contact.company_id == filters.company_id)
    if filters.industry or filters.country:
        company = select(Company.id)
        if filters.industry:
            company = company.where(Company.industry == filters.industry)
        if filters.country:
            company = company.where(Company.country == filters.country.upper())
        stmt = stmt.where(Contact.company_id.in_(company.scalar_subquery()))
    if filters.created_after is not None:
        stmt = stmt.where(Contact.created_at > filters.created_after)
    return stmt


def _apply(contact: Contact, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set values on the contact; returns {field: [old, new]} for what changed."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "attributes":
            merged = dict(contact.attributes or {})
            for key, item in value.items():
                if item is None:
                    merged.pop(key, None)
                else:
                    merged[key] = item
            if len(merged) > MAX_ATTRIBUTES:
                raise InvalidInput.single(
                    "attributes", f"a contact holds at most {MAX_ATTRIBUTES} attributes"
                )
            value = merged
        old = getattr(contact, name)
        if old != value:
            changes[name] = [old, value]
            setattr(contact, name, value)
    return changes


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput.single("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit

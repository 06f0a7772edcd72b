"""Contacts and companies: upsert, update, GDPR erase, listing and timelines."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Generic, TypeVar
from zoneinfo import available_timezones

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from nurture import audit
from nurture.emails import email_hash, normalise_email
from nurture.errors import InvalidInput, NotFound, Problem
from nurture.models import (
    AuditEntry,
    Company,
    Contact,
    Event,
    LifecycleStage,
    SegmentMember,
    SizeBand,
    Suppression,
    SuppressionReason,
    User,
    utcnow,
)

T = TypeVar("T")

# Free-text fields of a contact and their maximum lengths.
TEXT_FIELDS = {"first_name": 100, "last_name": 100, "title": 200, "phone": 50, "notes": 10_000}
CONTACT_FIELDS = frozenset(
    {
        *TEXT_FIELDS,
        "email",
        "time_zone",
        "locale",
        "lifecycle_stage",
        "owner_id",
        "company",
        "company_id",
        "attributes",
    }
)
COMPANY_FIELDS = frozenset({"name", "domain", "industry", "size_band", "country"})
MAX_PAGE_SIZE = 200
MAX_ATTRIBUTES = 100
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Ids are 64-bit signed integers in the database; a larger number is no id at all.
_MAX_ID = 2**63 - 1
_NUL_MESSAGE = "must not contain NUL (\\u0000) characters"
_BAD_CURSOR = "is not a cursor this listing gave out"


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


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


@dataclass(slots=True)
class _Checked:
    values: dict[str, Any] = field(default_factory=dict)
    company: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)

    def fail(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(field_name, message))


def check_contact_input(
    session: Session, data: Mapping[str, object], *, partial: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate contact fields; returns (column values, company fields or None).

    Raises InvalidInput listing every problem with its field, so a form or an
    API client can fix them all at once.
    """
    checked = _Checked()
    for name in sorted(set(data) - CONTACT_FIELDS):
        checked.fail(name, "is not a known field")

    if "email" in data or not partial:
        raw = data.get("email")
        if not isinstance(raw, str):
            checked.fail("email", "is required" if raw is None else "must be a string")
        else:
            try:
                checked.values["email"] = normalise_email(raw)
            except ValueError as exc:
                checked.fail("email", str(exc))

    for name, limit in TEXT_FIELDS.items():
        if name in data:
            checked.values[name] = _optional_text(checked, name, data[name], limit)

    if "time_zone" in data:
        zone = _optional_text(checked, "time_zone", data["time_zone"], 64)
        if zone is not None and zone not in _time_zones():
            checked.fail("time_zone", f"{zone!r} is not an IANA time zone like Europe/Berlin")
        checked.values["time_zone"] = zone
    if "locale" in data:
        locale = _optional_text(checked, "locale", data["locale"], 16)
        if locale is not None and not _LOCALE.match(locale):
            checked.fail("locale", f"{locale!r} is not a locale like en or de-AT")
        checked.values["locale"] = locale
    if "lifecycle_stage" in data:
        stage = data["lifecycle_stage"]
        allowed = [s.value for s in LifecycleStage]
        if stage not in allowed:
            checked.fail("lifecycle_stage", f"must be one of {', '.join(allowed)}")
        else:
            checked.values["lifecycle_stage"] = stage
    if "owner_id" in data:
        owner = data["owner_id"]
        if owner is not None and (not _is_id(owner) or session.get(User, owner) is None):
            checked.fail("owner_id", f"no user with id {owner}")
        else:
            checked.values["owner_id"] = owner
    if "company_id" in data and "company" in data:
        checked.fail("company", "give company or company_id, not both")
    elif "company_id" in data:
        company_id = data["company_id"]
        if company_id is not None and (
            not _is_id(company_id) or session.get(Company, company_id) is None
        ):
            checked.fail("company_id", f"no company with id {company_id}")
        else:
            checked.values["company_id"] = company_id
    elif "company" in data and data["company"] is not None:
        checked.company = _check_company(checked, data["company"])
    elif "company" in data:
        checked.values["company_id"] = None
    if "attributes" in data:
        checked.values["attributes"] = _check_attributes(checked, data["attributes"])

    if checked.problems:
        raise InvalidInput(checked.problems)
    return checked.values, checked.company


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


def erase_contact(session: Session, contact_id: int, *, actor: str) -> None:
    """GDPR erasure: empty every personal field, strip event properties, suppress the address.

    The row and its events' types and times stay, so aggregate reports still
    add up; nothing left can identify the person. The address survives only
    as a hash on the suppression list, so they are never mailed again.
    """
    contact = get_contact(session, contact_id)
    if contact.email:
        suppress(
            session, contact.email, reason=SuppressionReason.ERASED, detail="erased on request"
        )
    for name in ("email", *TEXT_FIELDS, "time_zone", "locale", "owner_id"):
        setattr(contact, name, None)
    contact.attributes = {}
    contact.erased_at = utcnow()
    session.execute(update(Event).where(Event.contact_id == contact_id).values(properties={}))
    # An erased person is in no segment (and so in no list a sequence could mail).
    session.execute(delete(SegmentMember).where(SegmentMember.contact_id == contact_id))
    # Audit entries may quote the person's data in their changes; keep the fact, drop the data.
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.entity_type == "contact", AuditEntry.entity_id == str(contact_id))
        .values(changes={})
    )
    audit.record(
        session, actor=actor, action="contact.erased", entity_type="contact", entity_id=contact_id
    )


def suppress(
    session: Session, email: str, *, reason: SuppressionReason, detail: str | None = None
) -> bool:
    """Put an address on the suppression list; False when it was already there."""
    digest = email_hash(normalise_email(email))
    if session.scalar(select(Suppression.id).where(Suppression.email_hash == digest)) is not None:
        return False
    session.add(Suppression(email_hash=digest, reason=reason.value, detail=detail))
    session.flush()
    return True


def is_suppressed(session: Session, email: str) -> bool:
    digest = email_hash(normalise_email(email))
    return (
        session.scalar(select(Suppression.id).where(Suppression.email_hash == digest)) is not None
    )


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
        last_id = _decode_cursor(cursor, "id")
        if not _is_id(last_id):
            raise InvalidInput.single("cursor", _BAD_CURSOR)
        stmt = stmt.where(Contact.id < last_id)
    rows = list(session.scalars(stmt.limit(limit + 1)).unique())
    next_cursor = _encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
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
        position = _decode_cursor(cursor, "t")
        try:
            written = datetime.fromisoformat(position[0])
            last_id = position[1]
            if written.tzinfo is None or not _is_id(last_id):
                raise ValueError("not a position this listing wrote")
            when = written.astimezone(UTC)
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            raise InvalidInput.single("cursor", _BAD_CURSOR) from None
        stmt = stmt.where(
            or_(Event.occurred_at < when, (Event.occurred_at == when) & (Event.id < last_id))
        )
    stmt = stmt.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor({"t": [last.occurred_at.isoformat(), last.id]})
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


def _optional_text(checked: _Checked, name: str, value: object, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        checked.fail(name, "must be a string")
        return None
    if "\x00" in value:
        checked.fail(name, _NUL_MESSAGE)
        return None
    value = value.strip()
    if len(value) > limit:
        checked.fail(name, f"must be at most {limit} characters")
        return None
    return value or None


def _check_company(checked: _Checked, raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        checked.fail("company", "must be an object with at least a name")
        return None
    for name in sorted(set(raw) - COMPANY_FIELDS):
        checked.fail(f"company.{name}", "is not a known field")
    values: dict[str, Any] = {}
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        checked.fail("company.name", "is required")
    elif "\x00" in name:
        checked.fail("company.name", _NUL_MESSAGE)
    else:
        values["name"] = name.strip()[:200]
    domain = raw.get("domain")
    if domain is not None:
        domain_text = str(domain).strip().lower().removeprefix("www.")
        if not _DOMAIN.match(domain_text):
            checked.fail("company.domain", f"{domain!r} is not a domain like example.com")
        values["domain"] = domain_text
    industry = raw.get("industry")
    if industry is not None:
        if not isinstance(industry, str) or len(industry) > 80 or "\x00" in industry:
            checked.fail("company.industry", "must be a string of at most 80 characters")
        else:
            values["industry"] = industry.strip().lower() or None
    size_band = raw.get("size_band")
    if size_band is not None:
        allowed = [s.value for s in SizeBand]
        if size_band not in allowed:
            checked.fail("company.size_band", f"must be one of {', '.join(allowed)}")
        values["size_band"] = size_band
    country = raw.get("country")
    if country is not None:
        if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country):
            checked.fail("company.country", "must be a two-letter ISO 3166 code like DE")
        else:
            values["country"] = country.upper()
    return values


def _check_attributes(checked: _Checked, raw: object) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        checked.fail("attributes", "must be an object")
        return {}
    if len(raw) > MAX_ATTRIBUTES:
        checked.fail("attributes", f"at most {MAX_ATTRIBUTES} attributes")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _ATTRIBUTE_KEY.match(key):
            checked.fail(f"attributes.{key}", "names must be letters, digits and _ (up to 64)")
        elif value is not None and not isinstance(value, str | int | float | bool | list):
            checked.fail(f"attributes.{key}", "must be a string, number, boolean, list or null")
        elif isinstance(value, str) and len(value) > 2000:
            checked.fail(f"attributes.{key}", "must be at most 2000 characters")
        elif _holds_nul(value):
            checked.fail(f"attributes.{key}", _NUL_MESSAGE)
        else:
            values[key] = value
    return values


def _is_id(value: object) -> bool:
    """Whether the value could be a row id: a positive integer that fits a BIGINT."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_ID


def _holds_nul(value: object) -> bool:
    """Whether a NUL character hides in any key or string: PostgreSQL cannot store one."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput.single("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def _encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, key: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return position[key]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput.single("cursor", _BAD_CURSOR) from None


__all__ = [
    "ContactFilter",
    "Page",
    "check_contact_input",
    "count_contacts",
    "erase_contact",
    "get_contact",
    "industries",
    "is_suppressed",
    "list_contacts",
    "suppress",
    "timeline",
    "update_contact",
    "upsert_company",
    "upsert_contact",
]

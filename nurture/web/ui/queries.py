"""Read-only queries behind the UI pages: dashboard figures, chart series, pick lists.

Everything here aggregates in SQL (COUNT / GROUP BY); Python only shapes the
already-small results for the templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from nurture.models import AuditEntry, Company, Contact, Event, User, utcnow

CHART_DAYS = 90
# Beyond this many type groups the chart folds the smallest into "other".
CHART_GROUPS = 6


@dataclass(frozen=True, slots=True)
class Figures:
    contacts: int
    companies: int
    events_30d: int
    new_contacts_30d: int


@dataclass(frozen=True, slots=True)
class Series:
    """Events per day: `labels` are ISO days, `groups` maps a type group to daily counts."""

    labels: list[str]
    groups: dict[str, list[int]]

    def as_json(self) -> dict[str, Any]:
        return {"labels": self.labels, "groups": self.groups}


def figures(session: Session, *, now: datetime | None = None) -> Figures:
    since = (now or utcnow()) - timedelta(days=30)
    live = Contact.erased_at.is_(None)
    return Figures(
        contacts=session.scalar(select(func.count(Contact.id)).where(live)) or 0,
        companies=session.scalar(select(func.count(Company.id))) or 0,
        events_30d=session.scalar(select(func.count(Event.id)).where(Event.occurred_at >= since))
        or 0,
        new_contacts_30d=session.scalar(
            select(func.count(Contact.id)).where(live, Contact.created_at >= since)
        )
        or 0,
    )


def events_per_day(
    session: Session, *, days: int = CHART_DAYS, now: datetime | None = None
) -> Series:
    """Daily event counts by type group (the part of the type before the first dot), UTC days."""
    today = (now or utcnow()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=UTC)
    dialect = session.get_bind().dialect.name
    day = _utc_day(dialect)
    group = _type_group(dialect)
    rows = session.execute(
        select(day.label("day"), group.label("grp"), func.count(Event.id))
        .where(Event.occurred_at >= since)
        .group_by(day, group)
    ).all()
    labels = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    position = {label: i for i, label in enumerate(labels)}
    totals: dict[str, int] = {}
    for _, grp, n in rows:
        totals[grp] = totals.get(grp, 0) + n
    kept = sorted(totals, key=lambda g: (-totals[g], g))[:CHART_GROUPS]
    groups: dict[str, list[int]] = {g: [0] * days for g in kept}
    for day_value, grp, n in rows:
        index = position.get(str(day_value)[:10])
        if index is None:
            continue
        key = grp if grp in groups else "other"
        groups.setdefault(key, [0] * days)[index] += n
    return Series(labels, groups)


def stage_counts(session: Session) -> list[tuple[str, int]]:
    """Live contacts per lifecycle stage, largest first."""
    rows = session.execute(
        select(Contact.lifecycle_stage, func.count(Contact.id))
        .where(Contact.erased_at.is_(None))
        .group_by(Contact.lifecycle_stage)
        .order_by(func.count(Contact.id).desc())
    ).all()
    return [(stage, n) for stage, n in rows]


def recent_events(session: Session, *, limit: int = 8) -> list[tuple[Event, Contact]]:
    rows = session.execute(
        select(Event, Contact)
        .join(Contact, Contact.id == Event.contact_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    ).all()
    return [(event, contact) for event, contact in rows]


def owners(session: Session) -> list[User]:
    """Users who can own contacts, for pick lists."""
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)))


def countries(session: Session) -> list[str]:
    """Company countries in use, for the filter menu."""
    stmt = select(Company.country).where(Company.country.is_not(None)).distinct()
    return sorted(c for c in session.scalars(stmt) if c)


def audit_page(
    session: Session, *, before: int | None = None, limit: int = 50
) -> tuple[list[AuditEntry], int | None]:
    """Audit entries newest first; returns (entries, id to pass as `before` for more)."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(session.scalars(stmt))
    more = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], more


def _utc_day(dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        # Stored as naive UTC text, so date() gives the UTC day as 'YYYY-MM-DD'.
        return func.date(Event.occurred_at)
    # timezone('UTC', timestamptz) drops the zone in UTC, whatever the session's TimeZone.
    return cast(func.timezone("UTC", Event.occurred_at), Date)


def _type_group(dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.substr(Event.type, 1, func.instr(Event.type + ".", ".") - 1)
    return func.split_part(Event.type, ".", 1)

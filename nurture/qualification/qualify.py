"""Qualification: contacts that match the MQL rule become MQLs and are handed to sales.

Exactly once: the pending hand-off is inserted first, with INSERT … ON CONFLICT DO
NOTHING on the partial unique index (one pending hand-off per contact). Of writers
racing for the same contact, one inserts the row; the others wait on its index entry,
find it taken when the winner commits, and do nothing more. Only the winner routes
the lead, moves the stage and records events. Hand-offs are inserted for every
contact of a batch, lowest id first, before any team row is locked for routing, so
two batches never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, NotFound
from nurture.events import EventInput, store_known
from nurture.models import Contact, Handoff, HandoffState, SalesRep
from nurture.qualification import mql, summary
from nurture.qualification import settings as qualification_settings
from nurture.qualification.lifecycle import MAX_REASON, change_stage
from nurture.qualification.routing import pick_owner
from nurture.qualification.sla import due_at
from segments.schema import Rule
from segments.sqlfuncs import prepare_connection

LEAD_QUALIFIED = "lead.qualified"
MQL = "mql"
SOURCE = "qualification"
# Contacts handed over per sweep run; the next run takes the rest.
SWEEP_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Qualified:
    """The hand-offs created and the events stored (lifecycle.changed, lead.qualified),
    for the caller to commit and hand to the workers."""

    handoff_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)


def check_contacts(session: Session, contact_ids: Iterable[int], *, now: datetime) -> Qualified:
    """Qualify those of `contact_ids` who match the MQL rule and may be handed over."""
    ids = sorted(set(contact_ids))
    config = qualification_settings.get(session)
    if not ids or not config.enabled:
        return Qualified()
    rule = _rule(config.mql_rule)
    if rule is None:
        return Qualified()
    return _hand_over(
        session, mql.qualifying_ids(session, rule, now=now, contact_ids=ids), rule, config, now
    )


def sweep(session: Session, *, now: datetime, limit: int = SWEEP_LIMIT) -> Qualified:
    """Qualify up to `limit` contacts among all who match now (the periodic catch-up for
    leads that matched without an event: a date in the rule passing, a rule edited)."""
    config = qualification_settings.get(session)
    if not config.enabled:
        return Qualified()
    rule = _rule(config.mql_rule)
    if rule is None:
        return Qualified()
    prepare_connection(session)
    ids = list(session.scalars(mql.qualifying(rule, now=now).limit(limit)))
    return _hand_over(session, ids, rule, config, now)


def _rule(document: dict[str, Any]) -> Rule | None:
    # Saved rules were validated; one the schema no longer accepts qualifies nobody
    # rather than failing every batch of events behind it.
    try:
        return mql.parsed(document)
    except InvalidInput:
        return None


def _hand_over(
    session: Session,
    contact_ids: Sequence[int],
    rule: Rule,
    config: qualification_settings.Settings,
    now: datetime,
) -> Qualified:
    won = claim(session, contact_ids, now)
    if not won:
        return Qualified()
    # A contact may have moved on (accepted, erased) between the check and the claim.
    stages = {
        key: value
        for key, value in session.execute(
            select(Contact.id, Contact.lifecycle_stage).where(
                Contact.id.in_(list(won)), Contact.erased_at.is_(None)
            )
        )
    }
    handoff_ids: list[int] = []
    event_ids: list[int] = []
    qualified_events: list[EventInput] = []
    for contact_id in sorted(won):
        handoff_id = won[contact_id]
        if stages.get(contact_id) not in mql.QUALIFIABLE_STAGES:
            _drop(session, handoff_id)
            continue
        brief = summary.build(session, contact_id, now=now)
        score, grade = brief["score"], brief["fit_grade"]
        reason = f"score {score}, grade {grade or 'none'}; MQL rule: {mql.describe(rule)}"
        try:
            moved = change_stage(
                session,
                contact_id,
                MQL,
                reason=reason[:MAX_REASON],
                source=SOURCE,
                now=now,
                actor="qualification",
            )
        except NotFound:
            _drop(session, handoff_id)
            continue
        pick = pick_owner(session, contact_id, fallback_owner_id=config.fallback_owner_id)
        owner_id = pick.owner_id if pick else None
        session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id)
            .values(
                owner_id=owner_id,
                team_id=pick.team_id if pick else None,
                routing_rule_id=pick.rule_id if pick else None,
                due_at=_due(session, owner_id, config, now),
                summary=brief,
            )
        )
        if owner_id is not None:
            session.execute(
                update(Contact)
                .where(Contact.id == contact_id)
                .values(owner_id=owner_id)
                .execution_options(synchronize_session=False)
            )
        handoff_ids.append(handoff_id)
        event_ids.extend(moved)
        qualified_events.append(
            EventInput(
                LEAD_QUALIFIED,
                now,
                {"handoff_id": handoff_id, "owner_id": owner_id, "score": score, "grade": grade},
                f"{LEAD_QUALIFIED}:{handoff_id}",
                contact_id=contact_id,
            )
        )
    event_ids.extend(store_known(session, qualified_events, source=SOURCE))
    return Qualified(handoff_ids, event_ids)


def claim(session: Session, contact_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Insert a pending hand-off for each contact that has none; contact id -> hand-off
    id for the rows this transaction inserted (the ones it won)."""
    if not contact_ids:
        return {}
    rows = [
        {
            "contact_id": cid,
            "state": HandoffState.PENDING.value,
            "summary": {},
            "created_at": now,
        }
        for cid in sorted(contact_ids)
    ]
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        make(Handoff)
        .values(rows)
        .on_conflict_do_nothing(
            index_elements=[Handoff.contact_id],
            # Literal, not a parameter: PostgreSQL must see it implies the index's WHERE.
            index_where=text("state = 'pending'"),
        )
        .returning(Handoff.contact_id, Handoff.id)
    )
    return {row[0]: row[1] for row in session.execute(stmt)}


def _drop(session: Session, handoff_id: int) -> None:
    session.execute(delete(Handoff).where(Handoff.id == handoff_id))


def _due(
    session: Session,
    owner_id: int | None,
    config: qualification_settings.Settings,
    now: datetime,
) -> datetime:
    zone = config.default_time_zone
    if owner_id is not None:
        zone = (
            session.scalar(select(SalesRep.time_zone).where(SalesRep.user_id == owner_id)) or zone
        )
    return due_at(
        now,
        config.sla_hours,
        zone=zone,
        work_start=config.work_start,
        work_end=config.work_end,
        work_days=config.work_days,
    )

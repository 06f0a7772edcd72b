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
from nurture.qualification.routing import Router
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
    live = [cid for cid in sorted(won) if stages.get(cid) in mql.QUALIFIABLE_STAGES]
    _drop(session, [won[cid] for cid in won if cid not in live])
    briefs = summary.build_many(session, live, now=now)
    router = Router(session, fallback_owner_id=config.fallback_owner_id)
    router.locate(live)
    due = _Clock(session, config, now)
    handoff_ids: list[int] = []
    event_ids: list[int] = []
    qualified_events: list[EventInput] = []
    handoff_rows: list[dict[str, Any]] = []
    owner_rows: list[dict[str, Any]] = []
    for contact_id in live:
        handoff_id, brief = won[contact_id], briefs[contact_id]
        score, grade = brief.get("score"), brief.get("fit_grade")
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
            _drop(session, [handoff_id])
            continue
        pick = router.pick(contact_id)
        owner_id = pick.owner_id if pick else None
        handoff_rows.append(
            {
                "id": handoff_id,
                "owner_id": owner_id,
                "team_id": pick.team_id if pick else None,
                "routing_rule_id": pick.rule_id if pick else None,
                "due_at": due.for_owner(owner_id),
                "summary": brief,
            }
        )
        if owner_id is not None:
            owner_rows.append({"id": contact_id, "owner_id": owner_id})
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
    router.finish()
    # Bulk updates by primary key: one statement each, however many were handed over.
    if handoff_rows:
        session.execute(update(Handoff), handoff_rows)
    if owner_rows:
        session.execute(update(Contact), owner_rows)
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


def _drop(session: Session, handoff_ids: list[int]) -> None:
    if handoff_ids:
        session.execute(delete(Handoff).where(Handoff.id.in_(handoff_ids)))


class _Clock:
    """Due times for one batch: the reps' zones are read once, each zone's answer kept."""

    def __init__(
        self, session: Session, config: qualification_settings.Settings, now: datetime
    ) -> None:
        self.config = config
        self.now = now
        self.zones: dict[int, str | None] = {
            uid: zone
            for uid, zone in session.execute(
                select(SalesRep.user_id, SalesRep.time_zone).where(SalesRep.time_zone.is_not(None))
            )
        }
        self.by_zone: dict[str, datetime] = {}

    def for_owner(self, owner_id: int | None) -> datetime:
        zone = self.config.default_time_zone
        if owner_id is not None:
            zone = self.zones.get(owner_id) or zone
        if zone not in self.by_zone:
            self.by_zone[zone] = due_at(
                self.now,
                self.config.sla_hours,
                zone=zone,
                work_start=self.config.work_start,
                work_end=self.config.work_end,
                work_days=self.config.work_days,
            )
        return self.by_zone[zone]

"""The SLA breach: a hand-off past its working-hours deadline goes to the team lead, once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.db import session_scope
from nurture.models import Event, Handoff, QualificationSettings, SalesRep, SalesTeam, User
from nurture.qualification import inbox
from nurture.qualification.escalation import escalate_due
from tests.factories import make_user
from tests.inbox.helpers import caller, make_handoff

# Handed over on Tuesday 1 December 2026 at 09:00 in Berlin (08:00 UTC, CET = UTC+1):
# eight working hours from the opening end at 17:00 Berlin, 16:00 UTC (worked by hand).
CREATED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def _team_with(db: Session) -> tuple[User, User, SalesTeam]:
    rep, lead = make_user(db, role="sales"), make_user(db, role="sales")
    db.add(SalesRep(user_id=rep.id, time_zone="Europe/Berlin"))
    team = SalesTeam(name="DACH", lead_id=lead.id)
    db.add(team)
    db.flush()
    return rep, lead, team


def test_a_hand_off_due_at_five_in_berlin_escalates_after_five_not_before(db: Session) -> None:
    rep, lead, team = _team_with(db)
    handoff = make_handoff(db, rep, team_id=team.id, created_at=CREATED, due_at=DUE)

    assert escalate_due(db, now=DUE - timedelta(seconds=1)) == []
    assert escalate_due(db, now=DUE) == []
    assert escalate_due(db, now=DUE + timedelta(seconds=1)) == [handoff.id]
    assert escalate_due(db, now=DUE + timedelta(hours=3)) == []

    db.refresh(handoff)
    assert handoff.escalated_to_id == lead.id
    assert handoff.escalated_at == DUE + timedelta(seconds=1)
    assert handoff.state == "pending"
    events = db.scalars(select(Event).where(Event.type == "handoff.escalated")).all()
    assert [(e.contact_id, e.properties["escalated_to_id"]) for e in events] == [
        (handoff.contact_id, lead.id)
    ]
    # Escalated, the team lead may move it to someone else.
    other = make_user(db, role="sales")
    moved = inbox.reassign(db, handoff.id, to_user_id=other.id, by=caller(lead), now=DUE)
    assert (moved.owner_id, moved.escalated_at) == (other.id, None)


def test_decided_hand_offs_are_never_escalated(db: Session) -> None:
    rep, _, team = _team_with(db)
    handoff = make_handoff(db, rep, team_id=team.id, created_at=CREATED, due_at=DUE)
    inbox.accept(db, handoff.id, user=caller(rep), now=DUE - timedelta(minutes=5))
    assert escalate_due(db, now=DUE + timedelta(hours=1)) == []


def test_without_a_team_lead_the_fallback_owner_then_an_admin_is_alerted(db: Session) -> None:
    rep, fallback, admin = (make_user(db, role=r) for r in ("sales", "sales", "admin"))
    first = make_handoff(db, rep, created_at=CREATED, due_at=DUE)
    escalate_due(db, now=DUE + timedelta(minutes=1))
    db.add(QualificationSettings(id=1, fallback_owner_id=fallback.id))
    second = make_handoff(db, rep, created_at=CREATED, due_at=DUE + timedelta(hours=1))
    escalate_due(db, now=DUE + timedelta(hours=2))

    db.refresh(first)
    db.refresh(second)
    assert (first.escalated_to_id, second.escalated_to_id) == (admin.id, fallback.id)


def test_two_sweeps_racing_escalate_each_hand_off_exactly_once(db: Session, db_url: str) -> None:
    rep, lead, team = _team_with(db)
    ids = [
        make_handoff(db, rep, team_id=team.id, created_at=CREATED, due_at=DUE).id for _ in range(20)
    ]
    db.commit()
    start = threading.Barrier(2, timeout=60)
    found: list[list[int]] = []

    def sweep() -> None:
        start.wait()
        with session_scope(db_url) as session:
            found.append(escalate_due(session, now=DUE + timedelta(minutes=1)))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(found) == 2
    assert sorted(found[0] + found[1]) == ids
    db.expire_all()
    events = db.scalars(select(Event.properties).where(Event.type == "handoff.escalated")).all()
    assert sorted(p["handoff_id"] for p in events) == ids
    leads = set(db.scalars(select(Handoff.escalated_to_id)))
    assert leads == {lead.id}

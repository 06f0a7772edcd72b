"""Accept, reject and reassign: who may act, what each does to the lead, acting once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.db import session_scope
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.models import (
    AuditEntry,
    Contact,
    Enrolment,
    Event,
    Handoff,
    QualificationSettings,
    SalesTeam,
    SalesTeamMember,
)
from nurture.qualification import inbox
from nurture.qualification.inbox import Caller, Forbidden, InboxFilter
from nurture.qualification.inbox_summary import summary_view
from tests.factories import make_user
from tests.inbox.helpers import NOW, caller, make_handoff, make_recycle_sequence


def _settings(db: Session, **fields: object) -> QualificationSettings:
    row = QualificationSettings(id=1, **fields)
    db.add(row)
    db.flush()
    return row


def test_accepting_makes_the_lead_an_sql_owned_by_the_rep(db: Session) -> None:
    rep = make_user(db, role="sales")
    handoff = make_handoff(db, rep)

    decision = inbox.accept(db, handoff.id, user=caller(rep), now=NOW)

    contact = db.get(Contact, handoff.contact_id)
    assert contact is not None
    assert (contact.lifecycle_stage, contact.owner_id) == ("sql", rep.id)
    assert (decision.handoff.state, decision.handoff.acted_by_id) == ("accepted", rep.id)
    types = {db.get(Event, i).type for i in decision.event_ids}  # type: ignore[union-attr]
    assert types == {"lifecycle.changed", "handoff.accepted"}
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "handoff"))
    assert list(actions) == ["handoff.accepted"]


def test_a_second_decision_is_a_conflict_that_says_what_happened(db: Session) -> None:
    rep = make_user(db, role="sales")
    handoff = make_handoff(db, rep)
    inbox.accept(db, handoff.id, user=caller(rep), now=NOW)

    with pytest.raises(Conflict, match="accepted already"):
        inbox.accept(db, handoff.id, user=caller(rep), now=NOW)
    with pytest.raises(Conflict, match="accepted already"):
        inbox.reject(db, handoff.id, user=caller(rep), reason="no budget", now=NOW)
    events = db.scalars(select(Event.type).where(Event.type.like("handoff.%")))
    assert list(events) == ["handoff.accepted"]


def test_only_the_owner_the_team_lead_or_an_admin_may_act(db: Session) -> None:
    rep, other, lead, admin = (make_user(db, role=r) for r in ("sales", "sales", "sales", "admin"))
    team = SalesTeam(name="DACH", lead_id=lead.id)
    db.add(team)
    db.flush()
    db.add(SalesTeamMember(team_id=team.id, user_id=rep.id))
    first = make_handoff(db, rep)
    second = make_handoff(db, rep, team_id=team.id)
    third = make_handoff(db, rep)

    with pytest.raises(Forbidden):
        inbox.accept(db, first.id, user=caller(other), now=NOW)
    with pytest.raises(Forbidden):
        inbox.get_handoff(db, first.id, caller(other))
    with pytest.raises(NotFound):
        inbox.accept(db, 10**9, user=caller(rep), now=NOW)
    with pytest.raises(Forbidden):
        inbox.accept(db, first.id, user=Caller(None, False, "apikey:1"), now=NOW)
    # The lead of the owner's team, of the hand-off's team, and an admin may.
    inbox.accept(db, first.id, user=caller(lead), now=NOW)
    inbox.reject(db, second.id, user=caller(lead), reason="wrong region", now=NOW)
    inbox.accept(db, third.id, user=caller(admin), now=NOW)
    states = {hid: state for hid, state in db.execute(select(Handoff.id, Handoff.state))}
    assert states == {first.id: "accepted", second.id: "rejected", third.id: "accepted"}


def test_rejecting_needs_a_reason_and_changes_nothing_without_one(db: Session) -> None:
    rep = make_user(db, role="sales")
    handoff = make_handoff(db, rep)

    with pytest.raises(InvalidInput) as refused:
        inbox.reject(db, handoff.id, user=caller(rep), reason="   ", now=NOW)

    assert refused.value.problems[0].field == "reason"
    db.refresh(handoff)
    assert handoff.state == "pending"
    contact = db.get(Contact, handoff.contact_id)
    assert contact is not None
    assert contact.lifecycle_stage == "mql"


def test_rejecting_recycles_the_lead_into_the_configured_sequence(db: Session) -> None:
    rep = make_user(db, role="sales")
    recycle = make_recycle_sequence(db)
    _settings(db, recycle_sequence_id=recycle.id, recycle_score_to=10)
    handoff = make_handoff(db, rep)
    contact = db.get(Contact, handoff.contact_id)
    assert contact is not None
    contact.score = 72
    db.flush()

    decision = inbox.reject(db, handoff.id, user=caller(rep), reason="no budget until Q3", now=NOW)

    db.refresh(contact)
    assert (contact.lifecycle_stage, contact.owner_id, contact.score) == ("lead", None, 10)
    assert decision.handoff.reason == "no budget until Q3"
    assert decision.handoff.recycled_sequence_id == recycle.id
    enrolment = db.scalar(select(Enrolment).where(Enrolment.contact_id == contact.id))
    assert enrolment is not None
    assert (enrolment.sequence_id, enrolment.state) == (recycle.id, "active")
    rejected = db.scalar(select(Event).where(Event.type == "handoff.rejected"))
    assert rejected is not None
    assert rejected.properties["reason"] == "no budget until Q3"
    assert rejected.properties["sequence_id"] == recycle.id


def test_the_rep_may_pick_another_sequence_but_not_a_draft_one(db: Session) -> None:
    rep = make_user(db, role="sales")
    configured = make_recycle_sequence(db, "Configured")
    chosen = make_recycle_sequence(db, "Chosen")
    _settings(db, recycle_sequence_id=configured.id)
    handoff = make_handoff(db, rep)

    with pytest.raises(InvalidInput) as refused:
        inbox.reject(db, handoff.id, user=caller(rep), reason="later", now=NOW, sequence_id=10**9)
    assert refused.value.problems[0].field == "sequence_id"
    inbox.reject(db, handoff.id, user=caller(rep), reason="later", now=NOW, sequence_id=chosen.id)

    sequences = db.scalars(select(Enrolment.sequence_id))
    assert list(sequences) == [chosen.id]


def test_reassigning_moves_the_owner_and_restarts_the_clock(db: Session) -> None:
    rep, other, marketer = (make_user(db, role=r) for r in ("sales", "sales", "marketer"))
    handoff = make_handoff(db, rep, escalated_at=NOW, notified_at=NOW)
    later = NOW + timedelta(days=1)

    with pytest.raises(InvalidInput) as refused:
        inbox.reassign(db, handoff.id, to_user_id=marketer.id, by=caller(rep), now=later)
    assert refused.value.problems[0].field == "to_user_id"
    moved = inbox.reassign(db, handoff.id, to_user_id=other.id, by=caller(rep), now=later)

    assert moved.owner_id == other.id
    assert moved.due_at is not None
    assert moved.due_at > later
    assert (moved.escalated_at, moved.notified_at) == (None, None)
    contact = db.get(Contact, handoff.contact_id)
    assert contact is not None
    assert contact.owner_id == other.id
    # The former owner no longer has a say; the new one does.
    with pytest.raises(Forbidden):
        inbox.accept(db, handoff.id, user=caller(rep), now=later)
    inbox.accept(db, handoff.id, user=caller(other), now=later)
    with pytest.raises(Conflict):
        inbox.reassign(db, handoff.id, to_user_id=rep.id, by=caller(other), now=later)


def test_an_inactive_rep_cannot_be_given_a_hand_off(db: Session) -> None:
    rep, gone = make_user(db, role="sales"), make_user(db, role="sales")
    gone.is_active = False
    handoff = make_handoff(db, rep)
    with pytest.raises(InvalidInput):
        inbox.reassign(db, handoff.id, to_user_id=gone.id, by=caller(rep), now=NOW)


def test_a_rep_sees_own_pending_first_then_decided_latest_first(db: Session) -> None:
    rep, other, admin = (make_user(db, role=r) for r in ("sales", "sales", "admin"))
    late = make_handoff(db, rep, due_at=NOW + timedelta(hours=9))
    soon = make_handoff(db, rep, due_at=NOW + timedelta(hours=1))
    done_early = make_handoff(db, rep)
    done_late = make_handoff(db, rep)
    make_handoff(db, other)
    unassigned = make_handoff(db, None)
    inbox.accept(db, done_early.id, user=caller(rep), now=NOW)
    inbox.accept(db, done_late.id, user=caller(rep), now=NOW + timedelta(minutes=5))

    mine = inbox.list_handoffs(db, caller(rep), InboxFilter())
    assert [h.id for h in mine.items] == [soon.id, late.id, done_late.id, done_early.id]
    assert inbox.pending_count(db, rep.id) == 2
    paged = inbox.list_handoffs(db, caller(rep), InboxFilter(), page=2, page_size=3)
    assert ([h.id for h in paged.items], paged.pages) == ([done_early.id], 2)
    with pytest.raises(Forbidden):
        inbox.list_handoffs(db, caller(rep), InboxFilter(scope="all"))
    everyone = inbox.list_handoffs(db, caller(admin), InboxFilter(scope="all"))
    assert everyone.total == 6
    nobody = inbox.list_handoffs(db, caller(admin), InboxFilter(scope="unassigned"))
    assert [h.id for h in nobody.items] == [unassigned.id]


def test_accept_and_reject_racing_decide_exactly_once(db: Session, db_url: str) -> None:
    rep = make_user(db, role="sales")
    handoff = make_handoff(db, rep)
    db.commit()
    start = threading.Barrier(2, timeout=60)
    answers: dict[str, str] = {}

    def click(action: str) -> None:
        start.wait()
        try:
            with session_scope(db_url) as session:
                if action == "accept":
                    inbox.accept(session, handoff.id, user=caller(rep), now=NOW)
                else:
                    inbox.reject(session, handoff.id, user=caller(rep), reason="no", now=NOW)
            answers[action] = "done"
        except Conflict:
            answers[action] = "conflict"

    threads = [threading.Thread(target=click, args=(a,)) for a in ("accept", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers.values()) == ["conflict", "done"]
    db.expire_all()
    stored = db.get(Handoff, handoff.id)
    assert stored is not None
    winner = "accept" if stored.state == "accepted" else "reject"
    assert answers[winner] == "done"
    events = db.scalars(select(Event.type).where(Event.type.like("handoff.%"))).all()
    assert events == [f"handoff.{stored.state}"]
    changes = db.scalars(select(Event.type).where(Event.type == "lifecycle.changed")).all()
    assert len(changes) == 1


def test_the_summary_reads_as_qualification_writes_it() -> None:
    view = summary_view(
        {
            "score": 64,
            "fit_grade": "A",
            "predicted_probability": 0.42,
            "score_explanation": None,
            "company": {"id": 3, "name": "Brandt & Partner", "industry": "legal"},
            "recent_activity": [
                {
                    "type": "page.visited",
                    "occurred_at": "2026-11-30T14:05:00+00:00",
                    "properties": {"title": "Pricing"},
                }
            ],
            "content_consumed": [{"kind": "case_study", "title": None, "ref": "/case-studies/x"}],
            "sequences": [{"name": "Legal nurture", "state": "active", "step": "cs-2"}],
            "nps": [{"score": 9, "comment": "Great team", "occurred_at": "2026-01-01"}],
        }
    )
    assert (view.score, view.grade, view.probability) == (64, "A", 0.42)
    assert view.why == []
    assert view.company == {"name": "Brandt & Partner", "industry": "legal"}
    activities = [(a.when, a.what) for a in view.activities]
    assert activities == [("30 Nov 14:05", "page.visited: Pricing")]
    assert view.content == ["Case study: /case-studies/x"]
    assert view.sequences == ["Legal nurture (active), step cs-2"]
    assert view.nps == "9 — Great team"

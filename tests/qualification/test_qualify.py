"""Qualification: who becomes an MQL and is handed over, once, with an owner, a due time
and a summary; who is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.contacts.addresses import email_hash
from nurture.models import Contact, Event, HandoffState, LifecycleChange, Suppression
from nurture.qualification.deadlines import due_for_owner
from nurture.qualification.qualify import check_contacts, claim, sweep
from nurture.qualification.routing_rules import create_rule
from nurture.qualification.teams import create_team, update_rep
from tests.qualification.helpers import enable, events, handoffs, lead, rep

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday


def test_a_ready_lead_becomes_an_mql_with_a_pending_handoff(db: Session) -> None:
    owner = rep(db)
    enable(db, fallback_owner_id=owner.id, sla_hours=4, default_time_zone="UTC")
    ready = lead(db, score=64, grade="B")
    db.add(
        Event(
            contact_id=ready.id,
            type="page.visited",
            occurred_at=NOW - timedelta(days=1),
            properties={"path": "/case-studies/legal", "title": "Case studies: legal"},
        )
    )
    db.flush()

    result = check_contacts(db, [ready.id], now=NOW)

    db.refresh(ready)
    assert ready.lifecycle_stage == "mql"
    assert ready.owner_id == owner.id
    [handoff] = handoffs(db)
    assert result.handoff_ids == [handoff.id]
    assert handoff.state == HandoffState.PENDING.value
    assert handoff.owner_id == owner.id
    assert handoff.due_at == NOW + timedelta(hours=4)
    assert handoff.summary["score"] == 64
    assert handoff.summary["fit_grade"] == "B"
    # No scoring rule here (the score was set by hand): the explanation has no rule lines.
    assert handoff.summary["score_explanation"]["rules"] == []
    assert handoff.summary["predicted_probability"] is None
    assert handoff.summary["content_consumed"][0]["kind"] == "case_study"
    assert handoff.summary["recent_activity"][0]["type"] == "page.visited"
    [qualified] = events(db, "lead.qualified")
    assert qualified.properties == {
        "handoff_id": handoff.id,
        "owner_id": owner.id,
        "score": 64,
        "grade": "B",
    }
    [changed] = events(db, "lifecycle.changed")
    assert sorted(result.event_ids) == sorted([qualified.id, changed.id])
    reason = db.scalars(select(LifecycleChange.reason)).one()
    assert reason.startswith("score 64, grade B; MQL rule: lead score ≥ 60, fit grade at least B")


def test_a_lead_is_not_qualified_twice_while_its_handoff_is_pending(db: Session) -> None:
    enable(db)
    ready = lead(db)
    first = check_contacts(db, [ready.id], now=NOW)
    again = check_contacts(db, [ready.id], now=NOW + timedelta(minutes=1))
    swept = sweep(db, now=NOW + timedelta(minutes=2))

    assert len(first.handoff_ids) == 1
    assert again.handoff_ids == []
    assert again.event_ids == []
    assert swept.handoff_ids == []
    assert len(events(db, "lead.qualified")) == 1


def test_an_mql_whose_handoff_was_rejected_can_qualify_again(db: Session) -> None:
    enable(db)
    ready = lead(db)
    check_contacts(db, [ready.id], now=NOW)
    [handoff] = handoffs(db)
    handoff.state = HandoffState.REJECTED.value
    db.flush()

    again = check_contacts(db, [ready.id], now=NOW + timedelta(days=1))

    assert len(again.handoff_ids) == 1
    # Already an MQL: no second stage move, but a new hand-off and lead.qualified.
    assert len(events(db, "lifecycle.changed")) == 1
    assert len(events(db, "lead.qualified")) == 2


def test_who_is_left_alone(db: Session) -> None:
    enable(db)
    low = lead(db, score=59)
    poor_fit = lead(db, grade="C")
    customer = lead(db, lifecycle_stage="customer")
    sql = lead(db, lifecycle_stage="sql")
    erased = lead(db)
    erased.erased_at = NOW
    suppressed = lead(db)
    assert suppressed.email is not None
    db.add(Suppression(email_hash=email_hash(suppressed.email), reason="unsubscribed"))
    db.flush()
    ids = [low.id, poor_fit.id, customer.id, sql.id, erased.id, suppressed.id]

    assert check_contacts(db, ids, now=NOW).handoff_ids == []
    assert sweep(db, now=NOW).handoff_ids == []
    assert handoffs(db) == []
    assert events(db, "lead.qualified") == []


def test_nothing_happens_while_qualification_is_off(db: Session) -> None:
    ready = lead(db)
    assert check_contacts(db, [ready.id], now=NOW).handoff_ids == []
    enable(db, enabled=False)
    assert check_contacts(db, [ready.id], now=NOW).handoff_ids == []
    assert sweep(db, now=NOW).handoff_ids == []


def test_the_marketers_rule_decides(db: Session) -> None:
    rule = {
        "version": 1,
        "rule": {"all": [{"field": "title", "op": "contains", "value": "partner"}]},
    }
    enable(db, mql_rule=rule)
    partner = lead(db, score=0, grade=None, title="Partner")
    associate = lead(db, score=99, grade="A", title="Associate")

    result = check_contacts(db, [partner.id, associate.id], now=NOW)

    assert [h.contact_id for h in handoffs(db)] == [partner.id]
    assert len(result.handoff_ids) == 1


def test_the_sweep_finds_leads_no_event_pointed_at(db: Session) -> None:
    enable(db)
    ready = [lead(db) for _ in range(3)]
    lead(db, score=10)

    result = sweep(db, now=NOW, limit=2)
    rest = sweep(db, now=NOW)

    assert len(result.handoff_ids) == 2
    assert len(rest.handoff_ids) == 1
    assert sorted(h.contact_id for h in handoffs(db)) == sorted(c.id for c in ready)


def test_with_nobody_to_take_it_the_handoff_waits_unassigned(db: Session) -> None:
    enable(db)
    ready = lead(db)

    check_contacts(db, [ready.id], now=NOW)

    [handoff] = handoffs(db)
    assert handoff.owner_id is None
    assert handoff.state == HandoffState.PENDING.value
    assert db.get(Contact, ready.id) is not None
    [qualified] = events(db, "lead.qualified")
    assert qualified.properties["owner_id"] is None


def test_the_due_time_counts_in_the_owners_zone(db: Session) -> None:
    owner = rep(db)
    update_rep(db, owner.id, {"time_zone": "America/New_York"}, actor="test")
    create_rule(db, {"name": "All", "owner_id": owner.id}, actor="test")
    enable(db, sla_hours=2, default_time_zone="Europe/Berlin")
    ready = lead(db)

    check_contacts(db, [ready.id], now=NOW)  # 05:00 in New York: counting starts at 09:00

    [handoff] = handoffs(db)
    assert handoff.owner_id == owner.id
    assert handoff.routing_rule_id is not None
    assert handoff.due_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def test_the_claim_inserts_a_pending_handoff_once_per_contact(db: Session) -> None:
    # The exactly-once guard itself, on both databases: a second claim of the same
    # contacts, as a racing worker would make after the first committed, wins nothing.
    first, second = lead(db), lead(db)

    won = claim(db, [first.id, second.id], NOW)
    again = claim(db, [second.id, first.id], NOW)

    assert sorted(won) == sorted([first.id, second.id])
    assert again == {}
    assert sorted(h.id for h in handoffs(db)) == sorted(won.values())


def test_capacity_holds_within_one_batch(db: Session) -> None:
    capped, roomy = rep(db), rep(db)
    update_rep(db, capped.id, {"capacity": 1}, actor="test")
    team = create_team(db, {"name": "T", "member_ids": [capped.id, roomy.id]}, actor="test")
    create_rule(db, {"name": "All", "team_id": team.id}, actor="test")
    enable(db)
    ids = [lead(db).id for _ in range(4)]

    check_contacts(db, ids, now=NOW)

    owners = [h.owner_id for h in handoffs(db)]
    assert owners.count(capped.id) == 1
    assert owners.count(roomy.id) == 3
    again = [lead(db).id]
    check_contacts(db, again, now=NOW)
    assert handoffs(db, again[0])[0].owner_id == roomy.id


def test_a_restarted_clock_uses_the_new_owners_zone(db: Session) -> None:
    owner = rep(db)
    update_rep(db, owner.id, {"time_zone": "America/New_York"}, actor="test")
    enable(db, sla_hours=2, default_time_zone="UTC")

    assert due_for_owner(db, owner.id, NOW) == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert due_for_owner(db, None, NOW) == NOW + timedelta(hours=2)

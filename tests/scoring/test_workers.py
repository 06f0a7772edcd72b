"""Scoring in the workers: ingested events move the score through `process_events`,
and the tick sends the full rescore once after a rule change (and daily)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import Contact, utcnow
from nurture.scoring import schedule, store
from tests.factories import make_contact
from tests.scoring.helpers import add_events, behaviour_rule
from tests.stub_worker import drain, stub_worker
from workers import actors


def score(url: str, contact_id: int) -> tuple[int, str | None]:
    with session_scope(url) as db:
        contact = db.get(Contact, contact_id)
        assert contact is not None
        return contact.score, contact.fit_grade


def test_processed_events_update_the_score(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(db_url) as db:
        behaviour_rule(db, event_type="webinar.attended", points=15)
        lead = make_contact(db)
        ids = add_events(db, lead.id, "webinar.attended", utcnow())
    with stub_worker(settings, monkeypatch) as stub:
        actors.process_events.send(ids)
        drain(stub)
        assert score(db_url, lead.id) == (15, None)
        # A redelivered message finds nothing to do and changes nothing.
        actors.process_events.send(ids)
        drain(stub)
    assert score(db_url, lead.id) == (15, None)


def test_a_rule_change_is_applied_by_the_rescore_the_tick_sends(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(db_url) as db:
        lead = make_contact(db, title="Partner")
        add_events(db, lead.id, "webinar.attended", utcnow())
        rule = behaviour_rule(db, event_type="webinar.attended", points=15)
        store.create_fit_rule(
            db,
            {
                "name": "p",
                "points": 50,
                "condition": {"field": "title", "op": "contains", "value": "partner"},
            },
            actor="test",
        )
    with stub_worker(settings, monkeypatch) as stub:
        actors.tick.send()
        drain(stub)
        assert score(db_url, lead.id) == (15, "A")
        with session_scope(db_url) as db:
            store.update_behaviour_rule(db, rule.id, {"points": 25}, actor="test")
        actors.tick.send()
        drain(stub)
        assert score(db_url, lead.id) == (25, "A")


def test_the_rescore_is_claimed_once_per_change_or_day(db: Session) -> None:
    now = utcnow() - timedelta(days=3)
    assert schedule.claim_rescore(db, now=now)
    assert not schedule.claim_rescore(db, now=now)
    schedule.start_rescore(db, now=now)
    assert not schedule.claim_rescore(db, now=now + timedelta(hours=3))
    assert schedule.claim_rescore(db, now=now + timedelta(days=1, minutes=1))
    schedule.start_rescore(db, now=now + timedelta(days=1, minutes=1))
    store.update_settings(db, {"half_life_days": 5}, actor="test")
    # A change (stamped with the real clock, after the synthetic times above).
    assert schedule.claim_rescore(db, now=utcnow() + timedelta(minutes=1))
    assert not schedule.claim_rescore(db, now=utcnow() + timedelta(minutes=2))
    assert db.scalars(select(Contact)).all() == []

"""Scores from events: points, property conditions, caps, thresholds, decay with the
clock passed in, fit grades, resets, explanations that add up, and redelivery."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Contact, ScoreHistory
from nurture.scoring import engine, store
from nurture.scoring.explain import explain, score_history
from tests.factories import make_contact
from tests.scoring.helpers import add_events, behaviour_rule, fit_rule

# Noon, mid-window: 2026-06-01 is day 20605 since 1970, so 7- and 30-day windows do not
# start here (20605 = 7·2943 + 4 = 30·686 + 25).
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PRICING = [{"property": "url", "op": "contains", "value": "pricing"}]


def score_of(db: Session, contact: Contact) -> int:
    db.refresh(contact)
    return contact.score


def test_points_for_matching_events_only(db: Session) -> None:
    behaviour_rule(db, event_type="webinar.attended", points=15)
    behaviour_rule(db, event_type="email.clicked", points=10, where=PRICING)
    behaviour_rule(db, event_type="email.unsubscribed", points=-50)
    lead, other = make_contact(db), make_contact(db)
    ids = add_events(db, lead.id, "webinar.attended", NOW)
    ids += add_events(db, lead.id, "email.clicked", NOW, url="https://firm.example/PRICING")
    ids += add_events(db, lead.id, "email.clicked", NOW, url="https://firm.example/blog")
    ids += add_events(db, lead.id, "email.opened", NOW)
    ids += add_events(db, other.id, "email.unsubscribed", NOW)
    assert engine.apply_events(db, ids, now=NOW) == {lead.id, other.id}
    assert score_of(db, lead) == 25
    assert score_of(db, other) == -50


def test_a_cap_limits_the_points_per_period(db: Session) -> None:
    behaviour_rule(db, event_type="email.clicked", points=10, cap_points=25, cap_days=30)
    lead = make_contact(db)
    # Four clicks in one 30-day period (10 + 10 + 5 + 0), two in the next.
    first = [NOW - timedelta(days=3, hours=h) for h in range(4)]
    later = [NOW + timedelta(days=40, hours=h) for h in range(2)]
    ids = add_events(db, lead.id, "email.clicked", *first, *later)
    end = NOW + timedelta(days=41)
    engine.apply_events(db, ids, now=end)
    explained = explain(db, lead.id, now=end)
    assert sorted(i.points for i in explained.items) == [5.0, 10.0, 10.0, 10.0, 10.0]


def test_a_negative_rule_is_capped_by_its_size(db: Session) -> None:
    behaviour_rule(db, event_type="email.bounced", points=-20, cap_points=30, cap_days=30)
    lead = make_contact(db)
    ids = add_events(db, lead.id, "email.bounced", NOW, NOW, NOW)
    engine.apply_events(db, ids, now=NOW)
    assert score_of(db, lead) == -30


def test_a_threshold_awards_once_per_window(db: Session) -> None:
    behaviour_rule(
        db, event_type="case_study.viewed", points=8, threshold_count=3, threshold_days=7
    )
    lead, slow = make_contact(db), make_contact(db)
    # NOW is day 4 of its 7-day window: five reads in it earn 8 once.
    ids = add_events(
        db, lead.id, "case_study.viewed", *[NOW + timedelta(hours=h) for h in range(5)]
    )
    # Two reads in one window and one in the next: not three within a window.
    ids += add_events(
        db, slow.id, "case_study.viewed", NOW, NOW + timedelta(hours=1), NOW + timedelta(days=7)
    )
    end = NOW + timedelta(days=8)
    engine.apply_events(db, ids, now=end)
    assert [i.points for i in explain(db, lead.id, now=end).items] == [8.0]
    assert score_of(db, slow) == 0


def test_scores_halve_every_half_life(db: Session) -> None:
    store.update_settings(db, {"half_life_days": 10}, actor="test")
    behaviour_rule(db, event_type="webinar.attended", points=40)
    lead = make_contact(db)
    ids = add_events(db, lead.id, "webinar.attended", NOW)
    engine.apply_events(db, ids, now=NOW)
    assert score_of(db, lead) == 40
    engine.rescore_all(db, now=NOW + timedelta(days=10))
    assert score_of(db, lead) == 20
    engine.rescore_all(db, now=NOW + timedelta(days=30))
    assert score_of(db, lead) == 5
    # An event stamped after `now` (a client clock ahead) counts in full, not more.
    ahead = add_events(db, lead.id, "webinar.attended", NOW + timedelta(days=31))
    engine.apply_events(db, ahead, now=NOW + timedelta(days=30))
    assert score_of(db, lead) == 45


def test_fit_rules_grade_contacts(db: Session) -> None:
    fit_rule(
        db,
        {
            "any": [
                {"field": "title", "op": "contains", "value": "partner"},
                {"field": "title", "op": "contains", "value": "director"},
            ]
        },
        20,
    )
    fit_rule(db, {"field": "company.size_band", "op": "at_least", "value": "51-200"}, 15)
    fit_rule(db, {"field": "company.industry", "op": "in", "value": ["legal", "finance"]}, 10)
    fit_rule(db, {"field": "attributes.budget", "op": "gte", "value": 50000}, -5)
    big = {"name": "Big", "domain": "big.example", "size_band": "201-1000", "industry": "legal"}
    a = make_contact(db, title="Managing Partner", company=big)
    b = make_contact(
        db,
        title="Director of IT",
        company={"name": "Small", "size_band": "11-50", "industry": "legal"},
    )
    c = make_contact(
        db, title="Analyst", company={"name": "Mid", "size_band": "51-200", "industry": "retail"}
    )
    d = make_contact(db, title="Intern", attributes={"budget": 90000})
    changed = engine.rescore_contacts(db, [a.id, b.id, c.id, d.id], now=NOW)
    assert changed == {a.id, b.id, c.id, d.id}
    grades = {x.id: x.fit_grade for x in db.scalars(select(Contact))}
    assert grades == {a.id: "A", b.id: "B", c.id: "C", d.id: "D"}
    store.update_settings(db, {"grade_a": 50, "grade_b": 40, "grade_c": 30}, actor="test")
    engine.rescore_all(db, now=NOW)
    assert {x.id: x.fit_grade for x in db.scalars(select(Contact))} == {
        a.id: "B",
        b.id: "C",
        c.id: "D",
        d.id: "D",
    }


def test_without_fit_rules_nobody_is_graded(db: Session) -> None:
    lead = make_contact(db, title="Partner")
    engine.rescore_all(db, now=NOW)
    db.refresh(lead)
    assert lead.fit_grade is None


def test_the_explanation_adds_up_to_the_score(db: Session) -> None:
    store.update_settings(db, {"half_life_days": 7}, actor="test")
    behaviour_rule(db, event_type="webinar.attended", points=15)
    behaviour_rule(
        db, event_type="email.clicked", points=10, where=PRICING, cap_points=30, cap_days=30
    )
    behaviour_rule(
        db, event_type="case_study.viewed", points=8, threshold_count=3, threshold_days=7
    )
    fit_rule(db, {"field": "title", "op": "contains", "value": "partner"}, 30)
    lead = make_contact(db, title="Partner")
    times = [NOW - timedelta(days=d, hours=3) for d in range(0, 40, 3)]
    ids = add_events(db, lead.id, "email.clicked", *times, url="/pricing")
    ids += add_events(db, lead.id, "webinar.attended", NOW - timedelta(days=2))
    ids += add_events(db, lead.id, "case_study.viewed", *times[:4])
    engine.apply_events(db, ids, now=NOW)
    engine.set_score(db, [lead.id], 10, now=NOW - timedelta(days=1), reason="seed")
    later = NOW + timedelta(days=5, hours=7)
    engine.rescore_all(db, now=later)
    explained = explain(db, lead.id, now=later)
    assert explained.score == score_of(db, lead)
    assert sum(i.contribution for i in explained.items) == pytest.approx(explained.total)
    assert sum(s.contribution for s in explained.by_rule) == pytest.approx(explained.total)
    assert round(explained.total) == explained.score
    assert {s.name for s in explained.by_rule} >= {"Adjustments", "rule webinar.attended"}
    assert (explained.grade, explained.fit_points) == ("B", 30)
    assert [m.points for m in explained.fit_matches] == [30]


def test_set_score_resets_and_the_reset_decays(db: Session) -> None:
    behaviour_rule(db, event_type="webinar.attended", points=70)
    lead = make_contact(db)
    engine.apply_events(db, add_events(db, lead.id, "webinar.attended", NOW), now=NOW)
    later = NOW + timedelta(days=3)
    assert engine.set_score(db, [lead.id], 0, now=later, reason="recycled") == {lead.id}
    assert score_of(db, lead) == 0
    engine.rescore_all(db, now=later + timedelta(days=50))
    assert score_of(db, lead) == 0
    # New engagement counts from zero again.
    engine.apply_events(db, add_events(db, lead.id, "webinar.attended", later), now=later)
    assert score_of(db, lead) == 70
    explained = explain(db, lead.id, now=later)
    assert explained.score == 70
    assert [i.reason for i in explained.items if i.kind == "adjustment"] == ["recycled"]


def test_a_redelivered_batch_changes_nothing(db: Session) -> None:
    behaviour_rule(db, event_type="webinar.attended", points=15, cap_points=20, cap_days=30)
    lead = make_contact(db)
    ids = add_events(db, lead.id, "webinar.attended", NOW, NOW + timedelta(hours=1))
    assert engine.apply_events(db, ids, now=NOW) == {lead.id}
    assert engine.apply_events(db, ids, now=NOW) == set()
    assert engine.apply_events(db, ids[:1], now=NOW) == set()
    assert score_of(db, lead) == 20


def test_history_keeps_one_row_per_day_it_changed(db: Session) -> None:
    behaviour_rule(db, event_type="webinar.attended", points=16)
    lead = make_contact(db)
    engine.apply_events(db, add_events(db, lead.id, "webinar.attended", NOW), now=NOW)
    engine.apply_events(db, add_events(db, lead.id, "webinar.attended", NOW), now=NOW)
    engine.rescore_all(db, now=NOW + timedelta(days=30))
    engine.rescore_all(db, now=NOW + timedelta(days=30, hours=1))
    assert score_history(db, lead.id) == [(date(2026, 6, 1), 32), (date(2026, 7, 1), 16)]
    assert len(db.scalars(select(ScoreHistory)).all()) == 2


def test_erased_contacts_are_left_alone(db: Session) -> None:
    behaviour_rule(db, event_type="webinar.attended", points=15)
    lead = make_contact(db)
    ids = add_events(db, lead.id, "webinar.attended", NOW)
    lead.erased_at = NOW
    db.flush()
    assert engine.apply_events(db, ids, now=NOW) == set()
    assert engine.rescore_all(db, now=NOW) == 0

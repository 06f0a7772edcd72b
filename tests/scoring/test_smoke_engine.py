from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from nurture.scoring import engine
from tests.factories import make_contact
from tests.scoring.helpers import add_events, behaviour_rule, fit_rule

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_smoke(db: Session) -> None:
    behaviour_rule(db, event_type="webinar.attended", points=15)
    behaviour_rule(
        db,
        event_type="email.clicked",
        points=10,
        where=[{"property": "url", "op": "contains", "value": "pricing"}],
        cap_points=15,
        cap_days=30,
    )
    behaviour_rule(
        db, event_type="case_study.viewed", points=8, threshold_count=3, threshold_days=7
    )
    fit_rule(db, {"field": "title", "op": "contains", "value": "partner"}, 30)
    c = make_contact(db, title="Partner")
    ids = add_events(db, c.id, "webinar.attended", NOW)
    ids += add_events(db, c.id, "email.clicked", NOW, NOW, url="https://x/pricing")
    ids += add_events(db, c.id, "case_study.viewed", NOW, NOW, NOW)
    changed = engine.apply_events(db, ids, now=NOW)
    db.refresh(c)
    assert changed == {c.id}
    assert c.score == 15 + 15 + 8
    assert c.fit_grade == "B"
    assert engine.apply_events(db, ids, now=NOW) == set()
    assert engine.rescore_all(db, now=NOW + timedelta(days=30)) == 1
    db.refresh(c)
    assert c.score == 19

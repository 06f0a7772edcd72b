"""The incremental path, the full rescore and a plain-Python reference agree on random
data: events arrive in shuffled batches (late ones included, some batches twice), and
every contact ends with the score the reference computes from the rules alone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nurture.events import EventInput, store_known
from nurture.models import Contact
from nurture.scoring import engine, store
from tests.factories import make_contact
from tests.scoring import reference
from tests.scoring.reference import Ev, Rule

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
TYPES = ("email.clicked", "webinar.attended", "case_study.viewed", "email.unsubscribed")
URLS = (
    "https://firm.example/pricing",
    "https://firm.example/Pricing/plans",
    "https://firm.example/blog",
)
RULES = [
    Rule("webinar.attended", 15),
    Rule("email.clicked", 10, where=(("url", "contains", "pricing"),), cap_points=25, cap_days=30),
    Rule("email.clicked", 2),
    Rule("case_study.viewed", 8, threshold_count=3, threshold_days=7),
    Rule("case_study.viewed", 3, threshold_count=2, threshold_days=5, cap_points=4, cap_days=14),
    Rule("email.unsubscribed", -50, cap_points=50, cap_days=365),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_batches_equal_the_full_rescore_and_the_reference(
    db: Session, seed: int
) -> None:
    rng = random.Random(seed)
    store.update_settings(db, {"half_life_days": rng.choice([3.5, 10, 30])}, actor="test")
    for rule in RULES:
        store.create_behaviour_rule(db, rule.document(), actor="test")
    people = [make_contact(db).id for _ in range(12)]
    planned = [
        EventInput(
            rng.choice(TYPES),
            NOW - timedelta(seconds=rng.randrange(0, 90 * 86400)),
            {"url": rng.choice(URLS)},
            None,
            rng.choice(people),
        )
        for _ in range(300)
    ]
    stored: list[Ev] = []
    # Shuffled batches: an event may arrive after later ones, as real ingest allows.
    rng.shuffle(planned)
    for start in range(0, len(planned), 37):
        batch = planned[start : start + 37]
        ids = store_known(db, batch, source="test")
        stored += [
            Ev(i, e.contact_id or 0, e.type, e.occurred_at, e.properties)
            for i, e in zip(ids, batch, strict=True)
        ]
        engine.apply_events(db, ids, now=NOW)
        if rng.random() < 0.3:
            assert engine.apply_events(db, ids, now=NOW) == set()
    incremental = _scores(db)

    expected = reference.scores(
        RULES, stored, now=NOW, half_life_days=store.get_settings(db).half_life_days
    )
    assert incremental == {c: expected.get(c, 0) for c in people}

    db.execute(update(Contact).values(score=0))
    db.expire_all()
    engine.rescore_all(db, now=NOW)
    assert _scores(db) == incremental


def _scores(db: Session) -> dict[int, int]:
    db.expire_all()
    return dict(db.execute(select(Contact.id, Contact.score)).all())

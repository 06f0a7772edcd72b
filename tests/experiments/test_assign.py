"""Assignment: a keyed hash decides, the first choice is kept, only running tests expose."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.experiments.assign import Member, bucket, choose, pick
from nurture.models import Experiment, ExperimentVariant, Exposure
from tests.factories import make_contact

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _experiment(
    db: Session, *, status: str = "running", weights: tuple[float, ...] = (0.5, 0.5)
) -> Experiment:
    experiment = Experiment(name="subject test", kind="step", status=status, salt="s3cret")
    db.add(experiment)
    db.flush()
    for index, weight in enumerate(weights):
        db.add(
            ExperimentVariant(
                experiment_id=experiment.id, key="abc"[index], position=index, weight=weight
            )
        )
    db.commit()
    return experiment


def test_the_bucket_is_fixed_per_salt_and_contact_and_spreads_evenly() -> None:
    assert bucket("x", 7) == bucket("x", 7)
    assert bucket("x", 7) != bucket("y", 7)
    counts = Counter(pick(bucket("x", cid), [("a", 0.2), ("b", 0.8)]) for cid in range(20_000))
    assert 0.18 < counts["a"] / 20_000 < 0.22


def test_a_contact_keeps_its_first_variant_even_when_the_weights_move(db: Session) -> None:
    experiment = _experiment(db)
    contacts = [make_contact(db) for _ in range(40)]
    db.commit()
    members = [Member(c.id, message_key=f"k:{c.id}") for c in contacts]
    first = choose(db, experiment.id, members, now=NOW)
    db.commit()
    assert {c.variant_key for c in first.values()} == {"a", "b"}
    assert all(c.exposed for c in first.values())
    for variant in db.scalars(select(ExperimentVariant)):
        variant.weight = 1.0 if variant.key == "b" else 0.0
    db.commit()
    again = choose(db, experiment.id, members, now=NOW)
    db.commit()
    assert again == first
    assert db.scalar(select(func.count()).select_from(Exposure)) == 40


def test_a_draft_or_decided_test_exposes_nobody(db: Session) -> None:
    draft = _experiment(db, status="draft")
    contact = make_contact(db)
    db.commit()
    assert choose(db, draft.id, [Member(contact.id)], now=NOW)[contact.id].variant_key == "a"
    draft.status, draft.winner_variant = "decided", "b"
    db.commit()
    chosen = choose(db, draft.id, [Member(contact.id)], now=NOW)[contact.id]
    assert (chosen.variant_key, chosen.exposed) == ("b", False)
    assert db.scalar(select(func.count()).select_from(Exposure)) == 0
